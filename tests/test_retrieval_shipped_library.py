"""A retrieval checkpoint ships its approved-drug embeddings: a first search embeds nothing, a bad file is skipped."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.retrieval_fixtures import NAME, build_tiny_retrieval
from workbench import retrieval
from workbench.retrieval.library import LIBRARY_KINDS, LIBRARY_REFERENCE, embed_library, store_library_embeddings
from workbench.retrieval.model import Retriever


def count_embedded(monkeypatch) -> list[int]:
    """From now on, the number of molecules of each call to ``Retriever.embed_molecules`` (appended to the list)."""
    calls: list[int] = []
    original = Retriever.embed_molecules

    def counted(self, smiles, **kwargs):
        calls.append(len(smiles))
        return original(self, smiles, **kwargs)

    monkeypatch.setattr(Retriever, "embed_molecules", counted)
    return calls


@pytest.mark.slow
def test_shipped_drug_embeddings_are_used_until_the_file_is_tampered_with(tmp_path, monkeypatch, caplog):
    build_tiny_retrieval(tmp_path / "models")
    monkeypatch.setenv("WORKBENCH_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    retrieval.clear_cache()
    fresh = embed_library("drugs", retrieval.load_retriever(NAME), cache=False)
    card = store_library_embeddings(retrieval.load_retriever(NAME))
    assert card.reference(LIBRARY_REFERENCE).molecules == len(fresh) > 2000

    calls = count_embedded(monkeypatch)
    retrieval.clear_cache()  # the retriever is read again, with the card that lists the file
    shipped = embed_library("drugs", retrieval.load_retriever(NAME), cache=False)
    assert calls == []
    assert shipped.frame["error"].tolist() == fresh.frame["error"].tolist()
    assert shipped.frame["smiles"].tolist() == fresh.frame["smiles"].tolist()
    assert np.abs(shipped.index.vectors - fresh.index.vectors).max() < 2e-3  # stored as float16

    stored = tmp_path / "models" / NAME / "library_drugs.safetensors"
    data = bytearray(stored.read_bytes())
    data[-1] ^= 0xFF
    stored.write_bytes(bytes(data))
    retrieval.clear_cache()
    with caplog.at_level(logging.WARNING):
        again = embed_library("drugs", retrieval.load_retriever(NAME), cache=False)
    assert calls == [len(fresh)] and "not using the shipped drugs embeddings" in caplog.text
    assert np.abs(again.index.vectors - fresh.index.vectors).max() == 0.0


@pytest.mark.slow
def test_chebi_embeddings_ship_beside_the_drug_embeddings_and_a_search_embeds_nothing(tmp_path, monkeypatch):
    build_tiny_retrieval(tmp_path / "models")
    monkeypatch.setenv("WORKBENCH_MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(tmp_path / "cache"))
    retrieval.clear_cache()
    store_library_embeddings(retrieval.load_retriever(NAME), "drugs")
    card = store_library_embeddings(retrieval.load_retriever(NAME), "chebi")
    assert {kind: card.reference(kind).file for kind in LIBRARY_KINDS.values()} == {
        "library_embeddings": "library_drugs.safetensors",
        "corpus_library_embeddings": "library_chebi.safetensors",
    }
    with pytest.raises(ValueError, match="only drugs, chebi"):
        store_library_embeddings(retrieval.load_retriever(NAME), "upload")

    calls = count_embedded(monkeypatch)
    retrieval.clear_cache()
    chebi = embed_library("chebi", retrieval.load_retriever(NAME), cache=False)
    drugs = embed_library("drugs", retrieval.load_retriever(NAME), cache=False)
    assert calls == [] and len(chebi) > 6000 and len(drugs) > 2000
