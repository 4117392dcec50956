"""Search index and API: save/load round trip, exact vs FAISS, planted molecule, describe, screening."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.retrieval_fixtures import NAME, pairs_frame, tiny_model  # noqa: F401  (module-scoped fixture)
from workbench import retrieval
from workbench.data.paths import cache_dir
from workbench.retrieval import library as retrieval_library
from workbench.retrieval import search as retrieval_search


def test_index_save_load_round_trip(tmp_path):
    vectors = np.random.default_rng(0).standard_normal((7, 5)).astype(np.float32)
    path = retrieval.save_index(tmp_path / "lib.safetensors", vectors, {"model_hash": "abc", "library": "x"})
    back, meta = retrieval.load_index(path, model_hash="abc")
    assert np.array_equal(back, vectors) and meta["library"] == "x"
    with pytest.raises(ValueError, match="another model"):
        retrieval.load_index(path, model_hash="def")


def test_exact_and_faiss_searches_agree_and_skip_empty_rows():
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((500, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors[3] = 0.0  # a molecule that could not be embedded
    queries = vectors[[3, 10, 20]] + 0.01
    exact = retrieval.EmbeddingIndex(vectors, kind="exact")
    fast = retrieval.EmbeddingIndex(vectors, kind="faiss")
    s1, i1 = exact.search(queries, 5)
    s2, i2 = fast.search(queries, 5)
    assert np.array_equal(i1, i2) and np.allclose(s1, s2, atol=1e-5)
    assert 3 not in i1 and i1[1, 0] == 10 and i1[2, 0] == 20
    assert (np.diff(s1, axis=1) <= 1e-6).all()  # best first


@pytest.mark.slow
def test_loaded_once_per_process(tiny_model):  # noqa: F811
    retriever, _ = tiny_model
    assert retrieval.load_retriever(NAME) is retriever
    assert retriever.corpus_features is not None and retriever.model_hash


def test_query_returns_the_planted_molecule(tiny_model):  # noqa: F811
    retriever, corpus = tiny_model
    decoys = ["CCCCCCCCCC", "OCCO", "ClCCl", "C#N"]
    library = pd.DataFrame({"smiles": [*decoys, "c1ccc2ccccc2c1", "not a smiles"], "name": [*decoys, "planted", "bad"]})
    text = corpus.frame.loc[corpus.frame["smiles"] == "c1ccc2ccccc2c1", "description"].iloc[0]
    hits = retrieval.search_molecules(text, library, k=3, retriever=retriever)
    assert hits.loc[0, "name"] == "planted"
    assert list(hits["rank"]) == [1, 2, 3] and hits["score"].is_monotonic_decreasing
    assert "bad" not in set(hits["name"])  # unparsable rows are never hits


def test_library_embeddings_are_cached_on_disk_with_the_model_hash(tiny_model, tmp_path):  # noqa: F811
    retriever, _ = tiny_model
    frame = pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "C1CC("]})
    lib = retrieval.embed_library(frame, retriever)
    assert lib.frame["error"].tolist()[:2] == ["", ""] and lib.frame["error"].iloc[2]
    files = list((cache_dir() / "retrieval").rglob("*.safetensors"))
    assert files
    _, meta = retrieval.load_index(files[0], model_hash=retriever.model_hash)
    assert meta["model_hash"] == retriever.model_hash


def test_rank_library_scores_every_row_with_row_level_errors(tiny_model):  # noqa: F811
    retriever, _ = tiny_model
    out = retrieval.rank_library("The molecule is a acid number 9.", ["CC(=O)O", "C1CC(", "CCCCO"], retriever=retriever)
    assert out["input"].tolist() == ["CC(=O)O", "C1CC(", "CCCCO"]
    assert out.loc[1, "error"] and pd.isna(out.loc[1, "score"]) and pd.isna(out.loc[1, "rank"])
    assert sorted(out["rank"].dropna().tolist()) == [1, 2]


def test_describe_needs_the_chebi_corpus_and_rejects_bad_smiles(tiny_model, monkeypatch):  # noqa: F811
    retriever, _ = tiny_model
    raw = pairs_frame()
    fake = type("D", (), {"frame": raw})()
    monkeypatch.setattr(retrieval_library, "load_chebi20", lambda **_: fake)
    retrieval_search._CORPUS.clear()
    table = retrieval.describe("c1ccc2ccccc2c1", 3, retriever=retriever)
    assert list(table.columns[:3]) == ["rank", "score", "description"] and len(table) == 3
    assert "naphthalene" in table.loc[0, "description"]
    with pytest.raises(ValueError, match="cannot use"):
        retrieval.describe("C1CC(", retriever=retriever)
    retrieval_search._CORPUS.clear()


def test_describing_a_molecule_and_its_nearest_corpus_molecules_embed_it_once(tiny_model, monkeypatch):  # noqa: F811
    retriever, _ = tiny_model
    fake = type("D", (), {"frame": pairs_frame()})()
    monkeypatch.setattr(retrieval_library, "load_chebi20", lambda **_: fake)
    retrieval.clear_cache()
    retrieval.nearest_corpus_molecules("CCO", 2, retriever=retriever)  # embeds the corpus library first
    calls = []
    embed = retriever.embed_molecules
    monkeypatch.setattr(
        retriever, "embed_molecules", lambda smiles, **kw: calls.append(list(smiles)) or embed(smiles, **kw)
    )
    first = retrieval.describe("c1ccc2ccccc2c1", 3, retriever=retriever)
    near = retrieval.nearest_corpus_molecules("c1ccc2ccccc2c1", 3, retriever=retriever)
    again = retrieval.describe("c1ccc2ccccc2c1", 3, retriever=retriever)
    assert calls == [["c1ccc2ccccc2c1"]]  # one embedding serves both views and the rerun
    assert first.equals(again) and len(near) == 3
    retrieval.describe("CCCCO", 3, retriever=retriever)
    assert calls[-1] == ["CCCCO"]
    retrieval.clear_cache()  # a retrained model must not reuse the old vectors
    retrieval.describe("c1ccc2ccccc2c1", 3, retriever=retriever)
    assert calls[-1] == ["c1ccc2ccccc2c1"] and len(calls) == 3
    retrieval_search._CORPUS.clear()


def test_hits_to_sdf_has_one_record_per_parsable_row():
    hits = pd.DataFrame({"rank": [1, 2], "score": [0.9, 0.8], "smiles": ["CCO", "c1ccccc1"], "name": ["a", "b"]})
    sdf = retrieval.hits_to_sdf(hits)
    assert sdf.count("$$$$") == 2 and "<score>" in sdf


def test_salt_forms_of_one_molecule_are_one_hit(tiny_model):  # noqa: F811
    retriever, _ = tiny_model
    library = pd.DataFrame(
        {"smiles": ["CCO", "CC[O-].[Na+]", "c1ccccc1", "CCCCO"], "name": ["ethanol", "sodium ethoxide", "benzene", "b"]}
    )
    text = "The molecule is a alcohol number 0."
    merged = retrieval.search_molecules(text, library, k=3, retriever=retriever)
    assert merged["smiles"].is_unique and len(merged) == 3 and list(merged["rank"]) == [1, 2, 3]
    row = merged[merged["smiles"] == "CCO"].iloc[0]
    assert row["name"] == "ethanol; sodium ethoxide"
    everything = retrieval.search_molecules(text, library, k=4, retriever=retriever, unique=False)
    assert (everything["smiles"] == "CCO").sum() == 2
