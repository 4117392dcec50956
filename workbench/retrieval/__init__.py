"""Molecule <-> text retrieval: the dual encoder at inference, embedding index, libraries, search and describe.

* :mod:`~workbench.retrieval.model`: :func:`load_retriever` / :class:`Retriever` (the dual encoder, cached per process).
* :mod:`~workbench.retrieval.index`: :class:`EmbeddingIndex` (exact or FAISS) and its files.
* :mod:`~workbench.retrieval.library`: molecule libraries and their embeddings, kept on disk.
* :mod:`~workbench.retrieval.search`: text → molecules, screening, molecule → descriptions.
"""

from workbench.retrieval.index import FAISS_THRESHOLD, EmbeddingIndex, load_index, save_index
from workbench.retrieval.library import LIBRARIES, Library, embed_library, library_frame
from workbench.retrieval.model import DEFAULT_MODEL, Retriever, clear_cache, load_retriever
from workbench.retrieval.search import (
    describe,
    hits_to_sdf,
    nearest_corpus_molecules,
    rank_library,
    search_molecules,
)

__all__ = [
    "DEFAULT_MODEL",
    "FAISS_THRESHOLD",
    "LIBRARIES",
    "EmbeddingIndex",
    "Library",
    "Retriever",
    "clear_cache",
    "describe",
    "embed_library",
    "hits_to_sdf",
    "library_frame",
    "load_index",
    "load_retriever",
    "nearest_corpus_molecules",
    "rank_library",
    "save_index",
    "search_molecules",
]
