"""Evaluation metrics with missing labels, and their summary over seeds."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import roc_auc_score

__all__ = ["mean_std", "regression_metrics", "roc_auc", "summarize_seeds"]


def roc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Mean ROC-AUC over tasks that have both classes among the labelled rows (NaN = missing).

    Returns NaN when no task can be scored.
    """
    y_true, y_score = np.atleast_2d(y_true.T).T, np.atleast_2d(y_score.T).T
    scores = []
    for t in range(y_true.shape[1]):
        mask = ~np.isnan(y_true[:, t])
        labels = y_true[mask, t]
        if mask.sum() and 0 < labels.sum() < len(labels):
            scores.append(roc_auc_score(labels, y_score[mask, t]))
    return float(np.mean(scores)) if scores else float("nan")


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE and MAE over all labelled entries (NaN = missing)."""
    mask = ~np.isnan(y_true)
    err = (y_pred - y_true)[mask]
    return {"rmse": float(np.sqrt(np.mean(err**2))), "mae": float(np.mean(np.abs(err)))}


def mean_std(values: Sequence[float]) -> dict[str, object]:
    """Card metric block: mean, population std and the per-seed values."""
    arr = np.asarray(values, dtype=float)
    finite = arr[np.isfinite(arr)]
    return {
        "mean": float(finite.mean()) if finite.size else None,
        "std": float(finite.std()) if finite.size else None,
        "per_seed": [float(v) if np.isfinite(v) else None for v in arr],
    }


def summarize_seeds(per_seed: Sequence[dict[str, float]]) -> dict[str, dict[str, object]]:
    """``[{metric: value}, ...]`` over seeds → ``{metric: mean_std}``."""
    names = list(per_seed[0]) if per_seed else []
    return {name: mean_std([s[name] for s in per_seed]) for name in names}
