"""Chemprop v2 molecular graphs: the ``SimpleMoleculeMolGraphFeaturizer`` with V2 atom features.

Reproduces chemprop 2.2's default featurizer bit for bit, batched with numpy:

* atoms (72): one-hot atomic number (1–36 and 53, else "unknown"), total degree (0–5),
  formal charge (-1, -2, 1, 2, 0), chiral tag (0–3), total H count (0–4), hybridization
  (S, SP, SP2, SP2D, SP3, SP3D, SP3D2), each with an unknown slot, then aromatic and
  mass / 100;
* bonds (14): null bit, bond type (single, double, triple, aromatic), conjugated, in
  ring, stereo (0–5 + unknown). As in chemprop, an unknown bond type leaves the type
  bits empty (its slot is the conjugated bit, which is then written over);
* each bond gives two directed edges ``(u→v, v→u)``; ``rev_edge_index`` pairs them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from rdkit import Chem
from rdkit.Chem.rdchem import BondType, HybridizationType

__all__ = ["ATOM_DIM", "BOND_DIM", "CHEMPROP_FEATURIZER", "ChempropBatch", "chemprop_batch"]

CHEMPROP_FEATURIZER = "chemprop_v2_molgraph"

_ATOMIC = {z: i for i, z in enumerate([*range(1, 37), 53])}
_CHARGES = {c: i for i, c in enumerate([-1, -2, 1, 2, 0])}
_HYBRID = {
    h: i
    for i, h in enumerate(
        [
            HybridizationType.S,
            HybridizationType.SP,
            HybridizationType.SP2,
            HybridizationType.SP2D,
            HybridizationType.SP3,
            HybridizationType.SP3D,
            HybridizationType.SP3D2,
        ]
    )
}
# (choices, offset) of each one-hot block; every block has an "unknown" slot at the end
_SIZES = [len(_ATOMIC), 6, len(_CHARGES), 4, 5, len(_HYBRID)]
_OFFSETS = np.cumsum([0] + [s + 1 for s in _SIZES])[:-1]
ATOM_DIM = int(sum(s + 1 for s in _SIZES) + 2)  # + aromatic + mass = 72
_BOND_TYPES = {BondType.SINGLE: 0, BondType.DOUBLE: 1, BondType.TRIPLE: 2, BondType.AROMATIC: 3}
BOND_DIM = 14


@dataclass
class ChempropBatch:
    """A batch of molecular graphs as tensors (see :mod:`workbench.nn.chemprop`)."""

    V: torch.Tensor
    E: torch.Tensor
    edge_index: torch.Tensor
    rev_edge_index: torch.Tensor
    batch: torch.Tensor
    num_graphs: int

    def to(self, device: torch.device) -> ChempropBatch:
        return ChempropBatch(
            self.V.to(device),
            self.E.to(device),
            self.edge_index.to(device),
            self.rev_edge_index.to(device),
            self.batch.to(device),
            self.num_graphs,
        )


def _atom_codes(mol: Chem.Mol) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per atom: the 6 one-hot indices (already offset), aromatic flag, mass / 100."""
    codes, aromatic, mass = [], [], []
    for a in mol.GetAtoms():
        codes.append(
            (
                _ATOMIC.get(a.GetAtomicNum(), 37),
                min(a.GetTotalDegree(), 6) if a.GetTotalDegree() >= 0 else 6,
                _CHARGES.get(a.GetFormalCharge(), 5),
                int(a.GetChiralTag()) if int(a.GetChiralTag()) < 4 else 4,
                a.GetTotalNumHs() if a.GetTotalNumHs() < 5 else 5,
                _HYBRID.get(a.GetHybridization(), 7),
            )
        )
        aromatic.append(a.GetIsAromatic())
        mass.append(0.01 * a.GetMass())
    return np.asarray(codes, dtype=np.int64).reshape(-1, 6), np.asarray(aromatic), np.asarray(mass)


def chemprop_batch(mols: Sequence[Chem.Mol]) -> ChempropBatch:
    """Featurize and collate molecules into one :class:`ChempropBatch` (chemprop's ``BatchMolGraph``)."""
    v_blocks, e_blocks, src_blocks, dst_blocks, batch_blocks = [], [], [], [], []
    n_atoms_total = n_edges_total = 0
    for g, mol in enumerate(mols):
        n_atoms = mol.GetNumAtoms()
        if n_atoms == 0:  # chemprop: one all-zero atom row
            v_blocks.append(np.zeros((1, ATOM_DIM), dtype=np.float32))
            batch_blocks.append(np.full(1, g, dtype=np.int64))
            n_atoms_total += 1
            continue
        codes, aromatic, mass = _atom_codes(mol)
        V = np.zeros((n_atoms, ATOM_DIM), dtype=np.float32)
        rows = np.repeat(np.arange(n_atoms), 6)
        np.put(V, rows * ATOM_DIM + (codes + _OFFSETS).ravel(), 1.0)
        V[:, ATOM_DIM - 2] = aromatic
        V[:, ATOM_DIM - 1] = mass.astype(np.float32)
        v_blocks.append(V)
        n_bonds = mol.GetNumBonds()
        E = np.zeros((2 * n_bonds, BOND_DIM), dtype=np.float32)
        src = np.empty(2 * n_bonds, dtype=np.int64)
        for i, bond in enumerate(mol.GetBonds()):
            x = E[2 * i]
            x[1 + _BOND_TYPES.get(bond.GetBondType(), 4)] = 1.0
            x[5] = bond.GetIsConjugated()
            x[6] = bond.IsInRing()
            stereo = int(bond.GetStereo())
            x[7 + (stereo if stereo < 6 else 6)] = 1.0
            E[2 * i + 1] = x
            u, v = bond.GetBeginAtomIdx(), bond.GetEndAtomIdx()
            src[2 * i], src[2 * i + 1] = u, v
        dst = src.reshape(-1, 2)[:, ::-1].ravel()
        e_blocks.append(E)
        src_blocks.append(src + n_atoms_total)
        dst_blocks.append(dst + n_atoms_total)
        batch_blocks.append(np.full(n_atoms, g, dtype=np.int64))
        n_atoms_total += n_atoms
        n_edges_total += 2 * n_bonds
    cat = np.concatenate
    E = cat(e_blocks) if e_blocks else np.zeros((0, BOND_DIM), dtype=np.float32)
    src = cat(src_blocks) if src_blocks else np.zeros(0, dtype=np.int64)
    dst = cat(dst_blocks) if dst_blocks else np.zeros(0, dtype=np.int64)
    rev = np.arange(n_edges_total).reshape(-1, 2)[:, ::-1].ravel()
    return ChempropBatch(
        V=torch.from_numpy(cat(v_blocks) if v_blocks else np.zeros((0, ATOM_DIM), dtype=np.float32)),
        E=torch.from_numpy(E),
        edge_index=torch.from_numpy(np.stack([src, dst])),
        rev_edge_index=torch.from_numpy(rev.copy()),
        batch=torch.from_numpy(cat(batch_blocks) if batch_blocks else np.zeros(0, dtype=np.int64)),
        num_graphs=len(mols),
    )
