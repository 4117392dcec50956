"""Text retrieval page pieces: the model's card as one caption."""

from __future__ import annotations

import streamlit as st

from workbench.app.render import plain
from workbench.models.card import ModelCard
from workbench.retrieval.card_figures import card_figures

__all__ = ["model_note"]


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
