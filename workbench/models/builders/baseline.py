"""Fingerprint baselines, never unpickled: forests and SVRs as safetensors arrays, XGBoost boosters as gzip JSON.

Forests (:class:`FlatTrees`), support-vector regressors (:class:`FlatSVR`) and XGBoost boosters
(:class:`FlatBooster`, read from XGBoost's own JSON with the standard library) are predicted with numpy, so a
page that loads every default model imports neither scikit-learn, skops nor XGBoost (seconds of a cold start).
Checkpoints written before the array formats (``skops`` files) still load, through skops with an allow-list;
a booster the flat form cannot represent (multi-class, categorical splits) loads through XGBoost. Those
libraries are imported only then.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence

import numpy as np
import torch
from rdkit import Chem

from workbench.models.builders.base import Featurized, Predictor
from workbench.models.builders.flat_svr import FlatSVR
from workbench.models.builders.flat_trees import (
    CorruptTrees,
    FlatBooster,
    FlatTrees,
    UnsupportedTrees,
    best_iteration,
)
from workbench.models.store import Checkpoint, CheckpointError, read_verified

__all__ = ["BASELINE_FORMATS", "SKOPS_ALLOWED", "BaselineEnsemble", "build_baseline"]

#: Weight formats a baseline card may list.
BASELINE_FORMATS = ("safetensors", "xgboost-json", "skops")

#: Types a (legacy) skops file may contain beyond skops' defaults; anything else is refused.
SKOPS_ALLOWED = {"sklearn.tree._tree.Tree"}

Member = Callable[[np.ndarray], np.ndarray]


def _load_skops(data: bytes, name: str) -> object:
    """A skops model from its bytes, refused before anything is built when it holds a type outside the allow-list.

    One pass: skops audits the whole tree against its defaults plus :data:`SKOPS_ALLOWED` before
    constructing any object (the same refusal as listing the untrusted types first, without reading the
    file twice).
    """
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return sio.loads(data, trusted=sorted(SKOPS_ALLOWED))
    except UntrustedTypesFoundException as exc:  # refused: list every type beyond skops' defaults, as before
        untrusted = sorted(sio.get_untrusted_types(data=data))
        raise CheckpointError(f"{name} contains types that are not allowed: {untrusted}") from exc


def _library_booster(data: bytes, best: int | None) -> Member:
    """A booster the flat form cannot hold, predicted by XGBoost itself (up to its best iteration)."""
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray(data))
    used = (0, best + 1) if best is not None else (0, 0)
    return lambda x: booster.predict(xgb.DMatrix(x), iteration_range=used).astype(np.float64)


def _booster(data: bytes, name: str) -> Member:
    import orjson  # about 2.5x faster than json on XGBoost's JSON (34 MB for the shipped boosters)

    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise CheckpointError(f"{name} is not an XGBoost JSON model: {exc}") from exc
    try:
        return FlatBooster.from_json(document).predict
    except CorruptTrees as exc:
        raise CheckpointError(f"{name}: {exc}") from exc
    except UnsupportedTrees:
        return _library_booster(data, best_iteration(document))


def _arrays(data: bytes, architecture: str, name: str, shared: np.ndarray | None = None) -> Member:
    from safetensors import SafetensorError
    from safetensors.numpy import load

    try:
        tensors = load(data)
    except (SafetensorError, ValueError) as exc:
        raise CheckpointError(f"{name} is not a readable safetensors file: {exc}") from exc
    try:
        if architecture == "svr":
            return FlatSVR.from_tensors(tensors, shared).predict
        if architecture == "svc":  # a classifier's decision function, through a logistic (calibrated on its card)
            decision = FlatSVR.from_tensors(tensors, shared).predict
            return lambda x: 1.0 / (1.0 + np.exp(-decision(x)))
        return FlatTrees.from_tensors(tensors).mean
    except UnsupportedTrees as exc:
        raise CheckpointError(f"{name}: {exc}") from exc


def _skops_member(model: object, classification: bool) -> Member:
    if classification:
        return lambda x: model.predict_proba(x)[:, 1]
    return model.predict


class BaselineEnsemble:
    """Per-task, per-seed fingerprint models; outputs are already in task units."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        card = checkpoint.card
        params = card.featurizer.params
        self.n_bits, self.radius = int(params.get("n_bits", 2048)), int(params.get("radius", 2))
        self.n_tasks = len(card.tasks)
        self.classification = [t.is_classification for t in card.tasks]
        self.constant = {int(k): float(v) for k, v in card.architecture.config.get("constant_tasks", {}).items()}
        self.seeds = list(card.seeds)
        family = str(card.architecture.config.get("family", card.architecture.type))  # tabular: rf | xgboost | svr
        self.models: dict[tuple[int, int], Member] = {}
        for entry in card.weights:
            if entry.format not in BASELINE_FORMATS:
                raise CheckpointError(f"{entry.file}: {entry.format} is not a baseline format")
        for entry in card.weights:  # each file read once: the bytes hashed are the bytes loaded
            path = checkpoint.path / entry.file
            key = (int(entry.seed), int(entry.task))
            data = read_verified(path, entry.sha256)
            if entry.format == "xgboost-json":
                self.models[key] = _booster(gzip.decompress(data) if path.suffix == ".gz" else data, str(path))
            elif entry.format == "safetensors":
                self.models[key] = _arrays(data, family, str(path))
            else:
                self.models[key] = _skops_member(_load_skops(data, str(path)), self.classification[key[1]])

    def featurize_batches(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> Featurized:
        """The ECFP rows of ``mols`` (one batch)."""
        from workbench.featurizers.fingerprints import ecfp_batch

        x = ecfp_batch(mols, n_bits=self.n_bits, radius=self.radius).astype(np.float32)
        return Featurized(len(mols), [(x, np.arange(len(mols)))], [""] * len(mols))

    def predict_featurized(self, featurized: Featurized) -> tuple[np.ndarray, list[str]]:
        """Predictions for fingerprints made by :meth:`featurize_batches`."""
        out = np.full((len(self.seeds), featurized.n, self.n_tasks), np.nan)
        for x, rows in featurized.batches:
            out[:, rows] = self.predict_fingerprints(x)
        return out, list(featurized.errors)

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
        return self.predict_featurized(self.featurize_batches(mols, batch_size))

    def predict_fingerprints(self, x: np.ndarray) -> np.ndarray:
        """Predictions ``(n_members, n, n_tasks)`` for fingerprint rows ``x`` (used by occlusion)."""
        out = np.full((len(self.seeds), len(x), self.n_tasks), np.nan)
        for s, seed in enumerate(self.seeds):
            for t in range(self.n_tasks):
                out[s, :, t] = self.constant[t] if t in self.constant else self.models[(seed, t)](x)
        return out


def build_baseline(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """Per-task, per-seed fingerprint models (they run on the CPU whatever ``device`` is)."""
    return BaselineEnsemble(checkpoint)
