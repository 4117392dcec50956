"""Calibrated probabilities and conformal intervals for the shipped checkpoints (fitted on validation, measured
on test), and their use at prediction time. ``workbench models calibrate`` runs it; see ``methods``, ``checkpoint``,
``report``; predictions apply it through :mod:`workbench.predict.calibration`."""

from workbench.calibrate.methods import COVERAGE, METHODS, choose_classifier, fit_regression
from workbench.predict.calibration import (
    apply_task,
    calibrate_predictions,
    calibrate_table,
    interval_halfwidths,
    task_calibrations,
)

__all__ = [
    "COVERAGE",
    "METHODS",
    "apply_task",
    "calibrate_predictions",
    "calibrate_table",
    "choose_classifier",
    "fit_regression",
    "interval_halfwidths",
    "task_calibrations",
]
