"""Builders for our own torch checkpoints: the GIN ensembles and MLPs on ECFP.

Featurizers, networks and PyTorch Geometric are imported by the builders, not with this module, so that
importing the inference module stays light (see ``tests/test_lazy_imports.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from rdkit import Chem

from workbench.models.builders.base import Predictor, TorchEnsemble, load_module, output_transform
from workbench.models.store import Checkpoint, load_state_dicts

if TYPE_CHECKING:
    from workbench.featurizers.graph_batch import GraphBatch
    from workbench.nn import GINPredictor

__all__ = ["build_feature_mlp", "build_gin"]


def _ecfp_input(params: dict) -> Callable[[Sequence[Chem.Mol]], tuple[object, list[str]]]:
    from workbench.featurizers.fingerprints import ecfp_batch

    n_bits, radius, counts = int(params.get("n_bits", 2048)), int(params.get("radius", 2)), bool(params.get("counts"))

    def featurize(mols: Sequence[Chem.Mol]) -> tuple[object, list[str]]:
        fps = ecfp_batch(mols, n_bits=n_bits, radius=radius, counts=counts)
        return torch.from_numpy(fps.astype(np.float32)), [""] * len(mols)

    return featurize


def build_feature_mlp(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """An ensemble of MLPs on ECFP bits or counts."""
    from workbench.nn import FeatureMLP

    card = checkpoint.card
    if card.featurizer.name != "ecfp":
        raise ValueError("feature_mlp checkpoints take the 'ecfp' featurizer")
    config = card.architecture.config
    members = [
        load_module(lambda: FeatureMLP(**config), state).to(device) for state in load_state_dicts(checkpoint.path, card)
    ]
    return TorchEnsemble(
        members=members,
        featurize=_ecfp_input(card.featurizer.params),
        to_device=lambda x, d: x.to(d),
        transform=output_transform(card),
        device=device,
        n_tasks=len(card.tasks),
    )


def _graph_input(mols: Sequence[Chem.Mol]) -> tuple[object, list[str]]:
    from workbench.featurizers.graph import mols_to_graphs
    from workbench.featurizers.graph_batch import GraphBatch

    graphs, errors = mols_to_graphs(mols)
    ok = [g for g in graphs if g is not None]
    return (GraphBatch.from_graphs(ok) if ok else None), errors


class _GraphMember(torch.nn.Module):
    """Adapts a GINPredictor to take a PyG batch."""

    def __init__(self, model: GINPredictor) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: GraphBatch) -> torch.Tensor:
        return self.model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)


def build_gin(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """An ensemble of fine-tuned GINs (one member per seed; weights stored in a smaller dtype run in float32)."""
    from workbench.nn import GINPredictor

    card = checkpoint.card
    config = {k: v for k, v in card.architecture.config.items() if k != "weights_dtype"}
    members = [
        _GraphMember(load_module(lambda: GINPredictor(**config), state)).to(device).eval()
        for state in load_state_dicts(checkpoint.path, card)
    ]
    return TorchEnsemble(
        members=members,
        featurize=_graph_input,
        to_device=lambda batch, d: batch.to(d),
        transform=output_transform(card),
        device=device,
        n_tasks=len(card.tasks),
    )
