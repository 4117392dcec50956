"""Text retrieval: text → molecules, molecule → descriptions, and screening a library by a prompt."""

import pandas as pd
import streamlit as st

from workbench.app.hits import hit_downloads, hit_grid
from workbench.app.lazy_tabs import lazy_tabs
from workbench.app.render import plain
from workbench.app.retrieval_view import UPLOAD_TYPES, describe_panel, model_note, prompt_screen_panel
from workbench.app.upload import LIBRARY_LIMITS, molecule_upload
from workbench.retrieval import (
    DEFAULT_MODEL,
    LIBRARIES,
    embed_library,
    example_queries,
    load_retriever,
    text_search,
)

LIBRARY_LABELS = {"drugs": "Approved drugs", "chebi": "ChEBI-20 molecules", "upload": "Upload a file"}


@st.cache_resource(show_spinner="Loading the retrieval model and its text encoder…")
def _retriever():
    return load_retriever(DEFAULT_MODEL)


@st.cache_resource(show_spinner=False)
def _examples() -> list[str]:
    """The class queries the model retrieves best on its validation molecules (read from its score reference)."""
    return example_queries(_retriever(), 6)


@st.cache_resource(show_spinner="Embedding the library (once per model)…", max_entries=8)
def _library(key: str, table: pd.DataFrame | None = None):
    return embed_library(key if table is None else table, _retriever())


st.title("Text retrieval")
try:
    retriever = _retriever()
except (KeyError, RuntimeError):
    st.info(f"No retrieval model is available: the page needs the {DEFAULT_MODEL} checkpoint in models/ (see README).")
    st.stop()
model_note(retriever.checkpoint.card)

#: Only the open tab runs (``on_change="rerun"``): a first view embeds no single molecule and reads no corpus.
TABS = ("Text → molecules", "Molecule → text", "Screening")
KEEP = {  # the widgets whose values survive a visit to another tab (uploads cannot be kept)
    TABS[0]: ("tr_example", "tr_query", "tr_library", "tr_k"),
    TABS[1]: ("tr_mol_source", "tr_smiles", "tr_n"),
    TABS[2]: ("tr_prompt",),
}
text_tab, mol_tab, screen_tab = lazy_tabs(TABS, key="tr_tab", keep=KEEP)
examples = _examples()


def _text_to_molecules() -> None:
    st.selectbox(
        "Example queries",
        examples,
        index=None,
        key="tr_example",
        placeholder="Pick an example" if examples else "No examples: this model has no score reference",
        on_change=lambda: st.session_state.update(tr_query=st.session_state["tr_example"]),
        help="The class phrases this model retrieves best among its validation molecules (the class-level test "
        "of bench/results/retrieval.md), not picked by hand.",
    )
    if "tr_query" not in st.session_state:
        st.session_state["tr_query"] = examples[0] if examples else ""
    query = st.text_input("Describe the molecules you want", key="tr_query")
    left, right = st.columns([3, 1])
    source = left.radio(
        "Library", list(LIBRARY_LABELS), format_func=LIBRARY_LABELS.get, horizontal=True, key="tr_library"
    )
    k = right.slider("Results", 1, 50, 10, key="tr_k")
    library = None
    if source == "upload":
        upload = molecule_upload("CSV, SMI or SDF", key="tr_upload", limits=LIBRARY_LIMITS, types=UPLOAD_TYPES)
        if upload is not None:
            library = _library("upload", upload.table)
    else:
        try:
            library = _library(source)
        except FileNotFoundError:
            st.warning(f"The {LIBRARY_LABELS[source]} library is not available here: its data file is missing.")
        else:
            st.caption(f"{LIBRARIES[source]}: {len(library):,} molecules.")
    if library is not None and query.strip():
        failed = int((library.frame["error"] != "").sum())
        if failed:
            st.warning(f"{failed} of {len(library)} library molecules could not be embedded and are not searched.")
        result = text_search(query, library, k, retriever=retriever)
        hits = result.hits
        if result.strong is False:
            st.warning(plain(result.message))
        else:
            st.caption(plain(result.message))
        if library.name == "chebi":
            st.caption(
                "ChEBI-20 has no molecule names (every description begins 'The molecule is …'), so its hits are "
                "named by PubChem CID; the quoted sentence is the one of its description closest to the query."
            )
        hit_grid(hits)
        st.dataframe(
            hits,
            hide_index=True,
            column_config={
                "score": st.column_config.NumberColumn(format="%.3f"),
                "percentile": st.column_config.NumberColumn(
                    "percentile", format="%.1f", help="of the score among random description–molecule pairs"
                ),
            },
        )
        hit_downloads(hits, "text_search", "tr")


if text_tab.open:
    with text_tab:
        _text_to_molecules()
if mol_tab.open:
    with mol_tab:
        describe_panel(retriever)
if screen_tab.open:
    with screen_tab:
        prompt_screen_panel(retriever, examples[0] if examples else "")
