"""The molecule input shared by every page: SMILES box, examples, optional editor.

The current molecule lives in ``st.session_state["molecule"]`` (a dict with
``input``, ``smiles`` and ``inchikey``) so that other pages can start from it.
"""

from __future__ import annotations

import streamlit as st

from workbench.chem import ParsedMolecule, parse_one

__all__ = ["EXAMPLES", "SESSION_KEY", "current_molecule", "molecule_input"]

SESSION_KEY = "molecule"
EXAMPLES: dict[str, str] = {
    "Aspirin": "CC(=O)Oc1ccccc1C(=O)O",
    "Caffeine": "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
    "Ibuprofen": "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "Paracetamol": "CC(=O)Nc1ccc(O)cc1",
    "Imatinib": "Cc1ccc(NC(=O)c2ccc(CN3CCN(C)CC3)cc2)cc1Nc1nccc(-c2cccnc2)n1",
    "Donepezil": "COc1cc2c(cc1OC)C(=O)C(CC1CCN(Cc3ccccc3)CC1)C2",
    "Penicillin G": "CC1(C)S[C@@H]2[C@H](NC(=O)Cc3ccccc3)C(=O)N2[C@H]1C(=O)O",
    "Morphine": "CN1CC[C@]23c4c5ccc(O)c4O[C@H]2[C@@H](O)C=C[C@H]3[C@H]1C5",
}
DEFAULT_EXAMPLE = "Aspirin"


@st.cache_data(show_spinner=False, max_entries=512)
def _parse(smiles: str) -> ParsedMolecule:
    return parse_one(smiles)


def current_molecule() -> dict[str, str] | None:
    """The molecule chosen on Home (or any page with a molecule input), if any."""
    return st.session_state.get(SESSION_KEY)


def _use_example() -> None:
    st.session_state["smiles_input"] = EXAMPLES[st.session_state["example_choice"]]


def molecule_input(*, editor: bool = True) -> ParsedMolecule | None:
    """Render the input widgets and return the parsed molecule (``None`` when the box is empty).

    A valid molecule is stored in the session for the other pages.
    """
    if "smiles_input" not in st.session_state:
        stored = current_molecule()
        st.session_state["smiles_input"] = stored["input"] if stored else EXAMPLES[DEFAULT_EXAMPLE]
    left, right = st.columns([3, 1])
    with right:
        st.selectbox(
            "Example",
            list(EXAMPLES),
            key="example_choice",
            on_change=_use_example,
            index=None,
            placeholder="Pick an example",
        )
    with left:
        st.text_input(
            "SMILES",
            key="smiles_input",
            help="Paste a SMILES string; salts are stripped and charges neutralized before prediction.",
        )
    if editor and st.toggle("Draw it in the molecule editor (JSME)", key="show_editor"):
        from streamlit_jsme import st_jsme

        drawn = st_jsme(st.session_state["smiles_input"], key="jsme_editor")
        if drawn and drawn != st.session_state["smiles_input"] and drawn != st.session_state.get("last_drawn"):
            st.session_state["last_drawn"] = drawn
            st.session_state["smiles_input"] = drawn
            st.rerun()
    text = st.session_state["smiles_input"].strip()
    if not text:
        return None
    parsed = _parse(text)
    if parsed.ok:
        st.session_state[SESSION_KEY] = {"input": text, "smiles": parsed.smiles, "inchikey": parsed.inchikey}
    return parsed
