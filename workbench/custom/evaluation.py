"""How a custom run scores its candidates and its test molecules: the selection score, validation and test metrics
with bootstrap intervals, and the RMSE on activity-cliff molecules for potency data."""

from __future__ import annotations

import numpy as np

from workbench.custom.data import UserData
from workbench.custom.uncertainty import bootstrap_ci, classification_metrics, regression_metrics
from workbench.data.splits import Split

__all__ = ["cliff_molecules", "selection_score", "test_metrics", "valid_metrics"]


def selection_score(data: UserData, rows: np.ndarray, pred: np.ndarray) -> float:
    """Higher is better: mean ROC-AUC (classification) or minus RMSE over the target's spread (regression).

    Rows without a label or without a prediction (NaN) are left out of a target's score.
    """
    scores, pred = [], pred[rows]
    for t in range(data.y.shape[1]):
        y = data.y[rows, t]
        ok = np.isfinite(y) & np.isfinite(pred[:, t])
        if not ok.any():
            continue
        if data.task_type == "classification":
            m = classification_metrics(y[ok], pred[ok, t])
            scores.append(m["roc_auc"] if np.isfinite(m["roc_auc"]) else -m["brier"])
        else:
            spread = np.nanstd(data.y[:, t]) or 1.0
            scores.append(-regression_metrics(y[ok], pred[ok, t])["rmse"] / spread)
    return float(np.mean(scores)) if scores else float("nan")


def cliff_molecules(data: UserData) -> np.ndarray | None:
    """Cliff molecules by MoleculeACE's rules when the single target is a (log) potency."""
    if data.task_type != "regression" or len(data.targets) != 1 or data.transform == "none":
        return None
    from workbench.cliffs.rules import find_cliffs

    y = data.y[:, 0]
    nm = 10 ** (9.0 - y) if data.transform == "pIC50-from-nM" else 10**y  # fold changes are unit-free
    return find_cliffs(data.smiles, nm, unit="nM").cliff_mol


def valid_metrics(data: UserData, split: Split, pred: np.ndarray) -> dict[str, dict[str, float]]:
    """The chosen candidate's validation metrics (fitted on train only; validation chose it, so optimistic)."""
    out = {}
    for t, target in enumerate(data.task_names):
        ok = np.isfinite(data.y[split.valid, t]) & np.isfinite(pred[:, t])
        y, p = data.y[split.valid, t][ok], pred[ok, t]
        if data.task_type == "classification":
            out[target] = classification_metrics(y, p)
        else:
            out[target] = regression_metrics(y, p)
    return out


def test_metrics(
    data: UserData, split: Split, pred: np.ndarray, tasks: list, cliff_mol: np.ndarray | None, seed: int
) -> tuple[dict, dict]:
    """Test metrics per target (``tasks``: the run's TaskModels) and their bootstrap 95 % intervals.

    Molecules without a label, or without a prediction (no member could encode them), are left out.
    """
    metrics: dict[str, dict[str, float]] = {}
    intervals: dict[str, dict[str, tuple[float, float]]] = {}
    for t, task in enumerate(tasks):
        rows = split.test[np.isfinite(data.y[split.test, t]) & np.isfinite(pred[split.test, t])]
        y, p = data.y[rows, t], pred[rows, t]
        if task.classification:
            m = classification_metrics(y, p)
            ci = {
                k: bootstrap_ci(lambda a, b, k=k: classification_metrics(a, b)[k], y, p, seed=seed)
                for k in ("roc_auc", "pr_auc")
            }
        else:
            m = regression_metrics(y, p, task.halfwidth)
            m["interval_halfwidth"] = float(task.halfwidth)
            rmse = lambda a, b: float(np.sqrt(np.mean((a - b) ** 2)))  # noqa: E731
            ci = {"rmse": bootstrap_ci(rmse, y, p, seed=seed)}
            if cliff_mol is not None:
                cliff = cliff_mol[rows]
                m["rmse_cliff"] = rmse(y[cliff], p[cliff]) if cliff.any() else float("nan")
                m["rmse_non_cliff"] = rmse(y[~cliff], p[~cliff]) if (~cliff).any() else float("nan")
                m["cliff_molecules"] = float(cliff.sum())
        m["molecules"] = float(len(rows))
        metrics[task.target] = m
        intervals[task.target] = ci
    return metrics, intervals
