"""Fingerprint baselines (RF / SVR via skops with an allow-list, XGBoost as gzip JSON): never unpickled.

skops, scikit-learn and XGBoost are imported when a baseline is loaded, not with this module.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence

import numpy as np
import torch
from rdkit import Chem

from workbench.models.builders.base import Predictor
from workbench.models.builders.flat_forest import FlatForest
from workbench.models.store import Checkpoint, CheckpointError, read_verified

__all__ = ["FLAT_FOREST_MAX_ROWS", "SKOPS_ALLOWED", "BaselineEnsemble", "build_baseline"]

#: Up to this many rows a random forest is walked as flat arrays (:class:`FlatForest`, ~1 ms for one
#: molecule instead of ~45 ms); above it scikit-learn's per-tree loop is the faster one.
FLAT_FOREST_MAX_ROWS = 64


#: Types a skops file may contain beyond skops' defaults; anything else is refused.
SKOPS_ALLOWED = {"sklearn.tree._tree.Tree"}


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


def _load_xgboost(data: bytes, gzipped: bool) -> object:
    import xgboost as xgb

    booster = xgb.Booster()
    booster.load_model(bytearray(gzip.decompress(data) if gzipped else data))
    return booster


def _dmatrix(x: np.ndarray) -> object:
    import xgboost as xgb

    return xgb.DMatrix(x)


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
        self.models: dict[tuple[int, int], object] = {}
        #: Keys of the XGBoost boosters: they share one DMatrix per call (``inplace_predict`` gives the same values
        #: but was slower here: 1.5-2x on 1-50 molecules with SIDER's 81 boosters, as fast on 1,000).
        self.boosters: set[tuple[int, int]] = set()
        #: Random forest classifiers as flat arrays, for small batches (the page's single molecule).
        self.flat: dict[tuple[int, int], FlatForest] = {}
        for entry in card.weights:
            if entry.format not in ("xgboost-json", "skops"):
                raise CheckpointError(f"{entry.file}: {entry.format} is not a baseline format")
        for entry in card.weights:  # each file read once: the bytes hashed are the bytes loaded
            path = checkpoint.path / entry.file
            key = (int(entry.seed), int(entry.task))
            data = read_verified(path, entry.sha256)
            if entry.format == "xgboost-json":
                self.models[key] = _load_xgboost(data, path.suffix == ".gz")
                self.boosters.add(key)
            else:
                self.models[key] = _load_skops(data, str(path))
                flat = FlatForest.from_forest(self.models[key]) if self.classification[key[1]] else None
                if flat is not None:
                    self.flat[key] = flat

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
        from workbench.featurizers.fingerprints import ecfp_batch

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
                if (seed, t) in self.boosters:
                    matrix = _dmatrix(x) if matrix is None else matrix
                    out[s, :, t] = model.predict(matrix)
                elif (seed, t) in self.flat and len(x) <= FLAT_FOREST_MAX_ROWS:
                    out[s, :, t] = self.flat[(seed, t)].predict_positive(x)
                elif self.classification[t]:
                    out[s, :, t] = model.predict_proba(x)[:, 1]
                else:
                    out[s, :, t] = model.predict(x)
        return out


def build_baseline(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """Per-task, per-seed fingerprint models (they run on the CPU whatever ``device`` is)."""
    return BaselineEnsemble(checkpoint)
