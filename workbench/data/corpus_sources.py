"""Where the pretraining corpus comes from: MOSES, every other SMILES table, and the test sets to keep out.

Nothing here downloads: a table that is not on disk is reported as unavailable.
MOSES is read from the installed ``molsets`` package's data folder, located with
:func:`importlib.util.find_spec` so that the package (which pins obsolete
dependencies) is never imported.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from workbench.data.chebi20 import load_chebi20
from workbench.data.download import DataUnavailableError
from workbench.data.moleculeace import list_moleculeace, load_moleculeace, moleculeace_dir
from workbench.data.moleculenet import MOLECULENET, find_moleculenet, get_spec, read_moleculenet_file
from workbench.data.references import load_approved_drugs
from workbench.hashing import sha256_file

__all__ = [
    "BENCHMARK_SETS",
    "MOSES_INSTALL_HINT",
    "Source",
    "default_sources",
    "moses_train_path",
    "split_test_inchikeys",
]

MOSES_INSTALL_HINT = "Install it with: pip install --no-deps molsets==0.3.1"

#: The downstream MoleculeNet sets of the pretraining benchmark (fine-tuned on a scaffold split 80/10/10).
BENCHMARK_SETS = (
    "bbbp",
    "tox21",
    "toxcast",
    "sider",
    "clintox",
    "muv",
    "hiv",
    "bace",
    "esol",
    "freesolv",
    "lipophilicity",
)


@dataclass(frozen=True)
class Source:
    """One named stream of SMILES, read again (in the same order) on every call of ``read``."""

    name: str
    read: Callable[[], Iterator[str]]
    files: tuple[Path, ...] = ()
    notes: tuple[str, ...] = field(default=())

    def provenance(self) -> dict[str, object]:
        """The source block of the corpus report: its files with their sha256."""
        return {
            "name": self.name,
            "files": [{"path": str(p), "sha256": sha256_file(p)} for p in self.files],
            "notes": list(self.notes),
        }


def moses_train_path() -> Path:
    """``moses/dataset/data/train.csv.gz`` of the installed ``molsets`` package (not imported).

    Raises:
        DataUnavailableError: the package is not installed or lacks the file.
    """
    spec = importlib.util.find_spec("moses")
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailableError(f"The molsets package (MOSES) is not installed. {MOSES_INSTALL_HINT}")
    path = Path(next(iter(spec.submodule_search_locations))) / "dataset" / "data" / "train.csv.gz"
    if not path.is_file():
        raise DataUnavailableError(f"molsets is installed but {path} is missing. {MOSES_INSTALL_HINT}")
    return path


def _read_smiles_csv(path: Path) -> Iterator[str]:
    """The ``SMILES`` (or ``smiles``) column of a CSV file, gzip or not, streamed row by row."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        column = next((i for i, name in enumerate(header) if name.lower() == "smiles"), 0)
        for row in reader:
            yield row[column] if len(row) > column else ""


def _moses() -> Source:
    path = moses_train_path()
    return Source("moses", lambda: _read_smiles_csv(path), (path,), ("MOSES training set (molsets 0.3.1)",))


def _moleculenet() -> tuple[Source, list[str]]:
    found = {name: find_moleculenet(name) for name in MOLECULENET}
    paths = {name: path for name, path in found.items() if path is not None}
    missing = [name for name, path in found.items() if path is None]

    def read() -> Iterator[str]:
        for name, path in paths.items():
            yield from read_moleculenet_file(get_spec(name), path)["smiles"].tolist()

    notes = tuple(f"{name}: {path.name}" for name, path in paths.items())
    return Source("moleculenet", read, tuple(paths.values()), notes), missing


def _moleculeace() -> Source:
    targets = list_moleculeace()

    def read() -> Iterator[str]:
        for target in targets:
            yield from load_moleculeace(target).smiles

    files = tuple(moleculeace_dir() / f"{t}.csv" for t in targets)
    return Source("moleculeace", read, files, (f"{len(targets)} targets",))


def _chebi20() -> Source:
    dataset = load_chebi20(download_missing=False, progress=False)
    files = tuple(Path(p) for p in dataset.meta["files"])
    return Source("chebi20", lambda: iter(dataset.smiles), files, ("validation and test pairs",))


def _approved_drugs() -> Source:
    dataset = load_approved_drugs()
    return Source("approved_drugs", lambda: iter(dataset.smiles), (dataset.path,), ("ChEMBL approved small molecules",))


def default_sources() -> tuple[list[Source], list[str]]:
    """MOSES first, then MoleculeNet, MoleculeACE, ChEBI-20 and approved drugs.

    Returns:
        The available sources and one message per source (or MoleculeNet table) that is not on disk.
    """
    sources: list[Source] = []
    unavailable: list[str] = []
    moleculenet, missing = _moleculenet()
    makers = (("moses", _moses), ("moleculenet", lambda: moleculenet), ("moleculeace", _moleculeace))
    for name, make in (*makers, ("chebi20", _chebi20), ("approved_drugs", _approved_drugs)):
        try:
            sources.append(make())
        except (DataUnavailableError, FileNotFoundError) as exc:
            unavailable.append(f"{name}: {exc}")
    unavailable += [f"moleculenet/{name}: not found (nothing is downloaded for the corpus)" for name in missing]
    return sources, unavailable


def split_test_inchikeys(datasets: Sequence[str] = BENCHMARK_SETS) -> tuple[dict[str, list[str]], list[str]]:
    """InChIKeys of the test molecules of each data set's scaffold split (80/10/10), as fine-tuning makes it.

    The split is :func:`workbench.data.prepared.prepare`'s, the one ``workbench train finetune`` and the
    benchmark use; the scaffold split does not depend on the seed, so one split per data set covers every seed.

    Returns:
        ``{data set: sorted InChIKeys}`` and the data sets that are not on disk (not downloaded here).
    """
    from rdkit import Chem

    from workbench.data.prepared import prepare

    keys: dict[str, list[str]] = {}
    missing: list[str] = []
    for name in datasets:
        if find_moleculenet(name) is None:
            missing.append(name)
            continue
        prep = prepare(name, "scaffold")
        found = {Chem.MolToInchiKey(prep.mols[i]) for i in prep.split.test}
        keys[name] = sorted(k for k in found if k)
    return keys, missing
