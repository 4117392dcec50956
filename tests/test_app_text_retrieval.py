"""AppTest for the text retrieval page with a tiny dual encoder named like the shipped one."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.retrieval_fixtures import build_tiny_retrieval, pairs_frame
from workbench import retrieval
from workbench.retrieval import library as retrieval_library
from workbench.retrieval import search as retrieval_search

PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "text_retrieval.py")


@pytest.fixture
def tiny_shipped(tmp_path, monkeypatch):
    import workbench.models.registry as checkpoints

    folder = tmp_path / "models"
    build_tiny_retrieval(folder, name=retrieval.DEFAULT_MODEL)
    monkeypatch.setattr(checkpoints, "models_dirs", lambda: [folder])
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    chebi = type("D", (), {"frame": pairs_frame()})()
    monkeypatch.setattr(retrieval_library, "load_chebi20", lambda **_: chebi)
    small_drugs = pd.DataFrame(
        {"smiles": ["c1ccc2ccccc2c1", "CCO", "CC(=O)O"], "name": ["NAPHTHALENE", "ETHANOL", "ACETIC ACID"],
         "chembl_id": ["a", "b", "c"], "first_approval": [1, 2, 3]}
    )  # fmt: skip
    monkeypatch.setattr(retrieval_library, "load_approved_drugs", lambda: type("D", (), {"frame": small_drugs})())
    retrieval.clear_cache()
    retrieval_search._CORPUS.clear()
    yield folder
    retrieval.clear_cache()
    retrieval_search._CORPUS.clear()


def _run() -> AppTest:
    st.cache_resource.clear()  # the page caches the model per process; each test brings its own
    st.cache_data.clear()
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_page_searches_the_drug_library_and_describes_a_molecule(tiny_shipped):
    at = _run()
    assert at.title[0].value == "Text retrieval"
    note = at.caption[0].value
    assert "held-out test pairs" in note and "MRR 1.00" in note
    at.text_input(key="tr_query").set_value("The molecule is a naphthalene number 19.").run()
    assert not at.exception, at.exception
    hits = at.dataframe[0].value
    assert hits.loc[0, "name"] == "NAPHTHALENE" and "score" in hits.columns
    assert not any("naphthalene" in m.value for m in at.markdown)  # only the open tab runs: no descriptions yet
    at.session_state["tr_tab"] = "Molecule → text"
    at.run()
    assert not at.exception, at.exception
    assert not at.dataframe  # the text search tab is closed now
    assert len(at.get("image")) >= 2  # the query molecule and the nearest corpus molecules
    assert any("naphthalene" in m.value for m in at.markdown)  # describe tab: closest descriptions


@pytest.mark.slow
def test_switching_to_chebi_and_a_bad_smiles(tiny_shipped):
    at = _run()
    at.radio(key="tr_library").set_value("chebi").run()
    assert not at.exception, at.exception
    assert "ChEBI-20 molecules: 22 molecules." in [c.value for c in at.caption]
    at.session_state["tr_tab"] = "Molecule → text"
    at.run()
    at.radio(key="tr_mol_source").set_value("SMILES").run()
    at.text_input(key="tr_smiles").set_value("C1CC(").run()
    assert not at.exception
    assert any("Cannot use this input" in e.value for e in at.error)


@pytest.mark.slow
def test_page_without_a_model_says_so(tmp_path, monkeypatch):
    import workbench.models.registry as checkpoints

    monkeypatch.setattr(checkpoints, "models_dirs", lambda: [tmp_path])
    retrieval.clear_cache()
    at = _run()
    assert "No retrieval model is available" in at.info[0].value


@pytest.mark.slow
def test_library_names_are_shown_as_text_not_markdown(tiny_shipped, monkeypatch):
    names = ["[Download](https://phish.invalid)", "![i](https://tracker.invalid/p.png)", "<b>ETHANOL</b>"]
    drugs = pd.DataFrame(
        {"smiles": ["c1ccc2ccccc2c1", "CCO", "CC(=O)O"], "name": names, "chembl_id": ["a", "b", "c"],
         "first_approval": [1, 2, 3]}
    )  # fmt: skip
    monkeypatch.setattr(retrieval_library, "load_approved_drugs", lambda: type("D", (), {"frame": drugs})())
    at = _run()
    at.text_input(key="tr_query").set_value("The molecule is a naphthalene number 19.").run()
    assert not at.exception, at.exception
    captions = [c.value for c in at.caption if "score" in c.value][:3]  # the text search grid comes first
    assert len(captions) == 3 and all("CID" not in c for c in captions)
    for caption in captions:  # no live link, no image the browser would fetch, no HTML
        assert "](" not in caption and "<b>" not in caption
    assert any("\\[Download\\]\\(https\\:" in c for c in captions)


@pytest.mark.slow
def test_a_nonsense_query_shows_no_strong_match_and_percentiles(tiny_shipped):
    import numpy as np

    from workbench.retrieval.calibration import store_score_reference
    from workbench.retrieval.corpus import corpus_frame

    frame = corpus_frame(pairs_frame())
    store_score_reference(retrieval.load_retriever(), frame, np.arange(len(frame)), part="all")
    at = _run()
    at.text_input(key="tr_query").set_value("a purple elephant that sings").run()
    assert not at.exception, at.exception
    assert any(w.value.startswith("No strong match") for w in at.warning)
    hits = at.dataframe[0].value
    assert "percentile" in hits.columns and (hits["percentile"] < 99).all()
    assert any("pct)" in c.value for c in at.caption)  # the grid shows each score's percentile


@pytest.mark.slow
def test_the_query_survives_a_visit_to_another_tab(tiny_shipped):
    at = _run()
    at.text_input(key="tr_query").set_value("The molecule is a naphthalene number 19.").run()
    at.slider(key="tr_k").set_value(2).run()
    for tab in ("Molecule → text", "Screening", "Text → molecules"):
        at.session_state["tr_tab"] = tab
        at.run()
        assert not at.exception, at.exception
    assert at.text_input(key="tr_query").value == "The molecule is a naphthalene number 19."
    assert at.slider(key="tr_k").value == 2 and len(at.dataframe[0].value) == 2
