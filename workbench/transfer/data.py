"""A classification data set as the task-transfer lab uses it: molecules, labels, graphs, fingerprints, split."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
from rdkit import Chem

from workbench.data.prepared import Prepared, prepare
from workbench.featurizers import GRAPH_FEATURIZER, ecfp_batch, featurizer_spec
from workbench.featurizers.graph_batch import MolGraph
from workbench.transfer.protocol import check_tasks

__all__ = ["TRANSFER_DATASETS", "TransferData", "cached_transfer_data", "load_transfer_data"]

#: The lab's data sets: the two of the paper first, then others a user may try (one-task sets are refused).
TRANSFER_DATASETS = ("tox21", "sider", "clintox", "toxcast", "bbbp", "bace")


@dataclass
class TransferData:
    """Molecules, labels (NaN = missing), a split, graphs and, on first use, ECFP4 bits."""

    name: str
    tasks: tuple[str, ...]
    smiles: list[str]
    mols: list[Chem.Mol]
    y: np.ndarray  # (n, tasks) float32
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    graphs: list[MolGraph | None]
    source: dict[str, object] = field(default_factory=dict)  # data file sha256 and split, for run configurations
    _fingerprints: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def from_prepared(cls, name: str, prep: Prepared, graphs: list[MolGraph | None]) -> TransferData:
        """From a prepared data set (its scaffold split) and its graphs."""
        split = prep.split
        return cls(
            name.lower(), tuple(prep.tasks), prep.smiles, prep.mols, prep.y, split.train, split.valid, split.test,
            graphs, {"data_sha256": prep.dataset.sha256, "split": split.describe()},
        )  # fmt: skip

    def fingerprints(self) -> np.ndarray:
        """ECFP4 bits (2048) of every molecule, computed once."""
        if self._fingerprints is None:
            self._fingerprints = ecfp_batch(self.mols, n_bits=2048, radius=2)
        return self._fingerprints

    def describe(self) -> dict[str, object]:
        """What a run configuration records about the data."""
        return {**self.source, "featurizer": featurizer_spec(GRAPH_FEATURIZER), "molecules": len(self.smiles)}


def load_transfer_data(name: str) -> TransferData:
    """Load, parse, scaffold-split and featurize a classification data set with several tasks.

    Raises:
        TransferSetupError: a regression or one-task data set.
        DataUnavailableError: the file is not on disk and cannot be downloaded.
    """
    from workbench.data.prepared import load_named_dataset
    from workbench.train.finetune import featurize_prepared

    dataset = load_named_dataset(name)
    check_tasks(dataset.name, dataset.tasks, dataset.task_type)
    prep = prepare(name, "scaffold")
    graphs, _errors, _bad = featurize_prepared(prep)  # unfeaturizable molecules leave the split
    return TransferData.from_prepared(name, prep, graphs)


@lru_cache(maxsize=2)
def cached_transfer_data(name: str) -> TransferData:
    """:func:`load_transfer_data`, kept for the process (the page and the notebook load a set once)."""
    return load_transfer_data(name)
