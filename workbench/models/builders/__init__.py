"""Turn a checkpoint into a predictor: one builder per architecture, listed in an explicit table.

``ARCHITECTURES`` maps a card's ``architecture.type`` to its builder; a new architecture is added
to this table (no import-time registration). Retrieval checkpoints have no entry: they are not
property predictors. Builders import their featurizer, network and model library (PyTorch Geometric,
scikit-learn, XGBoost, ONNX Runtime) when they run, so importing this package stays light.
"""

from __future__ import annotations

import torch

from workbench.models.builders.base import Builder, Predictor, TorchEnsemble, output_transform
from workbench.models.builders.baseline import BaselineEnsemble, build_baseline
from workbench.models.builders.chemprop import build_chemprop_mpnn
from workbench.models.builders.minimol import build_minimol_head
from workbench.models.builders.tabular import build_tabular
from workbench.models.builders.torch_models import build_feature_mlp, build_gin
from workbench.models.store import Checkpoint

__all__ = [
    "ARCHITECTURES",
    "BaselineEnsemble",
    "Predictor",
    "TorchEnsemble",
    "build_predictor",
    "can_predict",
    "output_transform",
]

ARCHITECTURES: dict[str, Builder] = {
    "gin": build_gin,
    "feature_mlp": build_feature_mlp,
    "rf": build_baseline,
    "xgboost": build_baseline,
    "svr": build_baseline,
    "chemprop_mpnn": build_chemprop_mpnn,
    "minimol_head": build_minimol_head,
    "tabular": build_tabular,
}


def can_predict(checkpoint: Checkpoint) -> bool:
    """Whether a predictor builder exists for the checkpoint's architecture (retrieval models have none)."""
    return checkpoint.architecture in ARCHITECTURES


def build_predictor(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """Build the predictor for a checkpoint on ``device``."""
    from workbench.featurizers import FEATURIZER_VERSION

    builder = ARCHITECTURES.get(checkpoint.architecture)
    if builder is None:
        raise ValueError(
            f"checkpoint '{checkpoint.name}' has architecture '{checkpoint.architecture}', which this workbench "
            f"cannot run (known: {', '.join(sorted(ARCHITECTURES))})."
        )
    featurizer = checkpoint.card.featurizer
    if featurizer.version.split(".")[0] != FEATURIZER_VERSION.split(".")[0]:
        raise ValueError(
            f"checkpoint '{checkpoint.name}' was trained with featurizer version {featurizer.version}, "
            f"this workbench has {FEATURIZER_VERSION}; re-train it with: {checkpoint.card.command}"
        )
    return builder(checkpoint, device)
