"""The held-out figures of a retrieval model's card, as the text-retrieval page quotes them."""

from tests.cards import make_card
from workbench.retrieval.card_figures import card_figures


def _metric(value):
    return {"mean": value, "std": None, "per_seed": [value]}


def test_figures_are_the_split_sizes_and_test_means_of_the_card():
    card = make_card(
        "retrieval_tiny",
        description="a dual encoder",
        split={"kind": "cid", "seed": 0, "fractions": [0.8, 0.1, 0.1], "sizes": [5241, 647, 663]},
        metrics={"test": {"text2mol_mrr": _metric(0.5818), "mol2text_r10": _metric(None)}, "valid": {}},
    )
    figures = card_figures(card)
    assert (figures.name, figures.description, figures.split) == ("retrieval_tiny", "a dual encoder", "cid")
    assert (figures.train_pairs, figures.test_pairs) == ("5,241", "663")
    assert figures.metric("text2mol_mrr") == "0.58"
    assert figures.metric("mol2text_r10") == "—" and figures.metric("text2mol_r1") == "—"


def test_a_card_without_sizes_or_test_metrics_reads_as_unknown():
    figures = card_figures(make_card("bare"))
    assert (figures.train_pairs, figures.test_pairs, figures.description) == ("?", "?", "")
    assert figures.metric("text2mol_mrr") == "—"
