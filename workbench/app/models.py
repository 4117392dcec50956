"""Model picker grouped by origin (MoleculeNet, ADMET, MiniMol, ...) and the pages' cached model loader."""

from __future__ import annotations

import streamlit as st

from workbench.models.builders import can_predict
from workbench.predict.inference import LoadedModel, list_models, load_model

__all__ = ["GROUP_ORDER", "cached_model", "default_model_names", "model_picker", "registered_models"]

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
