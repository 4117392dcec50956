"""Applicability domain: how close a query is to a model's training molecules.

The training set is rebuilt from the data file and split recorded in the card
(the file's sha256 must match), so no data is shipped with the checkpoints.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from workbench.checkpoints import Checkpoint
from workbench.data import DataUnavailableError

__all__ = ["AD_THRESHOLD", "TrainingSet", "domain_scores", "nearest_neighbours", "training_set"]

#: Below this max Tanimoto (ECFP4, 2048 bits) to the training set a prediction is flagged.
AD_THRESHOLD = 0.35

_CACHE: dict[tuple[str, str, str], TrainingSet] = {}
_LOCK = threading.Lock()
_GEN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)


@dataclass
class TrainingSet:
    """The training split of a checkpoint: canonical SMILES, labels and fingerprints."""

    smiles: list[str]
    labels: pd.DataFrame
    fingerprints: list[DataStructs.ExplicitBitVect]


def training_set(checkpoint: Checkpoint) -> TrainingSet:
    """Rebuild (once per process) the molecules a checkpoint was trained on.

    Raises:
        DataUnavailableError: the data file is missing or differs from the one in the card.
    """
    card = checkpoint.card
    key = (card["data"]["dataset"], card["data"]["sha256"], str(card["split"]))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    from workbench.train.prepare import prepare

    split = card["split"]
    prep = prepare(
        card["data"]["dataset"],
        split["kind"],
        seed=split.get("seed") or 0,
        fractions=tuple(split.get("fractions") or (0.8, 0.1, 0.1)),
    )
    if prep.dataset.sha256 != card["data"]["sha256"]:
        raise DataUnavailableError(
            f"{prep.dataset.path} differs from the file '{checkpoint.name}' was trained on "
            f"(sha256 {prep.dataset.sha256[:12]}… vs {card['data']['sha256'][:12]}…)."
        )
    rows = prep.split.train
    result = TrainingSet(
        smiles=[prep.smiles[i] for i in rows],
        labels=pd.DataFrame(prep.y[rows], columns=prep.tasks),
        fingerprints=[_GEN.GetFingerprint(prep.mols[i]) for i in rows],
    )
    with _LOCK:
        _CACHE[key] = result
    return result


def _query_fps(mols: Sequence[Chem.Mol | None]) -> list[DataStructs.ExplicitBitVect | None]:
    return [_GEN.GetFingerprint(m) if m is not None else None for m in mols]


def domain_scores(mols: Sequence[Chem.Mol | None], train: TrainingSet) -> np.ndarray:
    """Max Tanimoto similarity of each molecule to the training set (NaN for ``None``)."""
    out = np.full(len(mols), np.nan)
    for i, fp in enumerate(_query_fps(mols)):
        if fp is not None and train.fingerprints:
            out[i] = max(DataStructs.BulkTanimotoSimilarity(fp, train.fingerprints))
    return out


def nearest_neighbours(mol: Chem.Mol, train: TrainingSet, k: int = 3) -> pd.DataFrame:
    """The ``k`` most similar training molecules with their labels and similarity."""
    sims = np.asarray(DataStructs.BulkTanimotoSimilarity(_GEN.GetFingerprint(mol), train.fingerprints))
    top = np.argsort(-sims, kind="stable")[:k]
    frame = train.labels.iloc[top].reset_index(drop=True)
    frame.insert(0, "similarity", sims[top])
    frame.insert(0, "smiles", [train.smiles[i] for i in top])
    return frame
