"""Rendering helpers: molecule depictions and downloadable tables."""

from __future__ import annotations

import streamlit as st
from rdkit import Chem

from workbench.chem import depict_svg

__all__ = ["show_depiction"]


@st.cache_data(show_spinner=False, max_entries=256)
def _svg(smiles: str, width: int, height: int) -> str:
    return depict_svg(Chem.MolFromSmiles(smiles), width=width, height=height)


def show_depiction(smiles: str, *, width: int = 420, height: int = 320, caption: str = "") -> None:
    """Draw a molecule's 2D depiction from its canonical SMILES."""
    st.image(_svg(smiles, width, height), width=width, caption=caption or None)
