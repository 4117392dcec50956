"""Model picker grouped by origin (MoleculeNet, ADMET, MiniMol, ...)."""

from __future__ import annotations

import streamlit as st

from workbench.models.builders import can_predict
from workbench.predict.inference import list_models

__all__ = ["GROUP_ORDER", "model_picker", "registered_models"]

GROUP_ORDER = ("MoleculeNet", "ADMET", "MiniMol", "MoleculeACE")


@st.cache_resource(show_spinner=False)
def registered_models() -> dict[str, list[str]]:
    """Checkpoint names by group (scanned once per process)."""
    groups: dict[str, list[str]] = {}
    for checkpoint in list_models():
        if not can_predict(checkpoint):  # retrieval models embed, they do not predict properties
            continue
        groups.setdefault(checkpoint.group, []).append(checkpoint.name)
    order = [g for g in GROUP_ORDER if g in groups] + sorted(g for g in groups if g not in GROUP_ORDER)
    return {g: sorted(groups[g]) for g in order}


def model_picker(key: str = "models") -> list[str]:
    """One multiselect per group, every shipped model selected by default; returns the chosen names."""
    chosen: list[str] = []
    groups = registered_models()
    columns = st.columns(max(1, len(groups)))
    for column, (group, names) in zip(columns, groups.items(), strict=False):
        with column:
            chosen += st.multiselect(group, names, default=names, key=f"{key}_{group}")
    return chosen
