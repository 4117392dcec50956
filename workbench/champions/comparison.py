"""Our champions beside the published scaffold-split results, as one long table the Model zoo plots.

The champion of each data set is the search's candidate with the best mean *validation* score
(:func:`workbench.champions.selection.champions`); its row here is its *test* score, mean ± std over the search's
seeds. Our GIN from random weights and from the AttrMask encoder (the pretraining benchmark's cells) stand beside
the published GIN rows. The published rows are GraphMVP's (:mod:`workbench.champions.published`); a value that was
not published or not confirmed is left out, never filled in.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.champions.published import GRAPHMVP
from workbench.champions.selection import champions, search_progress, summarize_cells
from workbench.data.stored_results import read_stored_cells

__all__ = ["CHAMPION_CELLS", "COLOURS", "GIN_ROWS", "OURS", "champion_comparison", "read_champion_cells"]

#: The committed cells of the champion search (``workbench bench champions``).
CHAMPION_CELLS = Path(__file__).resolve().parents[2] / "bench" / "results" / "champions.csv"
#: The label of our rows in the comparison.
OURS = "champion (ours)"
#: Our GIN rows shown beside the published GIN rows: from random weights and from the AttrMask encoder.
GIN_ROWS = {"graph, random init": "GIN, random init (ours)", "graph, AttrMask init": "GIN, AttrMask init (ours)"}
#: Ours in blues and greens, the published rows in reds (the Model zoo's chart), in legend order.
COLOURS = {
    OURS: "#1b7837", "GIN, AttrMask init (ours)": "#2166ac", "GIN, random init (ours)": "#92c5de",
    "GraphMVP-C (published)": "#b2182b", "GraphMVP (published)": "#ef8a62", "no pretraining (published)": "#fddbc7",
}  # fmt: skip
_COLUMNS = ["dataset", "metric", "model", "source", "mean", "std", "detail"]


def read_champion_cells(path: Path = CHAMPION_CELLS, *, gin: bool = True) -> pd.DataFrame:
    """The search's cells (empty when the file is missing or has no rows), with its GIN candidates when ``gin``.

    The GIN candidates are the committed pretraining benchmark's cells of the data sets the search has run on
    (:func:`workbench.champions.gin.candidate_cells`).
    """
    from workbench.champions.gin import candidate_cells

    cells = read_stored_cells(path)
    return candidate_cells(cells) if gin else cells


def champion_comparison(cells: pd.DataFrame) -> pd.DataFrame:
    """One row per (data set, model): our champion's test score and each published row of that data set.

    Columns: ``dataset``, ``metric`` (roc_auc or rmse), ``model``, ``source`` (ours or published), ``mean``,
    ``std`` (0 for published values), ``detail`` (the champion's family and features, or the publication).
    Data sets come in the search's order; only those with a champion (a finished search) appear.
    """
    if cells.empty:
        return pd.DataFrame(columns=_COLUMNS)
    rows = []
    summary = summarize_cells(cells)
    finished = {d for d, (done, planned) in search_progress(cells).items() if done >= planned}
    for dataset, choice in champions(summary).items():
        if dataset not in finished:  # a search under way has a leader, not a champion
            continue
        best, metric = choice["champion"], choice["metric"]
        rows.append({
            "dataset": dataset, "metric": metric, "model": OURS, "source": "ours",
            "mean": best[f"test_{metric}_mean"], "std": best[f"test_{metric}_std"],
            "detail": f"{best['family']} on {best['features']}, {int(best['seeds'])} seed(s), chosen on validation",
        })  # fmt: skip
        for features, model in GIN_ROWS.items():
            gin = summary[(summary["dataset"] == dataset) & (summary["family"] == "gin")
                          & (summary["features"] == features)]  # fmt: skip
            if not gin.empty:
                g = gin.iloc[0]
                rows.append({
                    "dataset": dataset, "metric": metric, "model": model, "source": "ours",
                    "mean": g[f"test_{metric}_mean"], "std": g[f"test_{metric}_std"],
                    "detail": f"pretraining benchmark, {int(g['seeds'])} seed(s), test at the best-validation epoch",
                })  # fmt: skip
        for name, values in GRAPHMVP.items():
            if (value := values.get(dataset)) is not None:
                published = {"model": f"{name} (published)", "source": "published", "mean": value, "std": 0.0}
                rows.append({"dataset": dataset, "metric": metric, **published, "detail": "GraphMVP, scaffold split"})
    return pd.DataFrame(rows, columns=_COLUMNS)
