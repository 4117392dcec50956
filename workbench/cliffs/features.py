"""Inputs of the QSAR models: ECFP4 as MoleculeACE computes it, scaled counts, and the seeded hold-out.

Neural models and the SVM-Tanimoto hold out a seeded 15 % of the training set (for early stopping,
σ/d of the IFM-MLP and C of the SVM): nothing is tuned on the test set.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from rdkit import Chem, rdBase

from workbench.featurizers import ecfp_batch

__all__ = ["Progress", "ecfp_features", "holdout", "scaled_counts"]

#: ``callback(fraction, message)``
Progress = Callable[[float, str], None]


def ecfp_features(smiles: Sequence[str], counts: bool = False) -> np.ndarray:
    """ECFP4, 1,024 bits (MoleculeACE's setting) as float32; unparsable SMILES give zero rows."""
    with rdBase.BlockLogs():
        mols = [Chem.MolFromSmiles(s) for s in smiles]
    return ecfp_batch(mols, n_bits=1024, radius=2, counts=counts).astype(np.float32)


def scaled_counts(smiles_train: Sequence[str], smiles_test: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """ECFP4 counts (1,024) scaled to [0, 1] by the training maximum (test values clipped at 1)."""
    tr, te = ecfp_features(smiles_train, counts=True), ecfp_features(smiles_test, counts=True)
    scale = np.maximum(tr.max(axis=0), 1.0)
    return tr / scale, np.minimum(te / scale, 1.0)


def holdout(n: int, seed: int, fraction: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    """``(fit rows, held-out rows)`` of ``n`` training rows: a seeded ``fraction`` held out (none when n ≤ 4)."""
    order = np.random.default_rng(seed).permutation(n)
    n_valid = max(1, round(fraction * n)) if n > 4 else 0
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])
