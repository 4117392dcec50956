"""Molecule <-> text retrieval: the dual encoder at inference, embedding index, libraries, search and describe.

* :mod:`~workbench.retrieval.model`: :func:`load_retriever` / :class:`Retriever` (the dual encoder, cached per process).
* :mod:`~workbench.retrieval.index`: :class:`EmbeddingIndex` (exact or FAISS) and its files.
* :mod:`~workbench.retrieval.library`: molecule libraries and their embeddings, kept on disk.
* :mod:`~workbench.retrieval.search`: text → molecules (:func:`text_search`: calibrated, with snippets), screening,
  molecule → descriptions.
* :mod:`~workbench.retrieval.calibration`: a score's percentile among random pairs, "no strong match", example
  queries chosen by the class-level test; :mod:`~workbench.retrieval.classes`: that test (class phrases of
  ChEBI-20 descriptions, ROC-AUC / average precision per class); :mod:`~workbench.retrieval.drug_classes`: the
  drug-class check (evaluation only).
"""

from workbench.retrieval.calibration import STRONG_PERCENTILE, ScoreReference, example_queries, load_score_reference
from workbench.retrieval.index import FAISS_THRESHOLD, EmbeddingIndex, load_index, save_index
from workbench.retrieval.library import LIBRARIES, Library, embed_library, library_frame
from workbench.retrieval.model import DEFAULT_MODEL, Retriever, clear_cache, load_retriever
from workbench.retrieval.search import (
    TextSearch,
    describe,
    hits_to_sdf,
    nearest_corpus_molecules,
    rank_library,
    search_molecules,
    text_search,
)

__all__ = [
    "DEFAULT_MODEL",
    "FAISS_THRESHOLD",
    "LIBRARIES",
    "STRONG_PERCENTILE",
    "EmbeddingIndex",
    "Library",
    "Retriever",
    "ScoreReference",
    "TextSearch",
    "clear_cache",
    "describe",
    "embed_library",
    "example_queries",
    "hits_to_sdf",
    "library_frame",
    "load_index",
    "load_retriever",
    "load_score_reference",
    "nearest_corpus_molecules",
    "rank_library",
    "save_index",
    "search_molecules",
    "text_search",
]
