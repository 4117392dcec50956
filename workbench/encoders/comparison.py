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

__all__ = ["BENCH_COMMAND", "CELLS_FILE", "CLASSIFICATION_SETS", "PUBLISHED", "Comparison", "comparison_table"]

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
CELLS_FILE = Path(__file__).resolve().parents[2] / "bench" / "results" / "pretraining_cells.csv"
BENCH_COMMAND = "workbench bench pretraining --arms none attrmask"
_READOUTS = {"best_valid": "test_at_best_valid", "last": "test_last"}


@dataclass(frozen=True)
class Comparison:
    """Our cells aggregated per data set × arm, per-arm classification averages, and the published averages.

    ``per_dataset``: dataset, metric, arm, seeds, then ``<readout>_mean`` / ``<readout>_sd`` for the
    read-outs ``best_valid`` and ``last``. ``averages``: arm, sets (classification sets with cells),
    ``best_valid`` and ``last`` (mean over those sets of the per-set means). ``published``: method, roc_auc.
    Both our tables are empty when no cell has finished (``available`` is False).
    """

    per_dataset: pd.DataFrame
    averages: pd.DataFrame
    published: pd.DataFrame
    source: Path

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
        return Comparison(pd.DataFrame(columns=columns), empty_avg, published, source)
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
    classification = per_dataset[per_dataset["dataset"].isin(CLASSIFICATION_SETS)]
    averages = pd.DataFrame(
        [
            {"arm": arm, "sets": len(sub), **{r: float(sub[f"{r}_mean"].mean()) for r in _READOUTS}}
            for arm, sub in classification.groupby("arm", sort=False)
        ],
        columns=["arm", "sets", *_READOUTS],
    )
    return Comparison(per_dataset, averages, published, source)
