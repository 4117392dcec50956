"""Calibrated probabilities, conformal intervals and test metrics with bootstrap confidence intervals.

* **Calibration** (classification): Platt scaling, ``p' = sigmoid(a · logit(p) + b)``, fitted on out-of-fold
  predictions of the chosen model (cross-fitting on train + validation), so the calibrator never sees a
  prediction the model made on its own training rows.
* **Conformal intervals** (regression): split-conformal half-width, the ``ceil((n + 1) · coverage) / n`` quantile
  of the out-of-fold absolute residuals; ``prediction ± half-width`` covers ``coverage`` of new molecules from the
  same distribution (exchangeability; a scaffold split is a shift, so the test coverage is reported, not assumed).
* **Bootstrap**: 95 % percentile intervals of a test metric over 1,000 seeded resamples of the test molecules.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np

__all__ = [
    "BOOTSTRAP_SAMPLES",
    "apply_platt",
    "bootstrap_ci",
    "classification_metrics",
    "conformal_halfwidth",
    "expected_calibration_error",
    "fit_platt",
    "regression_metrics",
]

BOOTSTRAP_SAMPLES = 1000
_EPS = 1e-6


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    return np.log(p / (1 - p))


def fit_platt(p: np.ndarray, y: np.ndarray, iterations: int = 100) -> tuple[float, float]:
    """``(a, b)`` minimizing the log loss of ``sigmoid(a · logit(p) + b)`` (Newton's method with step halving,
    light L2 on a, b)."""
    z, y = _logit(p), np.asarray(y, dtype=np.float64)
    # Platt's targets: (N+ + 1) / (N+ + 2) and 1 / (N- + 2) instead of 1 and 0 (no overconfident fit on few rows)
    pos, neg = float(y.sum()), float(len(y) - y.sum())
    t = np.where(y > 0.5, (pos + 1) / (pos + 2), 1 / (neg + 2))

    def objective(a: float, b: float) -> float:
        s = a * z + b
        return float(np.sum(np.logaddexp(0.0, s) - t * s) + 5e-4 * (a * a + b * b))

    a, b = 1.0, 0.0
    current = objective(a, b)
    for _ in range(iterations):
        q = 0.5 * (1 + np.tanh(0.5 * (a * z + b)))  # the sigmoid, without overflow
        w = q * (1 - q)
        grad = np.array([np.sum((q - t) * z) + 1e-3 * a, np.sum(q - t) + 1e-3 * b])
        hess = np.array([[np.sum(w * z * z) + 1e-3, np.sum(w * z)], [np.sum(w * z), np.sum(w) + 1e-3]])
        step = np.linalg.solve(hess, grad)
        scale = 1.0
        while scale > 1e-8:  # a full Newton step can overshoot far from the optimum: halve it until the loss falls
            trial = objective(a - scale * step[0], b - scale * step[1])
            if trial <= current:
                break
            scale /= 2
        a, b, current = a - scale * step[0], b - scale * step[1], min(current, trial)
        if np.abs(scale * step).max() < 1e-9:
            break
    return float(a), float(b)


def apply_platt(p: np.ndarray, a: float, b: float) -> np.ndarray:
    """Calibrated probabilities."""
    return 1 / (1 + np.exp(-(a * _logit(p) + b)))


def conformal_halfwidth(residuals: np.ndarray, coverage: float = 0.9) -> float:
    """The split-conformal half-width for ``coverage`` from absolute out-of-sample residuals."""
    r = np.sort(np.abs(np.asarray(residuals, dtype=np.float64)))
    n = len(r)
    if n == 0:
        return float("nan")
    k = math.ceil((n + 1) * coverage)
    return float(r[min(k, n) - 1]) if k <= n else float(r[-1])


def expected_calibration_error(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    """Mean |observed rate − mean probability| over equal-width probability bins, weighted by bin size."""
    p, y = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    which = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            total += mask.sum() * abs(y[mask].mean() - p[mask].mean())
    return float(total / len(p)) if len(p) else float("nan")


def _roc_auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def _pr_auc(y: np.ndarray, p: np.ndarray) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(y, p)) if len(np.unique(y)) == 2 else float("nan")


def classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ROC-AUC, PR-AUC (average precision), Brier score, accuracy at 0.5 and the expected calibration error."""
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    return {
        "roc_auc": _roc_auc(y, p),
        "pr_auc": _pr_auc(y, p),
        "brier": float(np.mean((p - y) ** 2)),
        "accuracy": float(np.mean((p >= 0.5) == (y > 0.5))),
        "ece": expected_calibration_error(p, y),
    }


def regression_metrics(y: np.ndarray, pred: np.ndarray, halfwidth: float | None = None) -> dict[str, float]:
    """RMSE, MAE, R², Spearman's ρ and, with a conformal half-width, the interval's coverage."""
    from scipy.stats import spearmanr

    y, pred = np.asarray(y, dtype=np.float64), np.asarray(pred, dtype=np.float64)
    err = pred - y
    ss = float(np.sum((y - y.mean()) ** 2))
    out = {
        "rmse": float(np.sqrt(np.mean(err**2))),
        "mae": float(np.mean(np.abs(err))),
        "r2": 1 - float(np.sum(err**2)) / ss if ss > 0 else float("nan"),
        "spearman": float(spearmanr(y, pred).statistic) if len(y) > 2 and np.ptp(y) > 0 else float("nan"),
    }
    if halfwidth is not None:
        out["coverage"] = float(np.mean(np.abs(err) <= halfwidth))
    return out


def bootstrap_ci(
    metric: Callable[[np.ndarray, np.ndarray], float],
    y: np.ndarray,
    pred: np.ndarray,
    *,
    samples: int = BOOTSTRAP_SAMPLES,
    seed: int = 0,
) -> tuple[float, float]:
    """The 2.5 and 97.5 percentiles of ``metric`` over bootstrap resamples (resamples where it is NaN skipped)."""
    y, pred = np.asarray(y), np.asarray(pred)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(samples):
        idx = rng.integers(0, len(y), len(y))
        v = metric(y[idx], pred[idx])
        if np.isfinite(v):
            values.append(v)
    if not values:
        return float("nan"), float("nan")
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)
