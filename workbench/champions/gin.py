"""The GIN candidates of the champion search: the pretraining benchmark's fine-tuning cells, in the search's format.

The pretraining benchmark (``workbench bench pretraining``, ``bench/results/pretraining_cells.csv``) fine-tunes the
GIN on the same deterministic scaffold split (80/10/10) with seeds 0 1 2, from random weights and from each shipped
encoder, and records the validation score of its best-validation epoch and the test score at that epoch. Those
are the search's GIN candidates: chosen on validation like every other one, and never refitted here (a GIN
champion ships through ``workbench train finetune``). The best-validation epoch is itself picked on validation, so
a GIN's validation score is the best of its epochs: slightly optimistic beside a candidate scored once.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from workbench.data.stored_results import read_stored_cells

__all__ = ["ARM_FEATURES", "PRETRAINING_CELLS", "candidate_cells", "gin_cells", "gin_init"]

#: The committed cells of the pretraining benchmark.
PRETRAINING_CELLS = Path(__file__).resolve().parents[2] / "bench" / "results" / "pretraining_cells.csv"
#: The ``features`` label of each pretraining arm's GIN candidate (the arm is the GIN's initialisation).
ARM_FEATURES = {
    "none": "graph, random init",
    "attrmask": "graph, AttrMask init",
    "contextpred": "graph, ContextPred init",
    "graphmvp": "graph, GraphMVP-style init",
    "molebert": "graph, Mole-BERT-style init",
}
_TASK_TYPES = {"roc_auc": "classification", "rmse": "regression"}


def gin_init(features: str) -> str | None:
    """The encoder folder (``models/encoders/ARM``) a GIN candidate was fine-tuned from; None for random weights."""
    arm = next((a for a, label in ARM_FEATURES.items() if label == features), None)
    if arm is None:
        raise ValueError(f"not a GIN candidate's features: {features!r}")
    return None if arm == "none" else f"models/encoders/{arm}"


def gin_cells(pretraining: pd.DataFrame) -> pd.DataFrame:
    """One search-format cell per pretraining cell: family ``gin``, features naming the initialisation.

    ``valid_<metric>`` is the validation score at the best-validation epoch, ``test_<metric>`` the test score at
    that epoch (``roc_auc`` or ``rmse``; the pretraining benchmark records no PRC-AUC or MAE). Arms without a
    label in :data:`ARM_FEATURES` are left out.
    """
    if pretraining.empty:
        return pd.DataFrame()
    rows = []
    for r in pretraining.to_dict("records"):
        if r["arm"] not in ARM_FEATURES or r["metric"] not in _TASK_TYPES:
            continue
        params = {"epochs": int(r["epochs"]), "best_epoch": int(r["best_epoch"]), "init": r["arm"]}
        rows.append({
            "dataset": r["dataset"], "task_type": _TASK_TYPES[r["metric"]], "split": "scaffold",
            "grid": "pretraining benchmark", "family": "gin", "model": "gin", "features": ARM_FEATURES[r["arm"]],
            "seed": int(r["seed"]), f"valid_{r['metric']}": r["valid_at_best"],
            f"test_{r['metric']}": r["test_at_best_valid"], "seconds": r["seconds"],
            "train": r.get("train_molecules"), "params": json.dumps(params, sort_keys=True),
        })  # fmt: skip
    return pd.DataFrame(rows)


def candidate_cells(search: pd.DataFrame, pretraining: pd.DataFrame | None = None) -> pd.DataFrame:
    """The search's cells plus the GIN cells of the data sets the search has run on (their order kept).

    ``pretraining`` defaults to the committed pretraining cells. A data set the search has not run on gets no
    GIN candidates here: a champion chosen among GINs alone would not be a search.
    """
    if search.empty:
        return search
    pretraining = read_stored_cells(PRETRAINING_CELLS) if pretraining is None else pretraining
    gins = gin_cells(pretraining)
    if gins.empty:
        return search
    gins = gins[gins["dataset"].isin(set(search["dataset"]))]
    return pd.concat([search, gins], ignore_index=True)
