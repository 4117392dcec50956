"""Turn a named data set into parsed molecules, targets and a split, for every trainer."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rdkit import Chem

from workbench import chem
from workbench.data import MolDataset, list_moleculeace, load_moleculeace, load_moleculenet, make_split
from workbench.data.moleculenet import MOLECULENET
from workbench.data.splits import Split

__all__ = ["Prepared", "load_named_dataset", "prepare"]


@dataclass
class Prepared:
    """Valid molecules of a data set, their targets and a split over them."""

    dataset: MolDataset
    smiles: list[str]  # canonical SMILES of the kept molecules
    mols: list[Chem.Mol]
    y: np.ndarray  # (n, n_tasks), NaN = missing
    kept: np.ndarray  # row indices into dataset.frame
    dropped: list[tuple[int, str]]  # (row, reason) of molecules that could not be used
    split: Split

    @property
    def tasks(self) -> list[str]:
        return self.dataset.tasks

    @property
    def task_type(self) -> str:
        return self.dataset.task_type

    def card_fields(self) -> dict[str, object]:
        """The card blocks every trainer shares: group, tasks, data (with its sha256) and split."""
        regression = self.task_type == "regression"
        return {
            "group": "MoleculeACE" if self.dataset.name.upper().startswith("CHEMBL") else "MoleculeNet",
            "tasks": [
                {"name": t, "type": self.task_type, **({"units": self.dataset.units} if regression else {})}
                for t in self.tasks
            ],
            "data": {
                "dataset": self.dataset.name,
                "file": self.dataset.path.name,
                "sha256": self.dataset.sha256,
                "molecules": len(self.smiles),
                "dropped": len(self.dropped),
            },
            "split": self.split.describe(),
        }


def load_named_dataset(name: str) -> MolDataset:
    """A MoleculeNet table by name, or a MoleculeACE target (``CHEMBL..._Ki``)."""
    if name.upper().startswith("CHEMBL"):
        targets = {t.lower(): t for t in list_moleculeace()}
        if name.lower() not in targets:
            raise KeyError(f"unknown MoleculeACE target '{name}'")
        return load_moleculeace(targets[name.lower()])
    if name.lower() not in MOLECULENET and name.lower() not in ("delaney", "lipo", "sampl"):
        raise KeyError(f"unknown data set '{name}'")
    return load_moleculenet(name)


def prepare(name: str, split: str = "scaffold", seed: int = 0, fractions=(0.8, 0.1, 0.1)) -> Prepared:
    """Load, parse (dropping unusable molecules and rows without any label) and split a data set.

    The scaffold split is computed on the kept molecules' input SMILES, as in
    pretrain-gnns; the random split uses ``seed``.
    """
    dataset = load_named_dataset(name)
    # Metal complexes keep their largest organic fragment (with a warning), as when the shipped checkpoints
    # were trained; prediction refuses them.
    smiles = dataset.smiles  # a property that converts the whole column: read it once
    parsed = chem.parse_many(smiles, inchikey=False, metal_complexes="strip")
    y_all = dataset.y
    kept, dropped = [], []
    for i, p in enumerate(parsed):
        if not p.ok:
            dropped.append((i, p.error))
        elif np.isnan(y_all[i]).all():
            dropped.append((i, "no label"))
        else:
            kept.append(i)
    kept_arr = np.asarray(kept, dtype=np.int64)
    raw_smiles = [smiles[i] for i in kept]
    frame = dataset.frame.iloc[kept_arr].reset_index(drop=True)
    the_split = make_split(split, raw_smiles, frame=frame, fractions=fractions, seed=seed)
    return Prepared(
        dataset=dataset,
        smiles=[parsed[i].smiles for i in kept],
        mols=[parsed[i].mol for i in kept],
        y=y_all[kept_arr],
        kept=kept_arr,
        dropped=dropped,
        split=the_split,
    )
