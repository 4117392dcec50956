"""Descriptor table of one molecule, with what each value means."""

from __future__ import annotations

import pandas as pd
from rdkit import Chem

from workbench.chem import describe

__all__ = ["DESCRIPTOR_HELP", "descriptor_frame"]

DESCRIPTOR_HELP = {
    "MW": "molecular weight, g/mol",
    "cLogP": "Crippen logP (lipophilicity)",
    "TPSA": "topological polar surface area, Å²",
    "HBD": "hydrogen-bond donors (Lipinski)",
    "HBA": "hydrogen-bond acceptors (Lipinski)",
    "rotatable_bonds": "rotatable bonds",
    "rings": "rings (SSSR)",
    "aromatic_rings": "aromatic rings",
    "heavy_atoms": "non-hydrogen atoms",
    "formal_charge": "net formal charge",
    "QED": "quantitative estimate of drug-likeness (0–1)",
    "lipinski_violations": "rule-of-five violations (MW>500, cLogP>5, HBD>5, HBA>10)",
}


def descriptor_frame(mol: Chem.Mol) -> pd.DataFrame:
    """Two-column table (descriptor, value) plus a help column."""
    values = describe(mol)
    return pd.DataFrame(
        {
            "descriptor": list(values),
            "value": [str(v) for v in values.values()],
            "help": [DESCRIPTOR_HELP[k] for k in values],
        }
    )
