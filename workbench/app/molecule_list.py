"""The list-of-molecules input of the prediction page: the Home molecule, a pasted list, or an uploaded file."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.app.molecule_input import EXAMPLES, current_molecule
from workbench.chem.files import MoleculeFileError, read_molecules
from workbench.predict.upload import pasted_smiles, smiles_column_choices

__all__ = ["SOURCES", "molecule_list_input"]

SOURCES = ("Home molecule", "Paste a list", "Upload CSV/SDF")


@st.cache_data(show_spinner=False, max_entries=32)
def _read_upload(data: bytes, name: str, column: str | None) -> pd.DataFrame:
    return read_molecules(data, filename=name, smiles_column=column)


def molecule_list_input(key: str = "pred") -> list[str]:
    """Render the source radio and its input; return the SMILES strings to predict (maybe none)."""
    source = st.radio("Molecules", SOURCES, horizontal=True, key=f"{key}_source")
    if source == "Home molecule":
        home = current_molecule()
        smiles = home["smiles"] if home else EXAMPLES["Aspirin"]
        st.caption(
            f"{'The molecule selected on Home' if home else 'No molecule on Home yet; using aspirin'}: `{smiles}`"
        )
        return [smiles]
    if source == "Paste a list":
        text = st.text_area(
            "One SMILES per line", key=f"{key}_text", height=140, value="\n".join(list(EXAMPLES.values())[:4])
        )
        return pasted_smiles(text)
    upload = st.file_uploader(
        "CSV (with a SMILES column), SMI or SDF", type=["csv", "tsv", "smi", "txt", "sdf"], key=f"{key}_upload"
    )
    if upload is None:
        return []
    column = None
    choices = smiles_column_choices(upload.getvalue(), upload.name)
    if choices is not None:
        names, default = choices
        column = st.selectbox("SMILES column", names, index=default, key=f"{key}_column")
    try:
        table = _read_upload(upload.getvalue(), upload.name, column)
    except MoleculeFileError as exc:
        st.error(str(exc))
        return []
    st.caption(f"{len(table):,} rows read from {upload.name}.")
    return table["smiles"].astype(str).tolist()
