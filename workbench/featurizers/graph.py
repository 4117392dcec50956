"""The pretrain-gnns molecular graph featurizer (and the featurizer block of a card).

The graph layout follows Hu et al. 2020 (pretrain-gnns) so that published GIN
checkpoints of that family (AttrMask, ContextPred, GraphCL, GraphMVP,
Mole-BERT, ...) read our graphs unchanged:

* node features ``x`` (long, ``[n_atoms, 2]``): atom type index (atomic number - 1,
  0..117; :data:`MASK_ATOM_INDEX` = 119 is the mask token) and chirality tag
  (0 unspecified, 1 CW, 2 CCW);
* edge features ``edge_attr`` (long, ``[n_edges, 2]``): bond type (0 single,
  1 double, 2 triple, 3 aromatic; 4 self-loop and 5 mask are added by models)
  and bond direction (0 none, 1 end-up-right, 2 end-down-right); each bond
  appears in both directions.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import torch
from rdkit import Chem

from workbench.featurizers.graph_batch import MolGraph

__all__ = [
    "FEATURIZER_VERSION",
    "GRAPH_FEATURIZER",
    "MASK_ATOM_INDEX",
    "NUM_ATOM_TYPES",
    "NUM_BOND_DIRECTIONS",
    "NUM_BOND_TYPES",
    "NUM_CHIRALITY_TAGS",
    "FeaturizationError",
    "featurizer_spec",
    "graph_arrays",
    "mol_to_graph",
    "mols_to_graphs",
]

#: Bumped whenever any featurizer's output changes; every checkpoint card records it.
FEATURIZER_VERSION = "1.0"
GRAPH_FEATURIZER = "pretrain_gnns_graph"

NUM_ATOM_TYPES = 120  # 118 elements + padding index 118 + mask token 119
MASK_ATOM_INDEX = 119
NUM_CHIRALITY_TAGS = 3
NUM_BOND_TYPES = 6  # single, double, triple, aromatic, self-loop, mask
SELF_LOOP_BOND_INDEX = 4
MASK_BOND_INDEX = 5
NUM_BOND_DIRECTIONS = 3

_CHIRALITY = {
    Chem.ChiralType.CHI_UNSPECIFIED: 0,
    Chem.ChiralType.CHI_TETRAHEDRAL_CW: 1,
    Chem.ChiralType.CHI_TETRAHEDRAL_CCW: 2,
}
_BOND_TYPE = {
    Chem.BondType.SINGLE: 0,
    Chem.BondType.DOUBLE: 1,
    Chem.BondType.TRIPLE: 2,
    Chem.BondType.AROMATIC: 3,
}
_BOND_DIR = {
    Chem.BondDir.NONE: 0,
    Chem.BondDir.ENDUPRIGHT: 1,
    Chem.BondDir.ENDDOWNRIGHT: 2,
}

#: Batches at least this large are featurized in a process pool.
POOL_THRESHOLD = 20_000


class FeaturizationError(ValueError):
    """A molecule cannot be represented by a featurizer (message says why)."""


def mol_to_graph(mol: Chem.Mol) -> MolGraph:
    """Convert an RDKit molecule to a pretrain-gnns style graph.

    Raises:
        FeaturizationError: for dummy atoms or bond types outside the layout (e.g. dative).
    """
    return _to_data(graph_arrays(mol))


def _to_data(arrays: tuple[np.ndarray, np.ndarray, np.ndarray]) -> MolGraph:
    x, edge_index, edge_attr = arrays
    return MolGraph(
        x=torch.from_numpy(x), edge_index=torch.from_numpy(edge_index), edge_attr=torch.from_numpy(edge_attr)
    )


def graph_arrays(mol: Chem.Mol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The graph as numpy arrays ``(x, edge_index, edge_attr)``; see :func:`mol_to_graph`."""
    atoms = mol.GetAtoms()
    atomic = np.fromiter((a.GetAtomicNum() for a in atoms), dtype=np.int64, count=mol.GetNumAtoms())
    if atomic.size == 0:
        raise FeaturizationError("molecule has no atoms")
    if (atomic < 1).any() or (atomic > 118).any():
        raise FeaturizationError("molecule contains a dummy atom (*), which the graph featurizer cannot encode")
    # chirality tags outside the three tetrahedral ones (e.g. CHI_OTHER, allene) are read as unspecified
    chiral = np.fromiter((_CHIRALITY.get(a.GetChiralTag(), 0) for a in atoms), dtype=np.int64, count=atomic.size)
    x = np.stack([atomic - 1, chiral], axis=1)

    n_bonds = mol.GetNumBonds()
    if n_bonds:
        edges = np.empty((n_bonds, 4), dtype=np.int64)
        for k, bond in enumerate(mol.GetBonds()):
            btype = _BOND_TYPE.get(bond.GetBondType())
            if btype is None:
                raise FeaturizationError(
                    f"bond {k + 1} is a {str(bond.GetBondType()).lower()} bond, "
                    "which the graph featurizer cannot encode"
                )
            edges[k] = (bond.GetBeginAtomIdx(), bond.GetEndAtomIdx(), btype, _BOND_DIR.get(bond.GetBondDir(), 0))
        # each bond as (i -> j, j -> i), interleaved as in pretrain-gnns
        edge_index = np.empty((2, 2 * n_bonds), dtype=np.int64)
        edge_index[0, 0::2] = edges[:, 0]
        edge_index[1, 0::2] = edges[:, 1]
        edge_index[0, 1::2] = edges[:, 1]
        edge_index[1, 1::2] = edges[:, 0]
        edge_attr = np.repeat(edges[:, 2:], 2, axis=0)
    else:
        edge_index = np.empty((2, 0), dtype=np.int64)
        edge_attr = np.empty((0, 2), dtype=np.int64)
    return np.ascontiguousarray(x), np.ascontiguousarray(edge_index), np.ascontiguousarray(edge_attr)


