"""Use a card's calibration at prediction time: calibrated probabilities and conformal interval bounds.

A checkpoint calibrated by ``workbench models calibrate`` carries a ``calibration`` block in its card (one entry
per task, fitted by :mod:`workbench.calibrate.methods`; :func:`apply_task` applies one).
:func:`calibrate_predictions` turns the raw ensemble mean of a classification task into the calibrated
probability and its members into calibrated members (their spread is the ensemble std in probability units);
:func:`interval_halfwidths` gives each regression task's conformal half-width for the ``MODEL:TASK:lo`` /
``:hi`` columns.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from workbench.models import ModelCard

__all__ = [
    "apply_task",
    "calibrate_predictions",
    "calibrate_table",
    "interval_halfwidths",
    "raw_mean_std",
    "task_calibrations",
]

_EPS = 1e-6


def apply_task(stored: Mapping[str, Any], values: np.ndarray) -> np.ndarray:
    """Calibrated probabilities for a classification task (NaN stays NaN); a regression task's values unchanged.

    ``platt``: ``sigmoid(a · logit(p) + b)``; ``isotonic``: linear interpolation between the stored knots.
    """
    values = np.asarray(values, dtype=np.float64)
    method = stored.get("method", "none")
    out = values.copy()
    finite = np.isfinite(values)
    if method == "platt":
        p = np.clip(values[finite], _EPS, 1 - _EPS)
        out[finite] = 1 / (1 + np.exp(-(float(stored["a"]) * np.log(p / (1 - p)) + float(stored["b"]))))
    elif method == "isotonic":
        out[finite] = np.interp(values[finite], stored["x"], stored["y"])
    return out


def raw_mean_std(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std over members of ``values`` (members × rows × tasks); members without a value left out."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=0)
        return mean, (np.nanstd(values, axis=0) if values.shape[0] > 1 else np.zeros_like(mean))


def task_calibrations(card: ModelCard) -> list[dict] | None:
    """The card's calibration entries in task order, or ``None`` when it has none (or they do not match)."""
    block = card.calibration or {}
    entries = {entry.get("task"): entry for entry in block.get("tasks", [])}
    if not entries or set(entries) != set(card.task_names):
        return None
    return [entries[task] for task in card.task_names]


def calibrate_predictions(card: ModelCard, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(mean, std)`` over members of ``values`` (members × rows × tasks), classification tasks calibrated.

    The mean is the calibrator applied to the raw ensemble mean (what it was fitted on); the std is the spread of
    the calibrated members. Members without a prediction (NaN) are left out.
    """
    entries = task_calibrations(card)
    if entries is None:
        return raw_mean_std(values)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(values, axis=0)
        members = values.astype(np.float64, copy=True)
        for t, entry in enumerate(entries):
            if entry.get("method") in ("platt", "isotonic"):
                mean[:, t] = apply_task(entry, mean[:, t])
                for k in range(members.shape[0]):
                    members[k, :, t] = apply_task(entry, members[k, :, t])
        std = np.nanstd(members, axis=0) if values.shape[0] > 1 else np.zeros_like(mean)
    return mean, std


def interval_halfwidths(card: ModelCard) -> np.ndarray | None:
    """Per-task conformal half-widths (NaN for a task without one), or ``None`` when no task has one."""
    entries = task_calibrations(card)
    if entries is None:
        return None
    widths = np.array([float(e["halfwidth"]) if e.get("method") == "conformal" else np.nan for e in entries])
    return widths if np.isfinite(widths).any() else None


def calibrate_table(card: ModelCard, table: pd.DataFrame, model_name: str) -> pd.DataFrame:
    """Raw ``MODEL:TASK`` mean columns (e.g. a stored approved-drug reference) with the calibration applied."""
    entries = task_calibrations(card)
    if entries is None:
        return table
    out = table.copy()
    for task, entry in zip(card.task_names, entries, strict=True):
        column = f"{model_name}:{task}"
        if column in out and entry.get("method") in ("platt", "isotonic"):
            out[column] = apply_task(entry, out[column].to_numpy())
    return out
