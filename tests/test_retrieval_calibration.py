"""Calibrated retrieval scores: percentiles among random pairs, "no strong match", example queries, drug lists."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.retrieval_fixtures import NAME, pairs_frame, tiny_model  # noqa: F401  (fixture)
from workbench import retrieval
from workbench.retrieval.calibration import (
    PROBABILITIES,
    STRONG_PERCENTILE,
    ScoreReference,
    load_score_reference,
    store_score_reference,
)
from workbench.retrieval.corpus import corpus_frame
from workbench.retrieval.drug_classes import DRUG_CLASSES, count_members

NONSENSE = "a purple elephant that sings"


def _reference(classes: pd.DataFrame | None = None) -> ScoreReference:
    """Random-pair scores uniform on [-0.5, 0.5]; matched pairs uniform on [0.4, 0.9]."""
    return ScoreReference(
        PROBABILITIES.copy(),
        -0.5 + PROBABILITIES,
        0.4 + 0.5 * PROBABILITIES,
        {"part": "valid", "strong_percentile": STRONG_PERCENTILE},
        classes if classes is not None else pd.DataFrame(),
    )


def test_percentile_reads_a_score_against_the_random_pairs():
    ref = _reference()
    assert ref.percentile(np.array([-0.5, 0.0, 0.25, 0.5])) == pytest.approx([0.0, 50.0, 75.0, 100.0])
    assert ref.percentile(2.0) == 100.0 and ref.percentile(-2.0) == 0.0  # clipped outside the observed range
    assert ref.strong_score == pytest.approx(0.49)
    assert ref.matched_median() == pytest.approx(0.65)


def test_no_strong_match_below_the_99th_percentile_of_random_pairs():
    ref = _reference()
    assert not ref.is_strong(0.3)  # the 80th percentile: a random description matches as well
    assert not ref.is_strong(0.489)
    assert ref.is_strong(0.49) and ref.is_strong(0.7)


def test_a_reference_round_trips_through_json_and_ranks_example_queries():
    classes = pd.DataFrame(
        {
            "phrase": ["steroid", "alkaloid", "metabolite", "lactone"],
            "query": ["a steroid", "an alkaloid", "a metabolite", "a lactone"],
            "members": [9, 6, 40, 5],
            "roc_auc": [0.97, 0.99, 0.55, 0.97],
            "average_precision": [0.60, 0.45, 0.10, 0.60],
        }
    )
    ref = ScoreReference.from_json(_reference(classes).to_json())
    assert ref.percentile(0.0) == pytest.approx(50.0) and ref.meta["part"] == "valid"
    assert ref.example_queries(3) == ["a lactone", "a steroid", "an alkaloid"]  # AP, then ROC-AUC, then the text
    assert _reference().example_queries() == []
    with pytest.raises(ValueError, match="as many quantiles"):
        ScoreReference.from_json({**ref.to_json(), "random_quantiles": [0.0]})


def test_drug_class_lists_only_name_drugs_of_the_approved_drug_library():
    from workbench.data import load_approved_drugs

    names = set(load_approved_drugs().frame["name"].astype(str))
    for drug_class in DRUG_CLASSES.values():
        assert drug_class.members <= names, sorted(drug_class.members - names)
        assert len(drug_class.members) >= 10
    assert {"DONEPEZIL", "RIVASTIGMINE", "GALANTAMINE"} <= DRUG_CLASSES["ache"].members
    assert {"IBUPROFEN", "NAPROXEN", "DICLOFENAC", "CELECOXIB"} <= DRUG_CLASSES["nsaid"].members
    assert {"AMOXICILLIN", "CEFAZOLIN", "MEROPENEM", "AZTREONAM"} <= DRUG_CLASSES["beta_lactam"].members


def test_count_members_reads_merged_salt_names():
    members = DRUG_CLASSES["ache"].members
    names = ["DONEPEZIL; DONEPEZIL HYDROCHLORIDE", "OXPRENOLOL", "galantamine hydrobromide", ""]
    assert count_members(names, members) == [True, False, True, False]


@pytest.mark.slow
def test_a_stored_reference_calibrates_the_page_search(tiny_model, monkeypatch):  # noqa: F811
    from workbench.retrieval import library as retrieval_library

    chebi = type("D", (), {"frame": pairs_frame()})()
    monkeypatch.setattr(retrieval_library, "load_chebi20", lambda **_: chebi)
    retriever, _ = tiny_model
    assert load_score_reference(retriever) is None
    frame = corpus_frame(pairs_frame())
    card = store_score_reference(retriever, frame, np.arange(len(frame)), part="all", min_members=5)
    assert card.reference("score_reference").molecules == len(frame)
    reference = load_score_reference(retriever)
    assert reference.meta["random_pairs"] == 21 * 20 - 2  # the two ethanol pairs (one molecule) are not random
    library = pd.DataFrame({"smiles": ["c1ccc2ccccc2c1", "CCO", "CC(=O)O"], "name": ["NAPHTHALENE", "E", "A"]})
    nonsense = retrieval.text_search(NONSENSE, library, 3, retriever=retriever)
    assert nonsense.strong is False and nonsense.message.startswith("No strong match")
    hits = nonsense.hits
    assert list(hits.columns[:3]) == ["rank", "score", "percentile"]
    assert hits["percentile"].is_monotonic_decreasing and nonsense.best_percentile < STRONG_PERCENTILE
    chebi = retrieval.text_search("The molecule is a naphthalene number 19.", "chebi", 2, retriever=retriever)
    assert chebi.hits.loc[0, "name"] == "CID 20" and chebi.hits.loc[0, "snippet"].startswith("The molecule is")
    retrieval.clear_cache()  # the reference is read again from the card and the file
    assert load_score_reference(retrieval.load_retriever(NAME)).meta["part"] == "all"
