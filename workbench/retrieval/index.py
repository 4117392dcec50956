"""Search over normalised embeddings and their files on disk.

:class:`EmbeddingIndex` searches exactly (numpy) when small and with FAISS when large;
:func:`save_index` / :func:`load_index` keep embeddings with their metadata in one safetensors file.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from safetensors.numpy import load_file as load_numpy
from safetensors.numpy import save_file as save_numpy

from workbench.cache import atomic_write
from workbench.models.store import safetensors_problem

__all__ = ["FAISS_THRESHOLD", "INDEX_FORMAT", "EmbeddingIndex", "load_index", "save_index"]

#: Libraries with more rows than this are searched with FAISS; smaller ones with one matrix product.
FAISS_THRESHOLD = 20_000
INDEX_FORMAT = "1"


class EmbeddingIndex:
    """Inner-product search over normalised vectors: exact (numpy) or FAISS (``IndexFlatIP``).

    Args:
        vectors: ``[n, d]`` float32, L2-normalised; all-zero rows are never returned.
        kind: ``exact``, ``faiss`` or ``auto`` (FAISS above :data:`FAISS_THRESHOLD` rows).
    """

    def __init__(self, vectors: np.ndarray, kind: str = "auto") -> None:
        if kind not in ("auto", "exact", "faiss"):
            raise ValueError("kind must be auto, exact or faiss")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.valid = np.abs(self.vectors).sum(1) > 0
        self.kind = ("faiss" if len(vectors) > FAISS_THRESHOLD else "exact") if kind == "auto" else kind
        self._faiss = None
        if self.kind == "faiss":
            import faiss

            self._faiss = faiss.IndexFlatIP(self.vectors.shape[1])
            self._faiss.add(self.vectors)

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows per query: ``(scores, indices)``, each ``[n_queries, <=k]``, best first."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, int(self.valid.sum()))
        if k <= 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        if self._faiss is not None:
            extra = int((~self.valid).sum())
            _, idx = self._faiss.search(queries, k + extra)
            keep = [[j for j in row if j >= 0 and self.valid[j]][:k] for row in idx]
            idx = np.array(keep, dtype=np.int64)
            return _rescore(queries, self.vectors, idx), idx
        scores = queries @ self.vectors.T
        scores[:, ~self.valid] = -np.inf
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(scores, part, 1).argsort(1)[:, ::-1]
        idx = np.take_along_axis(part, order, 1)
        return np.take_along_axis(scores, idx, 1), idx


def _rescore(queries: np.ndarray, vectors: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.einsum("qd,qkd->qk", queries, vectors[idx])


def save_index(path: str | Path, vectors: np.ndarray, meta: dict, dtype: type = np.float32) -> Path:
    """Write embeddings (as ``dtype``) and their metadata (model hash, library, ...) as one safetensors file."""
    tensors = {"vectors": np.ascontiguousarray(vectors, dtype=dtype)}
    metadata = {"meta": json.dumps(meta), "format": INDEX_FORMAT}
    return atomic_write(path, lambda tmp: save_numpy(tensors, str(tmp), metadata=metadata))


def load_index(path: str | Path, *, model_hash: str | None = None) -> tuple[np.ndarray, dict]:
    """Read :func:`save_index` output; ``ValueError`` when unreadable or embedded by another model."""
    from safetensors import safe_open

    problem = safetensors_problem(path)
    if problem:
        raise ValueError(f"{path} {problem}")
    try:
        with safe_open(str(path), framework="numpy") as handle:
            meta = json.loads((handle.metadata() or {}).get("meta", "{}"))
        vectors = load_numpy(str(path))["vectors"]
    except Exception as exc:
        raise ValueError(f"{path} is not a readable embedding file ({type(exc).__name__}: {exc})") from exc
    if not isinstance(meta, dict) or vectors.ndim != 2:
        raise ValueError(f"{path} is not an embedding file of this workbench")
    if model_hash is not None and meta.get("model_hash") != model_hash:
        raise ValueError(f"{path} was embedded by another model ({str(meta.get('model_hash'))[:12]}…); re-embed it")
    return vectors, meta
