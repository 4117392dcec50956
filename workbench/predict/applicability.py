"""Applicability domain: how close a query is to a model's training molecules.

The training set is rebuilt from the data file and split recorded in the card
(the file's sha256 must match), so no data is shipped with the checkpoints.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from workbench.data import DataUnavailableError
from workbench.data.paths import cache_dir
from workbench.featurizers import FEATURIZER_VERSION
from workbench.models import Checkpoint

__all__ = ["AD_THRESHOLD", "TrainingSet", "domain_scores", "nearest_neighbours", "training_set"]

#: Below this max Tanimoto (ECFP4, 2048 bits) to the training set a prediction is flagged.
AD_THRESHOLD = 0.35

_CACHE: dict[tuple[str, str, str], TrainingSet] = {}
_LOCK = threading.Lock()
N_BITS = 2048
_GEN = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=N_BITS)
_GEN_VERSION = "morgan-r2-2048"


@dataclass
class TrainingSet:
    """The training split of a checkpoint: canonical SMILES, labels and fingerprints."""

    smiles: list[str]
    labels: pd.DataFrame
    fingerprints: list[DataStructs.ExplicitBitVect]


def _disk_path(key: tuple[str, str, str]) -> Path:
    digest = hashlib.sha256(json.dumps([*key, FEATURIZER_VERSION, _GEN_VERSION]).encode()).hexdigest()[:16]
    return cache_dir() / "applicability" / f"{key[0]}-{digest}.npz"


def _save(path: Path, train: TrainingSet) -> None:
    bits = np.zeros((len(train.fingerprints), N_BITS), dtype=np.uint8)
    for i, fp in enumerate(train.fingerprints):
        DataStructs.ConvertToNumpyArray(fp, bits[i])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(
        tmp,
        smiles=np.array(train.smiles, dtype=str),
        labels=train.labels.to_numpy(dtype=np.float64),
        tasks=np.array(list(train.labels.columns), dtype=str),
        bits=np.packbits(bits, axis=1),
    )
    os.replace(tmp, path)


def _load(path: Path) -> TrainingSet | None:
    try:
        with np.load(path, allow_pickle=False) as data:
            bits = np.unpackbits(data["bits"], axis=1, count=N_BITS)
            fingerprints = []
            for row in bits:
                fp = DataStructs.ExplicitBitVect(N_BITS)
                fp.SetBitsFromList(np.flatnonzero(row).tolist())
                fingerprints.append(fp)
            labels = pd.DataFrame(data["labels"], columns=[str(t) for t in data["tasks"]])
            return TrainingSet([str(s) for s in data["smiles"]], labels, fingerprints)
    except (OSError, ValueError, KeyError):  # missing, partial or from an older layout: rebuild
        return None


def training_set(checkpoint: Checkpoint) -> TrainingSet:
    """Rebuild (once per process, then from a disk cache) the molecules a checkpoint was trained on.

    The disk cache under ``cache_dir()/applicability`` is keyed by data set, data-file
    sha256, split and featurizer version, and is only used after the data file's sha256
    has been checked against the card.

    Raises:
        DataUnavailableError: the data file is missing or differs from the one in the card.
    """
    card = checkpoint.card
    key = (card["data"]["dataset"], card["data"]["sha256"], str(card["split"]))
    with _LOCK:
        if key in _CACHE:
            return _CACHE[key]
    from workbench.data.prepared import load_named_dataset, prepare

    dataset = load_named_dataset(card["data"]["dataset"])
    if dataset.sha256 != card["data"]["sha256"]:
        raise DataUnavailableError(
            f"{dataset.path} differs from the file '{checkpoint.name}' was trained on "
            f"(sha256 {dataset.sha256[:12]}… vs {card['data']['sha256'][:12]}…)."
        )
    path = _disk_path(key)
    cached = _load(path) if path.exists() else None
    if cached is not None:
        with _LOCK:
            _CACHE[key] = cached
        return cached

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
    with contextlib.suppress(OSError):  # a read-only cache folder only costs the rebuild next time
        _save(path, result)
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
