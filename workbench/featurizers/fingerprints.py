"""ECFP (Morgan) fingerprints as bits or counts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem import rdFingerprintGenerator

__all__ = ["ecfp", "ecfp_batch"]


def _generator(radius: int, n_bits: int) -> rdFingerprintGenerator.FingerprintGenerator64:
    return rdFingerprintGenerator.GetMorganGenerator(radius=radius, fpSize=n_bits)


def ecfp(mol: Chem.Mol, *, n_bits: int = 2048, radius: int = 2, counts: bool = False) -> np.ndarray:
    """ECFP (Morgan) fingerprint of one molecule; ECFP4 is ``radius=2``.

    Returns:
        ``uint8`` bits, or ``uint16`` counts when ``counts=True``, shape ``(n_bits,)``.
    """
    gen = _generator(radius, n_bits)
    if counts:
        return gen.GetCountFingerprintAsNumPy(mol).astype(np.uint16)
    return gen.GetFingerprintAsNumPy(mol).astype(np.uint8)


def ecfp_batch(
    mols: Sequence[Chem.Mol | None], *, n_bits: int = 2048, radius: int = 2, counts: bool = False
) -> np.ndarray:
    """ECFP fingerprints of a batch as one ``(n, n_bits)`` array; ``None`` rows are all zero."""
    gen = _generator(radius, n_bits)
    out = np.zeros((len(mols), n_bits), dtype=np.uint16 if counts else np.uint8)
    for i, m in enumerate(mols):
        if m is None:
            continue
        out[i] = gen.GetCountFingerprintAsNumPy(m) if counts else gen.GetFingerprintAsNumPy(m)
    return out
