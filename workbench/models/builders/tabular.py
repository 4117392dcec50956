"""Models trained on a user's data (``workbench train custom``): a fitted feature set, then forests, boosters or SVRs.

The members are stored and predicted exactly as the fingerprint baselines' (:class:`BaselineEnsemble`); what differs
is the input (the card's fitted feature set: ECFP4, RDKit 2D descriptors with their stored normalization, or both)
and the output: classification probabilities go through the card's Platt calibration, and regression tasks carry
a conformal half-width (:attr:`TabularEnsemble.interval_halfwidth`) that the prediction table turns into
``MODEL:TASK:lower`` / ``:upper`` columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from rdkit import Chem

from workbench.models.builders.base import Predictor
from workbench.models.builders.baseline import BaselineEnsemble
from workbench.models.store import Checkpoint, CheckpointError

__all__ = ["TabularEnsemble", "build_tabular"]


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


class TabularEnsemble(BaselineEnsemble):
    """Per-task, per-seed tabular models on a fitted feature set, calibrated; outputs in task units."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        from workbench.featurizers.feature_sets import FittedFeatures

        super().__init__(checkpoint)
        config = checkpoint.card.architecture.config
        try:
            self.features = FittedFeatures.from_params(checkpoint.card.featurizer.params)
        except (ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"{checkpoint.path}: its feature set cannot be rebuilt ({exc})") from exc
        self.calibration = [tuple(c) if c else None for c in config.get("calibration") or [None] * self.n_tasks]
        conformal = config.get("conformal") or {}
        widths = conformal.get("halfwidth")
        self.interval_halfwidth = np.asarray(widths, dtype=np.float64) if widths else None
        self.interval_coverage = conformal.get("coverage")

    def morgan_part(self) -> tuple[int, int] | None:
        """``(n_bits, radius)`` of the feature set's leading Morgan fingerprint (bits or counts), else ``None``."""
        spec = self.features.params.get("fingerprint")
        if not spec or spec.get("kind") != "morgan":
            return None
        return int(spec["n_bits"]), int(spec["radius"])

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
        from workbench.featurizers.feature_sets import EMBEDDING_FAILED

        x, notes = self.features.transform(mols)
        out = self.predict_features(x)
        errors = [n if n.startswith(EMBEDDING_FAILED) else "" for n in notes]  # no prediction from a zero embedding
        out[:, [i for i, e in enumerate(errors) if e], :] = np.nan
        return out, errors

    def predict_features(self, x: np.ndarray) -> np.ndarray:
        """Calibrated predictions ``(n_members, n, n_tasks)`` for feature rows ``x`` (used by occlusion)."""
        out = self.predict_fingerprints(x)
        for t, platt in enumerate(self.calibration):
            if platt is not None:
                a, b = platt
                out[:, :, t] = 1 / (1 + np.exp(-(a * _logit(out[:, :, t]) + b)))
        return out


def build_tabular(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """A user's tabular model (CPU whatever ``device`` is)."""
    return TabularEnsemble(checkpoint)
