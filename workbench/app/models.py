"""Model picker grouped by origin (MoleculeNet, ADMET, MiniMol, ...) and the pages' cached model loader.

A link may choose the models: ``?models=NAME[,NAME...]`` (e.g. the "Use it" link of Train on your data) selects
just those in the picker, once per session and value; without it every property predictor is selected.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from workbench.app.render import plain
from workbench.models.builders import can_predict
from workbench.predict.inference import LoadedModel, list_models, load_model

__all__ = [
    "GROUP_ORDER",
    "MODELS_QUERY",
    "SHARED_PREDICTION_ROWS",
    "cached_model",
    "default_model_names",
    "model_picker",
    "page_predictions",
    "registered_models",
]

GROUP_ORDER = ("MoleculeNet", "ADMET", "MiniMol", "MoleculeACE")
#: The query parameter naming the models a link preselects (comma-separated).
MODELS_QUERY = "models"


def _groups() -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for checkpoint in list_models():
        if not can_predict(checkpoint):  # retrieval models embed, they do not predict properties
            continue
        groups.setdefault(checkpoint.group, []).append(checkpoint.name)
    order = [g for g in GROUP_ORDER if g in groups] + sorted(g for g in groups if g not in GROUP_ORDER)
    return {g: sorted(groups[g]) for g in order}


@st.cache_resource(show_spinner=False)
def _registered(folders: tuple[str, ...]) -> dict[str, list[str]]:
    return _groups()


def registered_models() -> dict[str, list[str]]:
    """Checkpoint names by group, scanned once per process and set of models folders (``registered_models.clear()``
    scans again, e.g. after a model was saved)."""
    import workbench.models.registry as registry

    return _registered(tuple(str(folder) for folder in registry.models_dirs()))


registered_models.clear = _registered.clear  # type: ignore[attr-defined]


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


def _preselect(key: str) -> dict[str, list[str]]:
    """The groups; when the URL names models (:data:`MODELS_QUERY`) not applied yet, select just those."""
    groups = registered_models()
    wanted = [n.strip() for n in str(st.query_params.get(MODELS_QUERY, "")).split(",") if n.strip()]
    applied = f"_{key}_query"
    if not wanted or st.session_state.get(applied) == wanted:
        return groups
    if not set(wanted) <= {n for names in groups.values() for n in names}:
        registered_models.clear()  # a model saved since the scan (Train on your data) is registered now
        groups = registered_models()
    known = {n for names in groups.values() for n in names}
    missing = [n for n in wanted if n not in known]
    if missing:
        rest = "the link's other models are selected" if len(missing) < len(wanted) else "the usual models are selected"
        st.warning(plain(f"No property model named {', '.join(missing)} is registered; {rest}."))
    if set(wanted) - set(missing):
        for group, names in groups.items():
            st.session_state[f"{key}_{group}"] = [n for n in names if n in wanted]
    st.session_state[applied] = wanted
    return groups


def model_picker(key: str = "models") -> list[str]:
    """One multiselect per group, every shipped model selected by default (or those a link names); the chosen."""
    chosen: list[str] = []
    groups = _preselect(key)
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
