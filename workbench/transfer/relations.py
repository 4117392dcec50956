"""How tasks relate, read from training labels: pairwise label correlation and the task graph built from it.

SGNN-EBM uses a task graph from ChEMBL and STRING, which is not available here; the lab builds one from the data
instead: the phi coefficient (Pearson correlation of two 0/1 labels) over the molecules labelled for both tasks,
and for each task an edge to its ``k`` most correlated tasks (in absolute value) among those sharing at least
``min_pairs`` labelled molecules.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LabelCorrelation", "correlation_with", "label_correlation", "task_graph"]


@dataclass(frozen=True)
class LabelCorrelation:
    """``phi[s, t]`` (NaN where undefined) and ``pairs[s, t]``, the molecules labelled for both tasks."""

    phi: np.ndarray
    pairs: np.ndarray


def label_correlation(y: np.ndarray) -> LabelCorrelation:
    """Phi coefficient between every two tasks over their co-labelled rows (``y``: 0/1 with NaN = missing)."""
    y = np.asarray(y, dtype=np.float64)
    labelled = ~np.isnan(y)
    values = np.nan_to_num(y)
    n_tasks = y.shape[1]
    phi = np.full((n_tasks, n_tasks), np.nan)
    pairs = labelled.T.astype(np.int64) @ labelled.astype(np.int64)
    for s in range(n_tasks):
        for t in range(s, n_tasks):
            both = labelled[:, s] & labelled[:, t]
            phi[s, t] = phi[t, s] = _phi(values[both, s], values[both, t])
    return LabelCorrelation(phi, pairs)


def _phi(a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def correlation_with(y: np.ndarray, task: int) -> tuple[np.ndarray, np.ndarray]:
    """Phi between one task and every task (NaN where undefined), and the co-labelled counts: one row of the matrix."""
    y = np.asarray(y, dtype=np.float64)
    labelled = ~np.isnan(y)
    phi, pairs = np.full(y.shape[1], np.nan), np.zeros(y.shape[1], dtype=np.int64)
    for t in range(y.shape[1]):
        both = labelled[:, task] & labelled[:, t]
        pairs[t] = int(both.sum())
        phi[t] = _phi(y[both, task], y[both, t])
    return phi, pairs


def task_graph(correlation: LabelCorrelation, k: int = 3, min_pairs: int = 20) -> np.ndarray:
    """Undirected edges ``[E, 2]`` (``s < t``): each task to its ``k`` most correlated tasks (by ``|phi|``)."""
    phi, pairs = correlation.phi, correlation.pairs
    n_tasks = phi.shape[0]
    edges: set[tuple[int, int]] = set()
    for s in range(n_tasks):
        strength = np.where((pairs[s] >= min_pairs) & np.isfinite(phi[s]), np.abs(np.nan_to_num(phi[s])), -1.0)
        strength[s] = -1.0
        for t in np.argsort(-strength, kind="stable")[:k]:
            if strength[t] > 0:
                edges.add((min(s, int(t)), max(s, int(t))))
    return np.array(sorted(edges), dtype=np.int64).reshape(-1, 2)
