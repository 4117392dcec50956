"""The class-level retrieval test: phrases read from descriptions by pattern, classes of a part, ROC-AUC and AP."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.retrieval.classes import (
    average_precision,
    class_metrics,
    class_phrases,
    class_summary,
    class_task,
    roc_auc,
    sentences,
)

PENICILLIN = (
    "The molecule is a penicillin in which the substituent at position 6 of the penam ring is a phenylacetamido "
    "group. It has a role as an epitope, an antibacterial drug and a drug allergen. It is a penicillin allergen, "
    "a beta-lactam antibiotic and a penicillin. It is a conjugate acid of a benzylpenicillin(1-)."
)
NEOSTIGMINE = (
    "The molecule is a quaternary ammonium ion that is the N,N,N-trimethylanilinium ion bearing a "
    "(dimethylcarbamoyl)oxy substituent at position 3. It has a role as an EC 3.1.1.7 (acetylcholinesterase) "
    "inhibitor, an EC 3.1.1.8 (cholinesterase) inhibitor and a muscarinic agonist."
)


def test_sentences_split_after_a_full_stop_but_not_inside_ec_numbers():
    parts = sentences(NEOSTIGMINE)
    assert len(parts) == 2 and parts[1].startswith("It has a role as an EC 3.1.1.7 (acetylcholinesterase)")


def test_class_phrases_read_the_head_noun_the_is_a_list_and_the_roles():
    found = class_phrases(PENICILLIN)
    assert found == {
        "penicillin": "a penicillin",  # head noun of "The molecule is a penicillin in which ..." and an "It is" item
        "epitope": "an epitope",
        "antibacterial drug": "an antibacterial drug",
        "drug allergen": "a drug allergen",
        "penicillin allergen": "a penicillin allergen",
        "beta-lactam antibiotic": "a beta-lactam antibiotic",
    }  # "a conjugate acid of a benzylpenicillin(1-)" relates it to one molecule: not a class


def test_class_phrases_keep_brackets_commas_in_names_and_the_written_case():
    found = class_phrases(NEOSTIGMINE)
    assert found["quaternary ammonium ion"] == "a quaternary ammonium ion"
    assert found["ec 3.1.1.7 (acetylcholinesterase) inhibitor"] == "an EC 3.1.1.7 (acetylcholinesterase) inhibitor"
    assert "muscarinic agonist" in found and len(found) == 4
    head = class_phrases("The molecule is a 1,2-diacyl-sn-glycerol 3-phosphate in which the acyl groups are oleoyl.")
    assert head == {"1,2-diacyl-sn-glycerol 3-phosphate": "a 1,2-diacyl-sn-glycerol 3-phosphate"}


def test_descriptions_without_the_patterns_give_no_phrase():
    assert class_phrases("") == {}
    assert class_phrases("The molecule is the D-enantiomer of glucitol. It derives from a hexose.") == {}
    long = "The molecule is the acid. It is a compound made of nine very long words that go on."
    assert class_phrases(long) == {}  # more than MAX_WORDS words: a description, not a class name


def _frame() -> pd.DataFrame:
    rows = []
    for i in range(12):
        kind = "a steroid" if i < 5 else "an alkaloid"
        role = " It has a role as a metabolite." if i % 2 == 0 else ""
        rows.append({"description": f"The molecule is {kind} that is number {i}.{role}", "inchikey": f"K{i}"})
    rows.append({"description": "The molecule is a steroid that is number 0 again.", "inchikey": "K0"})  # same molecule
    return pd.DataFrame(rows)


def test_class_task_counts_molecules_once_and_keeps_classes_with_enough_members():
    frame = _frame()
    task = class_task(frame, np.arange(len(frame)), part="test", min_members=5)
    assert task.phrases == ["alkaloid", "metabolite", "steroid"]
    assert task.queries == ["an alkaloid", "a metabolite", "a steroid"]
    assert len(task.rows) == 12 and list(task.members()) == [7, 6, 5]  # row 12 is molecule K0 again
    assert task.membership[0].tolist() == [False, True, True]
    only_first = class_task(frame, np.arange(6), min_members=5)
    assert only_first.phrases == ["steroid"]


def test_roc_auc_and_average_precision_on_known_rankings():
    labels = np.array([1, 0, 1, 0, 0], dtype=bool)
    assert roc_auc(labels, np.array([0.9, 0.8, 0.7, 0.2, 0.1])) == pytest.approx(5 / 6)
    assert roc_auc(labels, np.array([5.0, 1, 4, 3, 2])) == 1.0
    assert roc_auc(labels, np.ones(5)) == 0.5  # ties count half
    assert np.isnan(roc_auc(np.zeros(3, dtype=bool), np.arange(3.0)))
    # hits at ranks 1 and 3: AP = (1/1 + 2/3) / 2
    assert average_precision(labels, np.array([0.9, 0.8, 0.7, 0.2, 0.1])) == pytest.approx((1 + 2 / 3) / 2)
    assert average_precision(labels, np.ones(5)) == pytest.approx(0.4)  # one threshold: precision = prevalence


def test_class_metrics_on_a_toy_space_where_the_answer_is_known():
    frame = _frame()
    task = class_task(frame, np.arange(len(frame)), min_members=5)
    axis = {p: i for i, p in enumerate(task.phrases)}
    molecules = task.membership.astype(np.float32) + 0.01  # each molecule points along its classes' axes
    queries = np.eye(len(task), dtype=np.float32)
    table = class_metrics(molecules, queries, task)
    assert table["roc_auc"].tolist() == [1.0, 1.0, 1.0] and table["average_precision"].tolist() == [1.0, 1.0, 1.0]
    shuffled = queries[[axis["steroid"], axis["alkaloid"], axis["metabolite"]]]  # each query asks for another class
    wrong = class_metrics(molecules, shuffled, task)
    assert (wrong["roc_auc"] < 0.6).all()
    summary = class_summary(table)
    assert summary["classes"] == 3 and summary["mean_roc_auc"] == 1.0
    assert summary["mean_prevalence"] == pytest.approx(np.mean([7 / 12, 6 / 12, 5 / 12]))
    assert class_summary(table.iloc[:0])["classes"] == 0
