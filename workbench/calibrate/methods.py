"""Post-hoc calibration of one task: Platt or isotonic for probabilities, split-conformal intervals for values.

A classification task's calibrator is chosen among ``none``, ``platt`` and ``isotonic`` by the mean log loss of
5-fold cross-validation *within* the validation predictions (each fold's calibrator fitted on the other four), so
the choice is not scored on the rows it was fitted on: the simplest method within 1 % of the lowest loss, then
fitted on every validation row. Every calibrator is non-decreasing (a Platt fit with a negative slope, which
would reverse the model's ranking, counts as ``none``).
Isotonic regression is stored as its knots (``x``, ``y``, kept within ``1/(n+2)`` of 0 and 1 for ``n`` rows) and
applied by linear interpolation, so a card holds numbers only. A regression task gets the split-conformal
half-width of its validation residuals for 90 % coverage (:func:`workbench.custom.uncertainty.conformal_halfwidth`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from workbench.custom.uncertainty import conformal_halfwidth, fit_platt
from workbench.predict.calibration import apply_task

__all__ = [
    "COVERAGE",
    "METHODS",
    "MIN_CLASS_ROWS",
    "apply_task",
    "choose_classifier",
    "fit_classifier",
    "fit_regression",
    "log_loss",
]

METHODS = ("none", "platt", "isotonic")
COVERAGE = 0.9
#: A calibrator needs at least this many validation rows of each class; fewer → ``none`` (said in the card).
MIN_CLASS_ROWS = 5
FOLDS = 5
#: A more flexible method is kept only when its cross-validated log loss beats the simpler ones by more than 1 %.
TOLERANCE = 0.01
_EPS = 1e-6


def log_loss(p: np.ndarray, y: np.ndarray) -> float:
    """Mean binary cross-entropy of probabilities ``p`` for labels ``y``."""
    p = np.clip(np.asarray(p, dtype=np.float64), _EPS, 1 - _EPS)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def fit_classifier(method: str, p: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    """The stored form of one calibrator fitted on probabilities ``p`` and labels ``y``."""
    if method == "none":
        return {"method": "none"}
    if method == "platt":
        a, b = fit_platt(p, y)
        if a <= 0:  # a falling curve would reverse the model's ranking: not a calibration
            return {"method": "none", "reason": f"Platt's slope was not positive ({a:.2f}) on these rows"}
        return {"method": "platt", "a": a, "b": b}
    if method == "isotonic":
        from sklearn.isotonic import IsotonicRegression

        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(p, y)
        # never exactly 0 or 1: a bin with no positive among n rows says p < ~1/n, not p = 0
        floor = 1 / (len(y) + 2)
        knots = np.clip(iso.y_thresholds_, floor, 1 - floor)
        return {"method": "isotonic", "x": iso.X_thresholds_.tolist(), "y": knots.tolist()}
    raise ValueError(f"unknown calibration method '{method}' (known: {', '.join(METHODS)})")


def _folds(y: np.ndarray, seed: int) -> list[np.ndarray]:
    """Stratified fold indices (each class dealt round-robin after a seeded shuffle)."""
    rng = np.random.default_rng(seed)
    folds: list[list[int]] = [[] for _ in range(FOLDS)]
    for label in (0, 1):
        rows = rng.permutation(np.flatnonzero(y == label))
        for k, row in enumerate(rows):
            folds[k % FOLDS].append(int(row))
    return [np.array(sorted(f), dtype=np.int64) for f in folds]


def choose_classifier(p: np.ndarray, y: np.ndarray, seed: int = 0) -> tuple[dict[str, Any], dict[str, float]]:
    """The calibrator with the lowest cross-validated log loss on the validation rows, fitted on all of them.

    Returns the stored calibrator (with ``reason`` when it is ``none`` for lack of rows) and each method's
    cross-validated log loss.
    """
    p, y = np.asarray(p, dtype=np.float64), np.asarray(y, dtype=np.float64)
    keep = np.isfinite(p) & np.isfinite(y)
    p, y = p[keep], y[keep]
    positives, negatives = int(y.sum()), int(len(y) - y.sum())
    if min(positives, negatives) < MIN_CLASS_ROWS:
        reason = f"{positives} positive and {negatives} negative validation rows (at least {MIN_CLASS_ROWS} each)"
        return {"method": "none", "reason": reason}, {}
    losses: dict[str, float] = {}
    folds = _folds(y, seed)
    for method in METHODS:
        held = np.empty_like(p)
        for fold in folds:
            rest = np.setdiff1d(np.arange(len(p)), fold)
            held[fold] = apply_task(fit_classifier(method, p[rest], y[rest]), p[fold])
        losses[method] = log_loss(held, y)
    lowest = min(losses.values())
    best = next(m for m in METHODS if losses[m] <= lowest * (1 + TOLERANCE))  # the simplest within the tolerance
    return fit_classifier(best, p, y), losses


def fit_regression(predicted: np.ndarray, observed: np.ndarray, coverage: float = COVERAGE) -> dict[str, Any]:
    """The split-conformal interval of a regression task from its validation residuals."""
    predicted, observed = np.asarray(predicted, dtype=np.float64), np.asarray(observed, dtype=np.float64)
    keep = np.isfinite(predicted) & np.isfinite(observed)
    residuals = np.abs(predicted[keep] - observed[keep])
    return {
        "method": "conformal",
        "coverage": coverage,
        "halfwidth": conformal_halfwidth(residuals, coverage),
        "residuals": int(keep.sum()),
    }
