"""The RDKit descriptors a screen can filter or rank by; only those an expression names are computed."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from rdkit import Chem
from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdMolDescriptors

__all__ = ["SCREEN_DESCRIPTORS", "compute_descriptors"]


def _qed(mol: Chem.Mol) -> float:
    try:
        return float(QED.qed(mol))
    except Exception:  # RDKit raises on a few odd molecules; NaN, not a failed row
        return float("nan")


#: Column name -> function of a standardized molecule (the names ``--where`` and ``--by`` may use).
SCREEN_DESCRIPTORS: dict[str, Callable[[Chem.Mol], float]] = {
    "MW": Descriptors.MolWt,
    "logP": Crippen.MolLogP,
    "TPSA": rdMolDescriptors.CalcTPSA,
    "HBD": Lipinski.NumHDonors,
    "HBA": Lipinski.NumHAcceptors,
    "RotB": rdMolDescriptors.CalcNumRotatableBonds,
    "rings": rdMolDescriptors.CalcNumRings,
    "heavy_atoms": lambda mol: mol.GetNumHeavyAtoms(),
    "QED": _qed,
}


def compute_descriptors(mols: Sequence[Chem.Mol | None], names: Sequence[str]) -> dict[str, np.ndarray]:
    """The named descriptors of each molecule as float64 arrays (NaN where the molecule is ``None``)."""
    unknown = [n for n in names if n not in SCREEN_DESCRIPTORS]
    if unknown:
        raise ValueError(f"unknown descriptor(s): {', '.join(unknown)} (known: {', '.join(SCREEN_DESCRIPTORS)})")
    out = {name: np.full(len(mols), np.nan) for name in names}
    for i, mol in enumerate(mols):
        if mol is None:
            continue
        for name in names:
            try:
                out[name][i] = float(SCREEN_DESCRIPTORS[name](mol))
            except Exception:  # one descriptor failing on one molecule leaves NaN
                out[name][i] = np.nan
    return out
