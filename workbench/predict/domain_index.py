"""The applicability-domain index stored with a checkpoint: packed ECFP4 of its training molecules.

Built once at training time (or by ``workbench models add-references`` for older checkpoints), saved as
``domain_index.npz`` in the checkpoint folder, then moved to the shared folder as ``<sha256>.npz``
(:func:`workbench.predict.references.store_references`: one copy per data set and split) and hashed in the
card like the weights. Scoring
a query needs no data file and no RDKit fingerprint objects: Tanimoto similarities come from
popcounts over the packed bits. The row numbers point into the data file recorded in the card, so
the nearest training molecules (SMILES and labels) can be read from it when it is present.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

__all__ = [
    "DOMAIN_INDEX_FILE",
    "FINGERPRINT",
    "N_BITS",
    "DomainIndex",
    "load_domain_index",
    "pack_fingerprints",
    "save_domain_index",
]

DOMAIN_INDEX_FILE = "domain_index.npz"
#: The fingerprint the index holds; a query is fingerprinted the same way.
FINGERPRINT = "morgan-r2-2048"
N_BITS = 2048
_WORDS = N_BITS // 64
_GEN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=N_BITS)
#: Query rows compared with the whole index at once (bounds the temporary array to ~64 MB at 33k rows).
_CHUNK = 8


def pack_fingerprints(mols: Sequence[Chem.Mol | None]) -> tuple[np.ndarray, np.ndarray]:
    """ECFP4 (2048 bits) of each molecule packed into 32 ``uint64`` words, and a validity mask."""
    packed = np.zeros((len(mols), _WORDS), dtype=np.uint64)
    ok = np.zeros(len(mols), dtype=bool)
    for i, mol in enumerate(mols):
        if mol is None:
            continue
        bits = _GEN.GetFingerprintAsNumPy(mol).astype(np.uint8)
        packed[i] = np.packbits(bits, bitorder="little").view(np.uint64)
        ok[i] = True
    return packed, ok


@dataclass
class DomainIndex:
    """Packed training fingerprints and their row numbers in the data file the card names."""

    bits: np.ndarray  # (n_train, 32) uint64
    rows: np.ndarray  # (n_train,) int64, row of each molecule in the data file

    def __post_init__(self) -> None:
        self._counts = np.bitwise_count(self.bits).sum(axis=1).astype(np.int32)

    def __len__(self) -> int:
        return len(self.rows)

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Tanimoto similarity of packed query rows ``(q, 32)`` to every training molecule: ``(q, n_train)``."""
        out = np.empty((len(query), len(self.rows)), dtype=np.float32)
        q_counts = np.bitwise_count(query).sum(axis=1).astype(np.int32)
        for start in range(0, len(query), _CHUNK):
            block = query[start : start + _CHUNK]
            common = np.bitwise_count(block[:, None, :] & self.bits[None, :, :]).sum(axis=2, dtype=np.int32)
            union = q_counts[start : start + _CHUNK, None] + self._counts[None, :] - common
            out[start : start + _CHUNK] = np.where(union > 0, common / np.maximum(union, 1), 0.0)
        return out

    def scores(self, mols: Sequence[Chem.Mol | None]) -> np.ndarray:
        """Max Tanimoto similarity of each molecule to the training set (NaN for ``None`` or an empty index)."""
        packed, ok = pack_fingerprints(mols)
        out = np.full(len(mols), np.nan)
        if ok.any() and len(self.rows):
            rows = np.flatnonzero(ok)
            for start in range(0, len(rows), 256):
                part = rows[start : start + 256]
                out[part] = self.similarities(packed[part]).max(axis=1)
        return out

    def nearest(self, mol: Chem.Mol, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
        """Data-file rows of the ``k`` most similar training molecules and their similarities."""
        packed, _ = pack_fingerprints([mol])
        sims = self.similarities(packed)[0]
        top = np.argsort(-sims, kind="stable")[:k]
        return self.rows[top], sims[top].astype(np.float64)


def save_domain_index(folder: str | Path, mols: Sequence[Chem.Mol], rows: Sequence[int]) -> Path:
    """Fingerprint the training molecules and write ``domain_index.npz`` atomically; returns its path."""
    if len(mols) != len(rows):
        raise ValueError("one data-file row per training molecule")
    packed, ok = pack_fingerprints(mols)
    if not ok.all():
        raise ValueError("every training molecule must be a parsed molecule")
    path = Path(folder) / DOMAIN_INDEX_FILE
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(
        tmp, bits=packed, rows=np.asarray(rows, dtype=np.int64), fingerprint=np.array(FINGERPRINT, dtype=str)
    )
    os.replace(tmp, path)
    return path


def load_domain_index(path: str | Path) -> DomainIndex:
    """Read a ``domain_index.npz`` (no pickles); raises ``ValueError`` when it is not a valid index."""
    try:
        with np.load(path, allow_pickle=False) as data:
            fingerprint = str(data["fingerprint"])
            bits, rows = data["bits"], data["rows"]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable domain index ({exc})") from exc
    if fingerprint != FINGERPRINT or bits.dtype != np.uint64 or bits.ndim != 2 or bits.shape[1] != _WORDS:
        raise ValueError(f"{path} holds {fingerprint} fingerprints of shape {bits.shape}; expected {FINGERPRINT}")
    if len(rows) != len(bits):
        raise ValueError(f"{path}: {len(rows)} rows for {len(bits)} fingerprints")
    return DomainIndex(bits=bits, rows=rows.astype(np.int64))
