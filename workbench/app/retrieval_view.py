"""Text retrieval page pieces: the model's card as one caption, the molecule → text and screening tabs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.app import EXAMPLES, current_molecule
from workbench.app.hits import hit_grid, molecule_svg
from workbench.app.molecule_input import DEFAULT_EXAMPLE
from workbench.app.render import plain
from workbench.app.upload import LIBRARY_LIMITS, molecule_upload
from workbench.chem import parse_one
from workbench.models.card import ModelCard
from workbench.retrieval import Retriever, describe, nearest_corpus_molecules, rank_library
from workbench.retrieval.card_figures import card_figures

__all__ = ["UPLOAD_TYPES", "describe_panel", "model_note", "prompt_screen_panel"]

UPLOAD_TYPES = ("csv", "smi", "txt", "sdf")


def model_note(card: ModelCard) -> None:
    """The retrieval model's card in one caption: what it is, its held-out figures, how to read a score."""
    f = card_figures(card)
    m = f.metric
    st.caption(
        f"Model {plain(f.name)}: {plain(f.description)}. Trained on {f.train_pairs} ChEBI-20 molecule–text pairs "
        f"({f.split} split). On {f.test_pairs} held-out test pairs: text → molecule MRR {m('text2mol_mrr')}, "
        f"Recall@1 {m('text2mol_r1')}, Recall@10 {m('text2mol_r10')}, 20-choose-1 accuracy {m('text2mol_acc_T20')}; "
        f"molecule → text MRR {m('mol2text_mrr')}, Recall@10 {m('mol2text_r10')}. Scores are cosine similarities; "
        "each hit's percentile says how its score compares with random held-out description–molecule pairs, "
        "which is not a probability that it is right. Descriptions are ChEBI-style, so queries phrased like "
        "ChEBI entries work best; see bench/results/retrieval.md for the class-level test and the drug-class check."
    )


def describe_panel(retriever: Retriever) -> None:
    """Molecule → text: the Home molecule (or a SMILES), its closest ChEBI-20 descriptions and nearest molecules."""
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
        return
    st.image(molecule_svg(parsed.smiles), width=260)
    try:
        texts = describe(parsed.smiles, n, retriever=retriever)
        nearest = nearest_corpus_molecules(parsed.smiles, 5, retriever=retriever)
    except FileNotFoundError:  # ChEBI-20 not on disk and no network
        st.warning("The ChEBI-20 description corpus is not available here: its data file is missing.")
        return
    except ValueError as exc:
        st.error(plain(exc))
        return
    st.subheader("Closest ChEBI-20 descriptions")
    for row in texts.itertuples():
        st.markdown(f"**{row.rank}.** score {row.score:.3f} · CID {row.cid}  \n{plain(row.description)}")
    st.download_button("Download CSV", texts.to_csv(index=False), "descriptions.csv", "text/csv")
    st.subheader("Nearest ChEBI-20 molecules in the shared space")
    hit_grid(nearest)


def prompt_screen_panel(retriever: Retriever, default_prompt: str) -> None:
    """Screening: rank every row of an uploaded library by a text prompt (unreadable rows keep an error)."""
    st.write("Rank every molecule of an uploaded library by a text prompt; rows that cannot be read keep an error.")
    prompt = st.text_input("Prompt", default_prompt, key="tr_prompt")
    upload = molecule_upload("CSV, SMI or SDF", key="tr_screen", limits=LIBRARY_LIMITS, types=UPLOAD_TYPES)
    if upload is None or not prompt.strip() or not st.button("Rank the library", key="tr_screen_go"):
        return
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
