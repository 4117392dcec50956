"""The pretraining benchmark's results (``workbench bench pretraining``) as tables, beside the published averages.

Reads ``bench/results/pretraining_cells.csv`` (one row per data set × arm × seed); both read-outs
(test at the best-validation epoch, test at the last epoch) are aggregated as mean ± sd over seeds.
Classification scores are ROC-AUC × 100, regression RMSE as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "BENCH_COMMAND", "CELLS_FILE", "CLASSIFICATION_SETS", "EVERY_ARM_SETS", "PUBLISHED", "Comparison",
    "comparison_table", "every_arm_table",
]  # fmt: skip

#: Published averages of test ROC-AUC over the 8 classification sets, GraphMVP (Liu et al., ICLR 2022) Tables 1
#: and 5 (pretrain-gnns fine-tuning protocol, 100 epochs, pretrained on GEOM-50k).
PUBLISHED = {
    "no pretraining (GraphMVP Table 1)": 67.21,
    "AttrMask (GraphMVP Table 1)": 70.16,
    "GraphMVP (GraphMVP Table 1)": 71.69,
    "GraphMVP-C (GraphMVP Table 5)": 73.07,
}
#: The classification sets whose mean ROC-AUC the published averages are over.
CLASSIFICATION_SETS = ("bbbp", "tox21", "toxcast", "sider", "clintox", "muv", "hiv", "bace")
#: The classification sets every arm runs (HIV and MUV only for no pretraining and the best encoder, on CPU).
EVERY_ARM_SETS = tuple(s for s in CLASSIFICATION_SETS if s not in ("hiv", "muv"))
CELLS_FILE = Path(__file__).resolve().parents[2] / "bench" / "results" / "pretraining_cells.csv"
BENCH_COMMAND = "workbench bench pretraining --arms none attrmask"
_READOUTS = {"best_valid": "test_at_best_valid", "last": "test_last"}


@dataclass(frozen=True)
class Comparison:
    """Our cells aggregated per data set × arm, per-arm classification averages, and the published averages.

    ``per_dataset``: dataset, metric, arm, seeds, then ``<readout>_mean`` / ``<readout>_sd`` for the
    read-outs ``best_valid`` and ``last``. ``averages``: arm, sets (classification sets with cells),
    ``best_valid`` and ``last`` (mean over those sets of the per-set means). ``every_arm``: the same over
    :data:`EVERY_ARM_SETS` only (the sets every arm runs: there all arms compare), ``sets`` counting those.
    ``published``: method, roc_auc.
    Both our tables are empty when no cell has finished (``available`` is False).
    """

    per_dataset: pd.DataFrame
    averages: pd.DataFrame
    published: pd.DataFrame
    source: Path
    every_arm: pd.DataFrame | None = None

    @property
    def available(self) -> bool:
        return not self.per_dataset.empty


def comparison_table(path: str | Path | None = None) -> Comparison:
    """Aggregate the benchmark's cells (missing or empty file: empty tables) beside the published averages."""
    import pandas as pd

    source = Path(path) if path is not None else CELLS_FILE
    cells = pd.read_csv(source) if source.is_file() and source.stat().st_size > 0 else pd.DataFrame()
    published = pd.DataFrame({"method": list(PUBLISHED), "roc_auc": list(PUBLISHED.values())})
    columns = ["dataset", "metric", "arm", "seeds"] + [f"{r}_{s}" for r in _READOUTS for s in ("mean", "sd")]
    if cells.empty:
        empty_avg = pd.DataFrame(columns=["arm", "sets", *_READOUTS])
        return Comparison(pd.DataFrame(columns=columns), empty_avg, published, source, empty_avg.copy())
    cells = cells.copy()
    scale = cells["dataset"].isin(CLASSIFICATION_SETS).map({True: 100.0, False: 1.0})
    for column in _READOUTS.values():
        cells[column] = cells[column].astype(float) * scale
    rows = []
    for (dataset, arm), sub in cells.groupby(["dataset", "arm"], sort=False):
        row = {"dataset": dataset, "metric": "ROC-AUC" if dataset in CLASSIFICATION_SETS else "RMSE", "arm": arm}
        row["seeds"] = int(sub["seed"].nunique()) if "seed" in sub else len(sub)
        for readout, column in _READOUTS.items():
            values = sub[column].dropna()
            row[f"{readout}_mean"] = float(values.mean()) if len(values) else float("nan")
            row[f"{readout}_sd"] = float(values.std(ddof=0)) if len(values) else float("nan")
        rows.append(row)
    per_dataset = pd.DataFrame(rows, columns=columns)
    return Comparison(
        per_dataset, _averages(per_dataset, CLASSIFICATION_SETS), published, source,
        _averages(per_dataset, EVERY_ARM_SETS),
    )  # fmt: skip


def _averages(per_dataset: pd.DataFrame, sets: tuple[str, ...]) -> pd.DataFrame:
    """Per arm: how many of ``sets`` it has, and the mean over them of its per-set means (each read-out)."""
    import pandas as pd

    chosen = per_dataset[per_dataset["dataset"].isin(sets)]
    return pd.DataFrame(
        [
            {"arm": arm, "sets": len(sub), **{r: float(sub[f"{r}_mean"].mean()) for r in _READOUTS}}
            for arm, sub in chosen.groupby("arm", sort=False)
        ],
        columns=["arm", "sets", *_READOUTS],
    )


def every_arm_table(comparison: Comparison, readout: str = "best_valid") -> pd.DataFrame:
    """Each arm's mean test ROC-AUC × 100 over :data:`EVERY_ARM_SETS`, and its difference from no pretraining.

    Columns: arm, sets (e.g. "6 of 6"), ``roc_auc`` (None until the arm has every one of the sets), ``vs none``
    (None unless both it and ``none`` have them all). Empty when no cell has finished.
    """
    import pandas as pd

    table = comparison.every_arm
    columns = ["arm", "sets", "roc_auc", "vs none"]
    if table is None or table.empty:
        return pd.DataFrame(columns=columns)
    n = len(EVERY_ARM_SETS)
    complete = {a: float(v) for a, k, v in zip(table["arm"], table["sets"], table[readout], strict=True) if k == n}
    none = complete.get("none")
    rows = [
        {
            "arm": arm, "sets": f"{k} of {n}", "roc_auc": complete.get(arm),
            "vs none": None if none is None or arm == "none" or arm not in complete else complete[arm] - none,
        }
        for arm, k in zip(table["arm"], table["sets"], strict=True)
    ]  # fmt: skip
    return pd.DataFrame(rows, columns=columns)
