"""Applicability domain: how close a query is to a model's training molecules.

The score is the maximum ECFP4 Tanimoto similarity to the training split, read from the domain index
stored with the checkpoint (:mod:`workbench.predict.domain_index`), so it needs neither the data file
nor a rebuild. A checkpoint without a stored index (trained before indexes existed) gets one rebuilt
from the data file and split its card names, once per process. The nearest training molecules with
their labels are read from that data file on demand, or for a model trained on a user's data from the
training table stored in its folder (reference kind ``training_table``: the index rows are its rows).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase

from workbench.data import DataUnavailableError, MolDataset
from workbench.models import Checkpoint, reference_path
from workbench.predict.domain_index import DomainIndex, load_domain_index, pack_fingerprints

__all__ = [
    "AD_THRESHOLD",
    "domain_index",
    "domain_scores",
    "nearest_neighbours",
    "training_data",
    "training_molecules",
]

#: Below this max Tanimoto (ECFP4, 2048 bits) to the training set a prediction is flagged.
AD_THRESHOLD = 0.35

_INDEXES: dict[str, DomainIndex] = {}
_LOCK = threading.Lock()


def training_data(checkpoint: Checkpoint) -> MolDataset:
    """The data file a checkpoint was trained on, checked against the sha256 in its card.

    Raises:
        DataUnavailableError: the file is not available here or differs from the one in the card.
    """
    from workbench.data.prepared import load_named_dataset

    card = checkpoint.card
    table = reference_path(checkpoint, "training_table")  # models trained on a user's data carry their table
    if table is not None:
        frame = pd.read_csv(table)
        tasks = [t.name for t in card.tasks]
        return MolDataset(card.data.dataset, frame, tasks, card.tasks[0].type, table, card.data.sha256 or "")
    try:
        dataset = load_named_dataset(card.data.dataset)
    except KeyError as exc:
        raise DataUnavailableError(f"it was trained on {card.data.dataset}, which the workbench does not have") from exc
    if dataset.sha256 != card.data.sha256:
        raise DataUnavailableError(
            f"{dataset.path} differs from the file '{checkpoint.name}' was trained on "
            f"(sha256 {dataset.sha256[:12]}… vs {card.data.sha256[:12]}…)."
        )
    return dataset


def training_molecules(checkpoint: Checkpoint) -> tuple[list[Chem.Mol], np.ndarray]:
    """Rebuild the training split of a checkpoint from its data file: molecules and their data-file rows.

    Raises:
        DataUnavailableError: the data file is missing or differs from the one in the card.
    """
    from workbench.data.prepared import prepare

    dataset = training_data(checkpoint)
    if "part" in dataset.frame.columns:  # a user's model: its stored training table says which rows trained it
        rows = np.flatnonzero(dataset.frame["part"].isin(["train", "valid"]).to_numpy())
        with rdBase.BlockLogs():
            mols = [Chem.MolFromSmiles(str(s)) for s in dataset.frame["smiles"].iloc[rows]]
        keep = [k for k, m in enumerate(mols) if m is not None]
        return [mols[k] for k in keep], rows[keep]
    split = checkpoint.card.split
    prep = prepare(
        checkpoint.card.data.dataset,
        split.kind,
        seed=split.seed or 0,
        fractions=tuple(split.fractions or (0.8, 0.1, 0.1)),
    )
    left_out = {u.row for u in checkpoint.card.data.unfeaturizable or ()}  # not trained on (featurizer failures)
    train = [i for i in prep.split.train if int(prep.kept[i]) not in left_out]
    return [prep.mols[i] for i in train], prep.kept[train]


def domain_index(checkpoint: Checkpoint) -> DomainIndex:
    """The checkpoint's domain index: the stored one (sha256-checked), else rebuilt once per process.

    Raises:
        CheckpointError: the stored index was modified or is unreadable.
        DataUnavailableError: no index is stored and the data file is not available to rebuild it.
    """
    path = reference_path(checkpoint, "domain_index")
    key = checkpoint.card.reference("domain_index").sha256 if path is not None else f"rebuilt:{checkpoint.path}"
    with _LOCK:
        if key in _INDEXES:
            return _INDEXES[key]
    if path is not None:
        try:
            index = load_domain_index(path)
        except ValueError as exc:
            from workbench.models import CheckpointError

            raise CheckpointError(str(exc)) from exc
    else:
        mols, rows = training_molecules(checkpoint)
        packed, _ = pack_fingerprints(mols)
        index = DomainIndex(bits=packed, rows=np.asarray(rows, dtype=np.int64))
    with _LOCK:
        _INDEXES.setdefault(key, index)
        return _INDEXES[key]


def domain_scores(mols: Sequence[Chem.Mol | None], checkpoint: Checkpoint) -> np.ndarray:
    """Max Tanimoto similarity of each molecule to the checkpoint's training set (NaN for ``None``)."""
    return domain_index(checkpoint).scores(mols)


def nearest_neighbours(mol: Chem.Mol, checkpoint: Checkpoint, k: int = 3) -> pd.DataFrame:
    """The ``k`` most similar training molecules: ``smiles``, ``similarity`` and one column per task.

    Raises:
        DataUnavailableError: the data file (which holds the SMILES and labels) is not available here.
    """
    rows, sims = domain_index(checkpoint).nearest(mol, k=k)
    dataset = training_data(checkpoint)
    frame = dataset.frame.iloc[rows][dataset.tasks].reset_index(drop=True)
    frame.insert(0, "similarity", sims)
    frame.insert(0, "smiles", dataset.frame["smiles"].iloc[rows].astype(str).to_numpy())
    return frame
