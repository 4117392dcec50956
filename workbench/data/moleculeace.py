"""MoleculeACE's 30 activity-cliff benchmark sets, read from the installed package.

The package's ``__init__`` is never imported (its dependencies pin an obsolete
RDKit); the CSV files are located with :func:`importlib.util.find_spec`, which
does not execute the package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from workbench.data.dataset import MolDataset
from workbench.data.download import DataUnavailableError
from workbench.hashing import sha256_file

__all__ = ["POTENCY_COLUMN", "list_moleculeace", "load_moleculeace", "moleculeace_dir"]

POTENCY_COLUMN = "exp_mean [nM]"
INSTALL_HINT = "Install it with: pip install --no-deps moleculeace==3.0.0"


def moleculeace_dir() -> Path:
    """Folder holding MoleculeACE's ``benchmark_data/*.csv``.

    Raises:
        DataUnavailableError: the package is not installed.
    """
    spec = importlib.util.find_spec("MoleculeACE")
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailableError(f"The MoleculeACE package is not installed. {INSTALL_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations))) / "Data" / "benchmark_data"
    if not folder.is_dir():
        raise DataUnavailableError(f"MoleculeACE is installed but {folder} is missing. {INSTALL_HINT}")
    return folder


def list_moleculeace() -> list[str]:
    """The benchmark targets, e.g. ``CHEMBL218_EC50`` (sorted)."""
    return sorted(p.stem for p in moleculeace_dir().glob("CHEMBL*.csv"))


def load_moleculeace(target: str) -> MolDataset:
    """Load one MoleculeACE target.

    The frame keeps MoleculeACE's columns: ``smiles``, ``exp_mean [nM]``, ``y``
    (-log10 of the potency in nM, so pActivity = y + 9), ``cliff_mol`` and ``split``.
    """
    path = moleculeace_dir() / f"{target}.csv"
    if not path.is_file():
        known = ", ".join(list_moleculeace()[:5])
        raise KeyError(f"unknown MoleculeACE target '{target}' (e.g. {known}, …).")
    frame = pd.read_csv(path)
    return MolDataset(
        target,
        frame,
        ["y"],
        "regression",
        path,
        sha256_file(path),
        units="-log10(nM)",
        meta={"source": "MoleculeACE 3.0.0"},
    )