def _graphs_chunk(mols: list[Chem.Mol | None]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray] | str]:
    # numpy arrays, not tensors, cross the process boundary (tensors would use shared-memory handles)
    out: list[tuple[np.ndarray, np.ndarray, np.ndarray] | str] = []
    for mol in mols:
        if mol is None:
            out.append("no molecule")
            continue
        try:
            out.append(graph_arrays(mol))
        except FeaturizationError as exc:
            out.append(str(exc))
    return out


def mols_to_graphs(
    mols: Sequence[Chem.Mol | None], *, workers: int | None = None
) -> tuple[list[MolGraph | None], list[str]]:
    """Featurize a batch; returns graphs (``None`` where it failed) and per-row error strings.

    Batches of :data:`POOL_THRESHOLD` molecules or more are spread over a process pool
    (``workers`` defaults to the CPU count); smaller ones run in this process.
    """
    n = len(mols)
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if n >= POOL_THRESHOLD and workers > 1:
        # molecules travel as RDKit pickles, which keep atom order (SMILES would renumber atoms)
        size = max(1, n // (workers * 4))
        chunks = [list(mols[i : i + size]) for i in range(0, n, size)]
        with ProcessPoolExecutor(max_workers=workers) as pool:
            results = [r for chunk in pool.map(_graphs_chunk, chunks) for r in chunk]
    else:
        results = _graphs_chunk(list(mols))
    graphs = [_to_data(r) if isinstance(r, tuple) else None for r in results]
    errors = ["" if isinstance(r, tuple) else r for r in results]
    return graphs, errors


def featurizer_spec(name: str, **params: object) -> dict[str, object]:
    """The featurizer block of a model card: name, version and parameters."""
    if name not in (GRAPH_FEATURIZER, "ecfp"):
        raise ValueError(f"unknown featurizer '{name}'; known: {GRAPH_FEATURIZER}, ecfp")
    return {"name": name, "version": FEATURIZER_VERSION, "params": dict(params)}
