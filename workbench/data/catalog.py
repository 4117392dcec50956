"""One table of every data set the workbench knows: size and where it was found."""

from __future__ import annotations

import pandas as pd

from workbench.data.chebi20 import load_chebi20
from workbench.data.download import DataUnavailableError
from workbench.data.moleculeace import list_moleculeace, load_moleculeace
from workbench.data.moleculenet import MOLECULENET, find_moleculenet, read_moleculenet_file
from workbench.data.references import load_approved_drugs

__all__ = ["list_datasets"]

COLUMNS = ["collection", "name", "molecules", "tasks", "task_type", "location"]


def list_datasets(include_moleculeace_targets: bool = True) -> pd.DataFrame:
    """Every known data set with its size and location; nothing is downloaded.

    Missing files are listed with ``molecules`` empty and a location saying where
    they would be downloaded from.
    """
    rows: list[dict[str, object]] = []
    for spec in MOLECULENET.values():
        path = find_moleculenet(spec.name)
        if path is None:
            rows.append(
                {
                    "collection": "MoleculeNet",
                    "name": spec.name,
                    "molecules": None,
                    "tasks": None,
                    "task_type": spec.task_type,
                    "location": f"not found (downloads from {spec.url})",
                }
            )
            continue
        frame = read_moleculenet_file(spec, path)
        rows.append(
            {
                "collection": "MoleculeNet",
                "name": spec.name,
                "molecules": len(frame),
                "tasks": frame.shape[1] - 1,
                "task_type": spec.task_type,
                "location": str(path),
            }
        )
    try:
        targets = list_moleculeace()
        if include_moleculeace_targets:
            for target in targets:
                ds = load_moleculeace(target)
                rows.append(
                    {
                        "collection": "MoleculeACE",
                        "name": target,
                        "molecules": len(ds),
                        "tasks": 1,
                        "task_type": "regression",
                        "location": str(ds.path),
                    }
                )
    except DataUnavailableError as exc:
        rows.append(
            {
                "collection": "MoleculeACE",
                "name": "(30 targets)",
                "molecules": None,
                "tasks": None,
                "task_type": "regression",
                "location": str(exc),
            }
        )
    for collection, name, loader in [
        ("ChEBI-20", "chebi20", lambda: load_chebi20(download_missing=False)),
        ("Reference", "approved_drugs", load_approved_drugs),
    ]:
        try:
            ds = loader()
            rows.append(
                {
                    "collection": collection,
                    "name": name,
                    "molecules": len(ds),
                    "tasks": 0,
                    "task_type": ds.task_type,
                    "location": str(ds.path),
                }
            )
        except (DataUnavailableError, FileNotFoundError) as exc:
            rows.append(
                {
                    "collection": collection,
                    "name": name,
                    "molecules": None,
                    "tasks": None,
                    "task_type": "",
                    "location": f"not found: {exc}",
                }
            )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["molecules"] = frame["molecules"].astype("Int64")
    frame["tasks"] = frame["tasks"].astype("Int64")
    return frame
