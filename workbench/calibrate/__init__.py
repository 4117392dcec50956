"""Calibrated probabilities and conformal intervals for the shipped checkpoints (fitted on validation, measured
on test), and their use at prediction time. ``workbench models calibrate`` runs it; see ``methods``, ``checkpoint``,
``apply`` and ``report``."""

from workbench.calibrate.apply import calibrate_predictions, calibrate_table, interval_halfwidths, task_calibrations
from workbench.calibrate.methods import COVERAGE, METHODS, apply_task, choose_classifier, fit_regression

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
