"""Text retrieval: text → molecules, molecule → descriptions, and screening a library by a prompt."""

import pandas as pd
import streamlit as st

from workbench.app import EXAMPLES, current_molecule
from workbench.app.hits import hit_downloads, hit_grid, molecule_svg
from workbench.app.molecule_input import DEFAULT_EXAMPLE
from workbench.app.render import plain
from workbench.app.retrieval_view import model_note
from workbench.app.upload import LIBRARY_LIMITS, molecule_upload
from workbench.chem import parse_one
from workbench.retrieval import (
    DEFAULT_MODEL,
    LIBRARIES,
    describe,
    embed_library,
    example_queries,
    load_retriever,
    nearest_corpus_molecules,
    rank_library,
    text_search,
)

LIBRARY_LABELS = {"drugs": "Approved drugs", "chebi": "ChEBI-20 molecules", "upload": "Upload a file"}
UPLOAD_TYPES = ("csv", "smi", "txt", "sdf")


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

text_tab, mol_tab, screen_tab = st.tabs(["Text → molecules", "Molecule → text", "Screening"])

examples = _examples()

with text_tab:
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

with mol_tab:
    home = current_molecule()
    choice = st.radio("Molecule", ["Home molecule", "SMILES"], horizontal=True, key="tr_mol_source")
    if choice == "Home molecule":
        smiles = home["smiles"] if home else EXAMPLES[DEFAULT_EXAMPLE]
        st.caption(
            "The molecule selected on Home." if home else f"No molecule on Home yet; using {DEFAULT_EXAMPLE.lower()}."
        )
    else:
        smiles = st.text_input("SMILES", home["smiles"] if home else EXAMPLES[DEFAULT_EXAMPLE], key="tr_smiles")
    n = st.slider("Descriptions", 1, 20, 5, key="tr_n")
    parsed = parse_one(smiles)
    if not parsed.ok:
        st.error(f"Cannot use this input — {plain(parsed.error)}")
    else:
        st.image(molecule_svg(parsed.smiles), width=260)
        try:
            texts = describe(parsed.smiles, n, retriever=retriever)
            nearest = nearest_corpus_molecules(parsed.smiles, 5, retriever=retriever)
        except FileNotFoundError:  # ChEBI-20 not on disk and no network
            st.warning("The ChEBI-20 description corpus is not available here: its data file is missing.")
        except ValueError as exc:
            st.error(plain(exc))
        else:
            st.subheader("Closest ChEBI-20 descriptions")
            for row in texts.itertuples():
                st.markdown(f"**{row.rank}.** score {row.score:.3f} · CID {row.cid}  \n{plain(row.description)}")
            st.download_button("Download CSV", texts.to_csv(index=False), "descriptions.csv", "text/csv")
            st.subheader("Nearest ChEBI-20 molecules in the shared space")
            hit_grid(nearest)

with screen_tab:
    st.write("Rank every molecule of an uploaded library by a text prompt; rows that cannot be read keep an error.")
    prompt = st.text_input("Prompt", examples[0] if examples else "", key="tr_prompt")
    upload = molecule_upload("CSV, SMI or SDF", key="tr_screen", limits=LIBRARY_LIMITS, types=UPLOAD_TYPES)
    if upload is not None and prompt.strip() and st.button("Rank the library", key="tr_screen_go"):
        table = upload.table
        bar = st.progress(0.0, text="embedding molecules…")
        ranked = rank_library(
            prompt,
            table["smiles"].astype(str).tolist(),
            retriever=retriever,
            callback=lambda done, total: bar.progress(done / max(total, 1), text=f"{done:,} / {total:,}"),
        )
        bar.progress(1.0, text="done")
        extra = table.drop(columns=["smiles"]).reset_index(drop=True)
        ranked = pd.concat([ranked, extra], axis=1).sort_values("rank", na_position="last")
        failed = int((ranked["error"] != "").sum())
        if failed:
            st.warning(f"{failed} of {len(ranked)} rows could not be scored; see the error column.")
        st.dataframe(ranked, hide_index=True)
        st.download_button("Download ranked CSV", ranked.to_csv(index=False), "screening.csv", "text/csv")
