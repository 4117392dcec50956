"""The list-of-molecules input of the prediction page: the Home molecule, a pasted list, or an uploaded file."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import streamlit as st

from workbench.app.molecule_input import EXAMPLES, current_molecule
from workbench.app.render import plain
from workbench.app.upload import PREDICT_LIMITS, molecule_upload
from workbench.predict.upload import pasted_smiles

__all__ = ["SOURCES", "MoleculeList", "molecule_list_input"]

SOURCES = ("Home molecule", "Paste a list", "Upload CSV/SDF")


@dataclass
class MoleculeList:
    """What the user handed over: the SMILES strings and, row for row, the other columns of their file."""

    smiles: list[str] = field(default_factory=list)
    columns: pd.DataFrame = field(default_factory=pd.DataFrame)
    source: str = ""

    def __post_init__(self) -> None:
        if self.columns.empty and len(self.columns.columns) == 0:
            self.columns = pd.DataFrame(index=range(len(self.smiles)))


def molecule_list_input(key: str = "pred") -> MoleculeList:
    """Render the source radio and its input; return the molecules to predict (maybe none) and the user's columns."""
    source = st.radio("Molecules", SOURCES, horizontal=True, key=f"{key}_source")
    if source == "Home molecule":
        home = current_molecule()
        smiles = home["smiles"] if home else EXAMPLES["Aspirin"]
        st.caption(
            plain(f"{'The molecule selected on Home' if home else 'No molecule on Home yet; using aspirin'}: {smiles}")
        )
        return MoleculeList([smiles], source=source)
    if source == "Paste a list":
        text = st.text_area(
            "One SMILES per line", key=f"{key}_text", height=140, value="\n".join(list(EXAMPLES.values())[:4])
        )
        return MoleculeList(pasted_smiles(text), source=source)
    upload = molecule_upload("CSV (with a SMILES column), SMI or SDF", key=f"{key}_upload", limits=PREDICT_LIMITS)
    if upload is None:
        return MoleculeList(source=source)
    table = upload.table
    user = table.drop(columns=[c for c in ("smiles", "read_error") if c in table.columns]).reset_index(drop=True)
    return MoleculeList(table["smiles"].astype(str).tolist(), user, source)
