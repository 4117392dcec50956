"""Reading the task-transfer benchmark's cells: per-task scores, summaries per arm and paired tests between arms.

A cell row (:func:`workbench.transfer.cells.run_cell`) holds each target task's test ROC-AUC as JSON; the
functions here unfold it into one row per cell × target task (:func:`task_scores`), the unit the paired tests
pair on: the same data set, target set, label fraction, seed, encoder initialisation and task under two arms.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.transfer.arms import ARMS

__all__ = [
    "BENCH_CELLS",
    "BENCH_COMMAND",
    "TRANSFER_ARMS",
    "arm_summary",
    "best_transfer_arm",
    "paired_comparison",
    "read_bench_cells",
    "task_scores",
]

#: Where ``workbench bench transfer`` writes its cells (relative to the repository root).
BENCH_CELLS = Path(__file__).resolve().parents[2] / "bench" / "results" / "transfer.csv"
BENCH_COMMAND = "workbench bench transfer"
#: GIN arms that use the other tasks: the candidates for "the best transfer arm", set against the single-task GIN
#: (the XGBoost pair, ``xgb_helpers`` against ``xgb``, is compared on its own).
TRANSFER_ARMS = ("mtl", "uw", "gradnorm", "kt", "ebm")
_KEYS = ["dataset", "target_set", "fraction", "seed", "init", "task"]


def read_bench_cells(path: Path | str = BENCH_CELLS) -> pd.DataFrame:
    """The benchmark's finished cells (an empty frame when the file is missing or empty)."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame()
    return pd.read_csv(path)


def task_scores(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per cell × target task: the cell's keys, ``task`` and its test ``auc`` (and ``valid_auc``)."""
    columns = [*_KEYS[:3], "arm", *_KEYS[3:], "auc", "valid_auc"]
    if cells.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for cell in cells.itertuples(index=False):
        valid = json.loads(cell.task_valid_auc) if isinstance(getattr(cell, "task_valid_auc", None), str) else {}
        for task, auc in json.loads(cell.task_auc).items():
            rows.append(
                {
                    "dataset": cell.dataset,
                    "target_set": cell.target_set,
                    "fraction": float(cell.fraction),
                    "arm": cell.arm,
                    "seed": int(cell.seed),
                    "init": cell.init,
                    "task": task,
                    "auc": math.nan if auc is None else float(auc),
                    "valid_auc": math.nan if valid.get(task) is None else float(valid[task]),
                }
            )
    return pd.DataFrame(rows, columns=columns)


def arm_summary(scores: pd.DataFrame, column: str = "auc", **where: object) -> pd.DataFrame:
    """Per arm (in :data:`~workbench.transfer.arms.ARMS` order): mean and sd of ``column`` (test ROC-AUC) and ``n``.

    ``where`` filters on columns of :func:`task_scores` (e.g. ``dataset="tox21", task="SR-ARE", fraction=0.1``).
    """
    sub = scores
    for key, value in where.items():
        sub = sub[np.isclose(sub[key], value)] if key == "fraction" else sub[sub[key] == value]
    out = []
    for arm in [a for a in ARMS if a in set(sub["arm"])]:
        values = sub.loc[sub["arm"] == arm, column].dropna()
        out.append(
            {
                "arm": arm,
                "what": ARMS[arm],
                "roc_auc": float(values.mean()) if len(values) else math.nan,
                "sd": float(values.std(ddof=0)) if len(values) > 1 else math.nan,
                "n": len(values),
            }
        )
    return pd.DataFrame(out, columns=["arm", "what", "roc_auc", "sd", "n"])


def paired_comparison(scores: pd.DataFrame, arm: str, baseline: str, **where: object) -> dict[str, float]:
    """``arm`` − ``baseline`` over the units both have: ``n``, mean difference, Wilcoxon and paired-t p-values.

    The p-values are NaN below 3 pairs (and Wilcoxon's when every difference is 0).
    """
    from scipy import stats

    sub = scores
    for key, value in where.items():
        sub = sub[np.isclose(sub[key], value)] if key == "fraction" else sub[sub[key] == value]
    a = sub[sub["arm"] == arm].set_index(_KEYS)["auc"]
    b = sub[sub["arm"] == baseline].set_index(_KEYS)["auc"]
    both = pd.concat([a.rename("a"), b.rename("b")], axis=1, join="inner").dropna()
    diff = (both["a"] - both["b"]).to_numpy()
    out = {"n": len(diff), "mean_diff": float(diff.mean()) if len(diff) else math.nan, "wins": int((diff > 0).sum())}
    out["wilcoxon_p"] = out["t_p"] = math.nan
    if len(diff) >= 3:
        if np.any(diff != 0):
            out["wilcoxon_p"] = float(stats.wilcoxon(diff).pvalue)
        if np.std(diff) > 0:
            out["t_p"] = float(stats.ttest_rel(both["a"], both["b"]).pvalue)
    return out


def best_transfer_arm(scores: pd.DataFrame, by: str = "valid_auc", **where: object) -> tuple[str | None, float]:
    """The transfer arm with the highest mean ``by`` (validation ROC-AUC: the test scores stay unseen) over the
    rows ``where`` selects, and that mean."""
    table = arm_summary(scores, by, **where)
    table = table[table["arm"].isin(TRANSFER_ARMS) & table["roc_auc"].notna()]
    if table.empty:
        return None, math.nan
    best = table.loc[table["roc_auc"].idxmax()]
    return str(best["arm"]), float(best["roc_auc"])
