"""Model picker grouped by origin (MoleculeNet, ADMET, MiniMol, ...) and the pages' cached model loader."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from workbench.models.builders import can_predict
from workbench.predict.inference import LoadedModel, list_models, load_model

__all__ = [
    "GROUP_ORDER",
    "SHARED_PREDICTION_ROWS",
    "cached_model",
    "default_model_names",
    "model_picker",
    "page_predictions",
    "registered_models",
]

GROUP_ORDER = ("MoleculeNet", "ADMET", "MiniMol", "MoleculeACE")


def _groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for checkpoint in list_models():
        if not can_predict(checkpoint):  # retrieval models embed, they do not predict properties
            continue
        groups.setdefault(checkpoint.group, []).append(checkpoint.name)
    order = [g for g in GROUP_ORDER if g in groups] + sorted(g for g in groups if g not in GROUP_ORDER)
    return {g: sorted(groups[g]) for g in order}


@st.cache_resource(show_spinner=False)
def registered_models() -> dict[str, list[str]]:
    """Checkpoint names by group (scanned once per process)."""
    return _groups()


def default_model_names() -> list[str]:
    """The models the picker selects by default (every property predictor), in the picker's order."""
    return [name for names in _groups().values() for name in names]


@st.cache_resource(show_spinner="Loading the model…")
def cached_model(name: str) -> LoadedModel:
    """A property predictor loaded once per process, shared by every page and session.

    It reads through :func:`workbench.predict.inference.load_model`'s process cache, which the
    background warm-up (:mod:`workbench.app.warmup`) fills while the first page renders.
    """
    return load_model(name)


def model_picker(key: str = "models") -> list[str]:
    """One multiselect per group, every shipped model selected by default; returns the chosen names."""
    chosen: list[str] = []
    groups = registered_models()
    columns = st.columns(max(1, len(groups)))
    for column, (group, names) in zip(columns, groups.items(), strict=False):
        with column:
            chosen += st.multiselect(group, names, default=names, key=f"{key}_{group}")
    return chosen


#: Largest request whose predictions every session shares (examples and pasted lists; files are per request).
SHARED_PREDICTION_ROWS = 100


@st.cache_data(show_spinner=False, max_entries=64)
def _shared_predictions(
    smiles: tuple[str, ...], models: tuple[tuple[str, str, tuple[str, ...]], ...]
) -> tuple[pd.DataFrame, list[str]]:
    from workbench.predict.table import prediction_table

    return prediction_table(list(smiles), [name for name, _, _ in models])


def _identity(name: str) -> tuple[str, str, tuple[str, ...]]:
    """A model as the shared cache knows it: name, folder and weight hashes (a retrained model is another)."""
    checkpoint = cached_model(name).checkpoint
    return name, str(checkpoint.path), tuple(entry.sha256 for entry in checkpoint.card.weights)


def page_predictions(
    smiles: Sequence[str], models: Sequence[str], callback: Callable[[int, int], None] | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """:func:`workbench.predict.table.prediction_table` for a page.

    Up to :data:`SHARED_PREDICTION_ROWS` molecules, the table is computed once per process and shared by every
    session, keyed by each model's folder and weight hashes, so a second visitor asking for the same molecule
    gets it at once; each session gets its own copy. Larger requests are computed per request, with ``callback``
    reporting progress.
    """
    from workbench.predict.table import prediction_table

    if len(smiles) <= SHARED_PREDICTION_ROWS:
        return _shared_predictions(tuple(smiles), tuple(_identity(m) for m in models))
    return prediction_table(smiles, models, callback=callback)
