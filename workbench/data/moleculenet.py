"""MoleculeNet tables: the chemprop-layout copies and the official DeepChem files."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from workbench.data.dataset import MolDataset
from workbench.data.download import DataUnavailableError, download, verify_sidecar
from workbench.data.paths import cache_dir, search_dirs

__all__ = ["MOLECULENET", "MoleculeNetSpec", "load_moleculenet", "locate_moleculenet"]

DEEPCHEM_BASE = "https://deepchemdata.s3-us-west-1.amazonaws.com/datasets/"


@dataclass(frozen=True)
class MoleculeNetSpec:
    """Where a MoleculeNet table lives and how its columns map to tasks.

    ``tasks=None`` means every column that is neither the SMILES nor listed in
    ``meta_columns``. ``renames`` maps a source column to its canonical task name
    (the two layouts name regression targets differently).
    """

    name: str
    title: str
    local_file: str
    official_file: str
    task_type: str
    tasks: tuple[str, ...] | None = None
    renames: dict[str, str] = field(default_factory=dict)
    meta_columns: tuple[str, ...] = ()
    units: str = ""
    official_sha256: str | None = None  # not published by DeepChem; verified against the sidecar instead

    @property
    def url(self) -> str:
        return DEEPCHEM_BASE + self.official_file


MOLECULENET: dict[str, MoleculeNetSpec] = {
    s.name: s
    for s in [
        MoleculeNetSpec(
            "bbbp",
            "BBBP (blood-brain barrier penetration)",
            "BBBP.csv",
            "BBBP.csv",
            "classification",
            ("p_np",),
            meta_columns=("num", "name"),
        ),
        MoleculeNetSpec(
            "bace", "BACE (β-secretase 1 inhibition)", "bace.csv", "bace.csv", "classification", ("Class",)
        ),
        MoleculeNetSpec(
            "clintox",
            "ClinTox (FDA approval / clinical-trial toxicity)",
            "clintox.csv",
            "clintox.csv.gz",
            "classification",
            ("FDA_APPROVED", "CT_TOX"),
        ),
        MoleculeNetSpec("sider", "SIDER (27 side-effect classes)", "sider.csv", "sider.csv.gz", "classification"),
        MoleculeNetSpec(
            "tox21",
            "Tox21 (12 toxicity assays)",
            "tox21.csv",
            "tox21.csv.gz",
            "classification",
            meta_columns=("mol_id",),
        ),
        MoleculeNetSpec("toxcast", "ToxCast (617 assays)", "toxcast.csv.gz", "toxcast_data.csv.gz", "classification"),
        MoleculeNetSpec(
            "hiv",
            "HIV (inhibition of HIV replication)",
            "HIV.csv.gz",
            "HIV.csv",
            "classification",
            ("HIV_active",),
            meta_columns=("activity",),
        ),
        MoleculeNetSpec(
            "muv",
            "MUV (17 virtual-screening targets)",
            "muv.csv.gz",
            "muv.csv.gz",
            "classification",
            meta_columns=("mol_id",),
        ),
        MoleculeNetSpec(
            "esol",
            "ESOL (aqueous solubility)",
            "delaney.csv",
            "delaney-processed.csv",
            "regression",
            ("log_solubility",),
            renames={"logp": "log_solubility", "measured log solubility in mols per litre": "log_solubility"},
            units="log10(mol/L)",
        ),
        MoleculeNetSpec(
            "freesolv",
            "FreeSolv (hydration free energy)",
            "freesolv.csv",
            "SAMPL.csv",
            "regression",
            ("hydration_free_energy",),
            renames={"freesolv": "hydration_free_energy", "expt": "hydration_free_energy"},
            units="kcal/mol",
        ),
        MoleculeNetSpec(
            "lipophilicity",
            "Lipophilicity (logD at pH 7.4)",
            "lipo.csv",
            "Lipophilicity.csv",
            "regression",
            ("logD",),
            renames={"lipo": "logD", "exp": "logD"},
            units="logD",
        ),
        MoleculeNetSpec("qm8", "QM8 (electronic spectra)", "qm8.csv.gz", "qm8.csv", "regression", units="eV / a.u."),
    ]
}

_SMILES_COLUMNS = ("smiles", "mol", "SMILES")
_ALIASES = {"delaney": "esol", "lipo": "lipophilicity", "sampl": "freesolv"}


def get_spec(name: str) -> MoleculeNetSpec:
    """Spec by name (case-insensitive; ``delaney``, ``lipo`` and ``sampl`` are aliases)."""
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in MOLECULENET:
        raise KeyError(f"unknown MoleculeNet data set '{name}'; known: {', '.join(MOLECULENET)}")
    return MOLECULENET[key]


def find_moleculenet(name: str) -> Path | None:
    """The first existing file for a data set, in either layout, or ``None``."""
    spec = get_spec(name)
    for folder in search_dirs("moleculenet"):
        for filename in (spec.local_file, spec.official_file):
            candidate = folder / filename
            if candidate.is_file():
                return candidate
    return None


def locate_moleculenet(name: str, *, download_missing: bool = True, progress: bool = True) -> Path:
    """Path of a MoleculeNet file, downloading the official DeepChem file when missing.

    Raises:
        DataUnavailableError: not on disk and the download failed.
    """
    found = find_moleculenet(name)
    if found is not None:
        return found
    spec = get_spec(name)
    dest = cache_dir() / "moleculenet" / spec.official_file
    if not download_missing:
        raise DataUnavailableError(
            f"{spec.local_file} was not found in {', '.join(map(str, search_dirs('moleculenet')))}; "
            f"set WORKBENCH_DATA_DIR or allow the download from {spec.url}."
        )
    return download(spec.url, dest, sha256=spec.official_sha256, progress=progress)


def read_moleculenet_file(spec: MoleculeNetSpec, path: Path) -> pd.DataFrame:
    """Read either layout into a frame with ``smiles`` and canonical task columns."""
    raw = pd.read_csv(path)
    smiles_col = next((c for c in _SMILES_COLUMNS if c in raw.columns), None)
    if smiles_col is None:
        raise ValueError(f"{path} has no SMILES column (looked for {', '.join(_SMILES_COLUMNS)}).")
    raw = raw.rename(columns={**spec.renames, smiles_col: "smiles"})
    if spec.tasks is not None:
        missing = [t for t in spec.tasks if t not in raw.columns]
        if missing:
            raise ValueError(f"{path} lacks the task column(s) {missing} expected for {spec.name}.")
        tasks = list(spec.tasks)
    else:
        tasks = [c for c in raw.columns if c != "smiles" and c not in spec.meta_columns]
    frame = raw[["smiles", *tasks]].copy()
    frame["smiles"] = frame["smiles"].astype(str)
    frame[tasks] = frame[tasks].apply(pd.to_numeric, errors="coerce")
    return frame


def load_moleculenet(name: str, *, download_missing: bool = True, progress: bool = True) -> MolDataset:
    """Load a MoleculeNet data set by name (``bbbp``, ``esol``, ``tox21``, ...)."""
    spec = get_spec(name)
    path = locate_moleculenet(name, download_missing=download_missing, progress=progress)
    digest = verify_sidecar(
        path, url=spec.url if download_missing else None, sha256=spec.official_sha256, progress=progress
    )
    frame = read_moleculenet_file(spec, path)
    tasks = [c for c in frame.columns if c != "smiles"]
    return MolDataset(spec.name, frame, tasks, spec.task_type, path, digest, units=spec.units)
