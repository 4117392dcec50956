"""A pretraining corpus as packed graph arrays, cached on disk, and batches assembled from them.

A corpus of a million molecules does not fit in memory as PyG ``Data`` objects; here every
graph lives in a few flat NumPy arrays (atom types as uint8, local bond indices as int16),
featurized once per corpus file and stored beside it as ``<corpus>.graphs-<featurizer>.npz``
(plain arrays, loaded with ``allow_pickle=False``). :meth:`PackedGraphs.batch` gathers any
set of molecules into one batch without Python-level loops over molecules.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from rdkit import Chem, RDLogger

from workbench.data.corpus_files import read_corpus_smiles
from workbench.featurizers.graph import FEATURIZER_VERSION, FeaturizationError, graph_arrays

__all__ = ["GraphBatch", "PackedGraphs", "load_corpus_graphs", "pack_smiles"]

_ARRAYS = ("x", "edge_index", "edge_attr", "atom_ptr", "edge_ptr", "failed")


class GraphBatch(NamedTuple):
    """One batch: node and edge tensors (int64), the atom offsets of each molecule, and its size."""

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    ptr: torch.Tensor
    num_graphs: int

    def to(self, device: torch.device | str) -> GraphBatch:
        return GraphBatch(
            self.x.to(device), self.edge_index.to(device), self.edge_attr.to(device), self.ptr, self.num_graphs
        )


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """``concatenate([arange(s, s + n) for s, n in zip(starts, lengths)])`` without the loop."""
    total = int(lengths.sum())
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(total, dtype=np.int64) + shift


@dataclass(frozen=True)
class PackedGraphs:
    """Every molecule's graph in flat arrays; molecule ``i`` owns atoms ``atom_ptr[i]:atom_ptr[i+1]``.

    ``failed`` lists corpus rows that could not be featurized (left out; indices refer to the corpus file).
    """

    x: np.ndarray  # uint8 [n_atoms, 2]
    edge_index: np.ndarray  # int16 [2, n_edges], atom indices local to each molecule
    edge_attr: np.ndarray  # uint8 [n_edges, 2]
    atom_ptr: np.ndarray  # int64 [n + 1]
    edge_ptr: np.ndarray  # int64 [n + 1]
    failed: np.ndarray  # int64 corpus rows left out

    def __len__(self) -> int:
        return len(self.atom_ptr) - 1

    def batch(self, rows: np.ndarray) -> GraphBatch:
        """The molecules ``rows`` as one batch (atoms renumbered, molecules in the given order)."""
        rows = np.asarray(rows, dtype=np.int64)
        atom_start, n_atoms = self.atom_ptr[rows], self.atom_ptr[rows + 1] - self.atom_ptr[rows]
        edge_start, n_edges = self.edge_ptr[rows], self.edge_ptr[rows + 1] - self.edge_ptr[rows]
        atoms, edges = _ranges(atom_start, n_atoms), _ranges(edge_start, n_edges)
        ptr = np.concatenate([[0], np.cumsum(n_atoms)])
        edge_index = self.edge_index[:, edges].astype(np.int64) + np.repeat(ptr[:-1], n_edges)
        return GraphBatch(
            torch.from_numpy(self.x[atoms].astype(np.int64)),
            torch.from_numpy(edge_index),
            torch.from_numpy(self.edge_attr[edges].astype(np.int64)),
            torch.from_numpy(ptr),
            len(rows),
        )

    def save(self, path: Path) -> None:
        """Write the arrays as an uncompressed ``.npz`` (atomically)."""
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez(tmp, **{name: getattr(self, name) for name in _ARRAYS})
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> PackedGraphs:
        with np.load(path, allow_pickle=False) as data:
            return cls(**{name: data[name] for name in _ARRAYS})


def pack_smiles(smiles: list[str], progress: Callable[[int], None] | None = None) -> PackedGraphs:
    """Featurize canonical SMILES (a corpus's, already standardized) into :class:`PackedGraphs`."""
    RDLogger.DisableLog("rdApp.*")
    xs, edge_indices, edge_attrs, failed = [], [], [], []
    atom_counts, edge_counts = [], []
    for row, text in enumerate(smiles):
        mol = Chem.MolFromSmiles(text)
        try:
            if mol is None:
                raise FeaturizationError("unparsable")
            x, edge_index, edge_attr = graph_arrays(mol)
        except FeaturizationError:
            failed.append(row)
            continue
        xs.append(x.astype(np.uint8))
        edge_indices.append(edge_index.astype(np.int16))
        edge_attrs.append(edge_attr.astype(np.uint8))
        atom_counts.append(len(x))
        edge_counts.append(edge_index.shape[1])
        if progress is not None and (row + 1) % 10_000 == 0:
            progress(row + 1)
    return PackedGraphs(
        np.concatenate(xs) if xs else np.zeros((0, 2), np.uint8),
        np.concatenate(edge_indices, axis=1) if edge_indices else np.zeros((2, 0), np.int16),
        np.concatenate(edge_attrs) if edge_attrs else np.zeros((0, 2), np.uint8),
        np.concatenate([[0], np.cumsum(atom_counts, dtype=np.int64)]),
        np.concatenate([[0], np.cumsum(edge_counts, dtype=np.int64)]),
        np.asarray(failed, dtype=np.int64),
    )


def load_corpus_graphs(corpus: Path, sha256: str, log: Callable[[str], None] = print) -> PackedGraphs:
    """The corpus file's graphs, featurized once and cached beside it (keyed by its sha256 and the featurizer)."""
    cache = corpus.with_name(f"{corpus.stem}.graphs-{sha256[:16]}-v{FEATURIZER_VERSION}.npz")
    if cache.is_file():
        try:
            return PackedGraphs.load(cache)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            log(f"{cache} is unreadable; featurizing again")
    smiles = read_corpus_smiles(corpus)
    log(f"featurizing {len(smiles):,} molecules of {corpus.name} (once; cached in {cache.name})")
    graphs = pack_smiles(smiles, progress=lambda n: log(f"  {n:,}/{len(smiles):,}") if n % 50_000 == 0 else None)
    graphs.save(cache)
    return graphs
