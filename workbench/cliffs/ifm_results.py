"""The faithful IFM benchmark's stored cells, summarized per data set: MLP vs IFM-MLP on test.

Cells come from ``workbench bench ifm`` (``bench/results/ifm.csv``: one row per data set, repetition and arm).
A data set's summary pairs the two arms by repetition (a repetition with only one arm finished is left out) and
says how often IFM-MLP's test score beat the MLP's (higher ROC-AUC, lower RMSE).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data.stored_results import read_stored_cells

__all__ = ["IFM_CELLS", "ifm_table", "ifm_verdict", "mean_pm_std", "read_ifm_cells", "summarize_ifm_cells"]

#: The committed cells of ``workbench bench ifm``.
IFM_CELLS = Path(__file__).resolve().parents[2] / "bench" / "results" / "ifm.csv"
_COLUMNS = ["dataset", "metric", "repetitions", "budget", "mlp_mean", "mlp_std", "ifm_mean", "ifm_std",
            "diff_mean", "diff_std", "ifm_better", "mlp_cliff_mean", "ifm_cliff_mean", "hours"]  # fmt: skip


def read_ifm_cells(path: Path = IFM_CELLS) -> pd.DataFrame:
    """The stored cells (empty when the file is missing or has no rows)."""
    return read_stored_cells(path)


def _stats(values) -> tuple[float, float]:
    values = np.asarray([v for v in values if v == v], dtype=float)
    return (float(values.mean()), float(values.std())) if len(values) else (float("nan"), float("nan"))


def summarize_ifm_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per data set with both arms finished on at least one repetition (columns: see ``_COLUMNS``).

    ``diff`` is IFM-MLP − MLP on test per repetition; ``ifm_better`` counts the repetitions where IFM-MLP won;
    the cliff columns are RMSE on cliff molecules (MoleculeACE targets only, else NaN).
    """
    rows = []
    if cells.empty:
        return pd.DataFrame(columns=_COLUMNS)
    for name, part in cells.groupby("dataset", sort=False):
        mlp = part[part["arm"] == "MLP"].drop_duplicates("repetition", keep="last").set_index("repetition")
        ifm = part[part["arm"] == "IFM-MLP"].drop_duplicates("repetition", keep="last").set_index("repetition")
        both = mlp.index.intersection(ifm.index)
        if not len(both):
            continue
        metric = str(part["metric"].iloc[0])
        diff = (ifm.loc[both, "test"] - mlp.loc[both, "test"]).to_numpy()
        better = int((diff > 0).sum() if metric == "roc_auc" else (diff < 0).sum())
        cliff = "test_rmse_cliff" in part and part["test_rmse_cliff"].notna().any()
        nan = float("nan")
        rows.append({
            "dataset": name, "metric": metric, "repetitions": len(both), "budget": int(part["budget"].max()),
            **dict(zip(("mlp_mean", "mlp_std"), _stats(mlp.loc[both, "test"]), strict=True)),
            **dict(zip(("ifm_mean", "ifm_std"), _stats(ifm.loc[both, "test"]), strict=True)),
            **dict(zip(("diff_mean", "diff_std"), _stats(diff), strict=True)),
            "ifm_better": better,
            "mlp_cliff_mean": _stats(mlp.loc[both, "test_rmse_cliff"])[0] if cliff else nan,
            "ifm_cliff_mean": _stats(ifm.loc[both, "test_rmse_cliff"])[0] if cliff else nan,
            "hours": float(part["seconds"].sum()) / 3600,
        })  # fmt: skip
    return pd.DataFrame(rows, columns=_COLUMNS)


def ifm_verdict(summary: pd.DataFrame) -> str:
    """One sentence: on how many data sets IFM-MLP's mean test score beat the MLP's, over how many repetitions."""
    if summary.empty:
        return "No data set has both arms finished yet."
    wins = [r.dataset for r in summary.itertuples() if (r.diff_mean > 0) == (r.metric == "roc_auc") and r.diff_mean]
    reps = f"{int(summary['repetitions'].min())}–{int(summary['repetitions'].max())}"
    if summary["repetitions"].nunique() == 1:
        reps = str(int(summary["repetitions"].iloc[0]))
    named = f" ({', '.join(wins)})" if wins else ""
    noun = "repetition" if reps == "1" else "repetitions"
    return (
        f"IFM-MLP beat the MLP's mean test score on {len(wins)} of {len(summary)} data sets{named}, "
        f"over {reps} {noun} each."
    )


def mean_pm_std(mean: float, std: float) -> str:
    """``mean ± std`` to three decimals, or ``—`` for a missing (NaN) mean."""
    return "—" if mean != mean else f"{mean:.3f} ± {std:.3f}"


def ifm_table(summary: pd.DataFrame) -> pd.DataFrame:
    """The summary with readable column names and ``mean ± std`` text, for a page."""
    metric_names = {"rmse": "RMSE (lower is better)", "roc_auc": "ROC-AUC (higher is better)"}
    wins = zip(summary["ifm_better"], summary["repetitions"], strict=True)
    return pd.DataFrame({
        "data set": summary["dataset"],
        "metric (test)": summary["metric"].map(metric_names),
        "repetitions": summary["repetitions"],
        "trials per arm": summary["budget"],
        "MLP": [mean_pm_std(m, s) for m, s in zip(summary["mlp_mean"], summary["mlp_std"], strict=True)],
        "IFM-MLP": [mean_pm_std(m, s) for m, s in zip(summary["ifm_mean"], summary["ifm_std"], strict=True)],
        "IFM − MLP": [mean_pm_std(m, s) for m, s in zip(summary["diff_mean"], summary["diff_std"], strict=True)],
        "IFM better (repetitions)": [f"{b} of {n}" for b, n in wins],
        "RMSE on cliff molecules, MLP / IFM-MLP": [
            "—" if m != m else f"{m:.3f} / {i:.3f}"
            for m, i in zip(summary["mlp_cliff_mean"], summary["ifm_cliff_mean"], strict=True)
        ],
        "search hours": summary["hours"].round(2),
    })  # fmt: skip
