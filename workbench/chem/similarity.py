"""Tanimoto similarity on fingerprint matrices: the one implementation the workbench uses on NumPy arrays.

(The S2P loss of the retrieval dual encoder computes the same quantity on torch tensors inside
:mod:`workbench.nn.dual_encoder`, because network code never imports this package.)
"""

from __future__ import annotations

import numpy as np

__all__ = ["tanimoto_matrix"]


def tanimoto_matrix(a: np.ndarray, b: np.ndarray | None = None) -> np.ndarray:
    """Pairwise Tanimoto similarity of two 0/1 fingerprint matrices (float64, as RDKit computes it).

    Pairs where both fingerprints are empty get 0.
    """
    b = a if b is None else b
    a32, b32 = a.astype(np.float32), b.astype(np.float32)
    common = np.rint(a32 @ b32.T).astype(np.int64)  # exact: counts < 2**24
    union = a32.sum(1).astype(np.int64)[:, None] + b32.sum(1).astype(np.int64)[None, :] - common
    with np.errstate(divide="ignore", invalid="ignore"):
        sim = np.where(union > 0, common / np.maximum(union, 1), 0.0)
    return sim
