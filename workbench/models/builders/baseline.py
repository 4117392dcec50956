"""Fingerprint baselines (RF / SVR via skops with an allow-list, XGBoost as gzip JSON): never unpickled."""

from __future__ import annotations

import gzip
from collections.abc import Sequence

import numpy as np
import skops.io as sio
import torch
import xgboost as xgb
from rdkit import Chem

from workbench.featurizers import ecfp_batch
from workbench.models.builders.base import Predictor
from workbench.models.store import Checkpoint, CheckpointError, verify_weights

__all__ = ["SKOPS_ALLOWED", "BaselineEnsemble", "build_baseline"]


#: Types a skops file may contain beyond skops' defaults; anything else is refused.
SKOPS_ALLOWED = {"sklearn.tree._tree.Tree"}


class BaselineEnsemble:
    """Per-task, per-seed fingerprint models; outputs are already in task units."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        card = checkpoint.card
        verify_weights(checkpoint.path, card)
        params = card.featurizer.params
        self.n_bits, self.radius = int(params.get("n_bits", 2048)), int(params.get("radius", 2))
        self.n_tasks = len(card.tasks)
        self.classification = [t.is_classification for t in card.tasks]
        self.constant = {int(k): float(v) for k, v in card.architecture.config.get("constant_tasks", {}).items()}
        self.seeds = list(card.seeds)
        self.models: dict[tuple[int, int], object] = {}
        for entry in card.weights:
            path = checkpoint.path / entry.file
            key = (int(entry.seed), int(entry.task))
            if entry.format == "xgboost-json":
                booster = xgb.Booster()
                data = path.read_bytes()
                booster.load_model(bytearray(gzip.decompress(data) if path.suffix == ".gz" else data))
                self.models[key] = booster
            elif entry.format == "skops":
                untrusted = set(sio.get_untrusted_types(file=path))
                if untrusted - SKOPS_ALLOWED:
                    raise CheckpointError(f"{path} contains types that are not allowed: {sorted(untrusted)}")
                self.models[key] = sio.load(path, trusted=sorted(untrusted))
            else:
                raise CheckpointError(f"{entry.file}: {entry.format} is not a baseline format")

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
        x = ecfp_batch(mols, n_bits=self.n_bits, radius=self.radius).astype(np.float32)
        return self.predict_fingerprints(x), [""] * len(mols)

    def predict_fingerprints(self, x: np.ndarray) -> np.ndarray:
        """Predictions ``(n_members, n, n_tasks)`` for fingerprint rows ``x`` (used by occlusion)."""
        out = np.full((len(self.seeds), len(x), self.n_tasks), np.nan)
        matrix = None  # one DMatrix for every booster (Tox21/ToxCast have hundreds)
        for s, seed in enumerate(self.seeds):
            for t in range(self.n_tasks):
                if t in self.constant:
                    out[s, :, t] = self.constant[t]
                    continue
                model = self.models[(seed, t)]
                if isinstance(model, xgb.Booster):
                    matrix = xgb.DMatrix(x) if matrix is None else matrix
                    out[s, :, t] = model.predict(matrix)
                elif self.classification[t]:
                    out[s, :, t] = model.predict_proba(x)[:, 1]
                else:
                    out[s, :, t] = model.predict(x)
        return out


def build_baseline(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """Per-task, per-seed fingerprint models (they run on the CPU whatever ``device`` is)."""
    return BaselineEnsemble(checkpoint)
