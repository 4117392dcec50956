"""Summaries of the champion search over seeds, and the champion of each data set chosen on validation only."""

from __future__ import annotations

import pandas as pd

__all__ = ["HEADLINE", "champions", "headline", "search_progress", "summarize_cells"]

#: The metric each task type is chosen and reported on, and whether higher is better.
HEADLINE = {"classification": ("roc_auc", True), "regression": ("rmse", False)}


def headline(task_type: str) -> tuple[str, bool]:
    """``(metric, higher_is_better)`` of a task type."""
    return HEADLINE[task_type]


def summarize_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per (dataset, family, features): mean and std over seeds of each ``valid_*`` / ``test_*`` column.

    Columns: dataset, task_type, family, features, seeds, seconds (summed), and ``<split>_<metric>_mean`` /
    ``_std`` (population std; 0 with one seed).
    """
    if cells.empty:
        return pd.DataFrame()
    scores = [c for c in cells.columns if c.startswith(("valid_", "test_"))]
    keys = ["dataset", "task_type", "family", "features"]
    grouped = cells.groupby(keys, sort=False)
    out = grouped.agg(seeds=("seed", "nunique"), seconds=("seconds", "sum")).reset_index()
    for column in scores:
        stats = grouped[column].agg(["mean", lambda s: s.std(ddof=0)]).reset_index(drop=True)
        out[f"{column}_mean"], out[f"{column}_std"] = stats.iloc[:, 0].to_numpy(), stats.iloc[:, 1].to_numpy()
    return out


def champions(summary: pd.DataFrame, runners_up: int = 3) -> dict[str, dict]:
    """Per data set: the candidate with the best mean validation score and the next ``runners_up``.

    Returns ``{dataset: {"champion": row, "runners_up": [row, ...], "metric": name}}`` with rows as dicts of
    :func:`summarize_cells`. Candidates without a finite validation score are never chosen.
    """
    out: dict[str, dict] = {}
    for dataset, rows in summary.groupby("dataset", sort=False):
        metric, higher = headline(rows["task_type"].iloc[0])
        column = f"valid_{metric}_mean"
        ranked = rows[rows[column].notna()].sort_values(column, ascending=not higher, kind="stable")
        if ranked.empty:
            continue
        records = ranked.to_dict("records")
        out[str(dataset)] = {"champion": records[0], "runners_up": records[1 : 1 + runners_up], "metric": metric}
    return out


def search_progress(cells: pd.DataFrame, seeds: int = 3) -> dict[str, tuple[int, int]]:
    """Per data set: ``(cells finished, cells its grid has)`` for the scaffold search with ``seeds`` seeds.

    The grid follows from the training size and task count the cells record (:func:`grid.search_grid`;
    seed-independent SVMs count once); cells without those sizes count as finished. A data set whose search is not
    finished has no champion yet: its leader could still be overtaken by a candidate not fitted.
    """
    from workbench.champions.grid import DETERMINISTIC, search_grid

    out: dict[str, tuple[int, int]] = {}
    if cells.empty:
        return out
    for dataset, rows in cells.groupby("dataset", sort=False):
        sized = rows.dropna(subset=["train", "tasks"]) if {"train", "tasks"} <= set(rows.columns) else rows.iloc[0:0]
        if sized.empty:  # cells that do not record the set's size: the grid is unknown, counted as finished
            n = int(rows[["family", "features", "seed"]].drop_duplicates().shape[0])
            out[str(dataset)] = (n, n)
            continue
        first = sized.iloc[0]
        grid = search_grid(str(first["task_type"]), int(first["train"]), int(first["tasks"]))
        planned = {(c.features, "svm" if c.family in DETERMINISTIC else c.family) for c in grid}
        expected = sum(1 if family == "svm" else seeds for _, family in planned)
        done = rows[[(f, fam) in planned for f, fam in zip(rows["features"], rows["family"], strict=True)]]
        out[str(dataset)] = (int(done[["family", "features", "seed"]].drop_duplicates().shape[0]), expected)
    return out
