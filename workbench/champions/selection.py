"""Summaries of the champion search over seeds, and the champion of each data set chosen on validation only."""

from __future__ import annotations

import pandas as pd

__all__ = ["HEADLINE", "champions", "headline", "summarize_cells"]

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
