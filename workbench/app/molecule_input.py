"""The molecule input shared by every page: SMILES or drug-name box, examples, optional editor.

The current molecule lives in ``st.session_state["molecule"]`` (a dict with ``input``, ``smiles``,
``inchikey``, ``query`` and ``name``) and in the URL as ``?smiles=`` (``query``: the SMILES as typed, or the
SMILES a name resolved to), so a reload or a shared link opens with the same molecule. :func:`sync_url`,
called by ``app.py`` before every page, reads the link on a session's first run and writes the molecule back
when the URL lost it (the sidebar navigation drops query parameters).
"""

from __future__ import annotations

import streamlit as st

from workbench.app.render import plain
from workbench.chem import ParsedMolecule, parse_one
from workbench.chem.names import UnknownNameError, looks_like_name, resolve_name

__all__ = [
    "EXAMPLES",
    "QUERY_KEY",
    "SESSION_KEY",
    "current_molecule",
    "molecule_input",
    "resolve_input",
    "set_molecule",
    "sync_url",
]

SESSION_KEY = "molecule"
QUERY_KEY = "smiles"
INPUT_KEY = "smiles_input"
_URL_READ = "_molecule_url_read"  # set once the session's first run has read ?smiles=
_URL_TEXT = "_molecule_url_text"  # what ?smiles= held, for the Home box (even when it does not parse)
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
def resolve_input(text: str) -> tuple[ParsedMolecule, str]:
    """``text`` as a molecule: a SMILES when it parses, else a drug name looked up offline.

    Returns the parsed molecule (its ``error`` says why it cannot be used) and the name that was looked up
    (empty when ``text`` was used as a SMILES).
    """
    parsed = parse_one(text)
    if parsed.ok:
        return parsed, ""
    try:
        match = resolve_name(text)
    except UnknownNameError as exc:
        if looks_like_name(text):
            return ParsedMolecule(input=text, mol=None, error=str(exc)), ""
        return parsed, ""
    return parse_one(match.smiles), text.strip()


def set_molecule(text: str) -> ParsedMolecule:
    """Make ``text`` (a SMILES or a drug name) the current molecule when it can be used; keep the URL in step."""
    parsed, name = resolve_input(text)
    if parsed.ok:
        query = parsed.input if name else text
        st.session_state[SESSION_KEY] = {
            "input": text,
            "smiles": parsed.smiles,
            "inchikey": parsed.inchikey,
            "query": query,
            "name": name,
        }
        if st.query_params.get(QUERY_KEY) != query:
            st.query_params[QUERY_KEY] = query
    return parsed


def _read_url_once() -> None:
    if st.session_state.get(_URL_READ):
        return
    st.session_state[_URL_READ] = True
    text = str(st.query_params.get(QUERY_KEY, "")).strip()
    if text:
        st.session_state[_URL_TEXT] = text
        set_molecule(text)


def current_molecule() -> dict[str, str] | None:
    """The molecule chosen on Home (or given as ``?smiles=`` in the URL), if any."""
    _read_url_once()
    return st.session_state.get(SESSION_KEY)


def sync_url() -> None:
    """Read ``?smiles=`` on the session's first run; afterwards put the current molecule back into the URL."""
    molecule = current_molecule()
    query = (molecule.get("query") or molecule.get("input") or molecule.get("smiles")) if molecule else None
    if query and st.query_params.get(QUERY_KEY) != query:
        st.query_params[QUERY_KEY] = query


def _use_example(name: str) -> None:
    st.session_state[INPUT_KEY] = EXAMPLES[name]


def molecule_input(*, editor: bool = True) -> ParsedMolecule | None:
    """Render the input widgets and return the parsed molecule (``None`` when the box is empty).

    The box takes a SMILES or a drug name; one click on an example fills it. A valid molecule becomes the
    current one (session and URL).
    """
    stored = current_molecule()
    if INPUT_KEY not in st.session_state:
        linked = st.session_state.pop(_URL_TEXT, "")
        st.session_state[INPUT_KEY] = linked or (stored["input"] if stored else EXAMPLES[DEFAULT_EXAMPLE])
    st.text_input(
        "SMILES or drug name",
        key=INPUT_KEY,
        help="A SMILES string or the name of an approved drug (e.g. aspirin); salts are stripped and "
        "charges neutralized before prediction.",
    )
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        st.caption("Examples", width="content")
        for example in EXAMPLES:
            st.button(example, key=f"example_{example}", on_click=_use_example, args=(example,), type="tertiary")
    text = st.session_state[INPUT_KEY].strip()
    parsed = set_molecule(text) if text else None
    name = resolve_input(text)[1] if text else ""
    if parsed is not None and parsed.ok and name:
        st.caption(f"{plain(name)} → `{parsed.input}`")
    if editor and st.toggle("Draw it in the molecule editor (JSME)", key="show_editor"):
        from streamlit_jsme import st_jsme

        shown = parsed.input if name and parsed is not None else text
        drawn = st_jsme(shown, key="jsme_editor")
        if drawn and drawn != shown and drawn != st.session_state.get("last_drawn"):
            st.session_state["last_drawn"] = drawn
            st.session_state[INPUT_KEY] = drawn
            st.rerun()
    return parsed
