"""Builders for our own torch checkpoints: the GIN ensembles and MLPs on ECFP."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from rdkit import Chem
from torch_geometric.data import Batch

from workbench.featurizers import ecfp_batch, mols_to_graphs
from workbench.models.builders.base import Predictor, TorchEnsemble, output_transform
from workbench.models.store import Checkpoint, load_state_dicts
from workbench.nn import FeatureMLP, GINPredictor

__all__ = ["build_feature_mlp", "build_gin"]


def _ecfp_input(params: dict) -> Callable[[Sequence[Chem.Mol]], tuple[object, list[str]]]:
    n_bits, radius, counts = int(params.get("n_bits", 2048)), int(params.get("radius", 2)), bool(params.get("counts"))

    def featurize(mols: Sequence[Chem.Mol]) -> tuple[object, list[str]]:
        fps = ecfp_batch(mols, n_bits=n_bits, radius=radius, counts=counts)
        return torch.from_numpy(fps.astype(np.float32)), [""] * len(mols)

    return featurize


def build_feature_mlp(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """An ensemble of MLPs on ECFP bits or counts."""
    card = checkpoint.card
    if card.featurizer.name != "ecfp":
        raise ValueError("feature_mlp checkpoints take the 'ecfp' featurizer")
    members = []
    for state in load_state_dicts(checkpoint.path, card):
        model = FeatureMLP(**card.architecture.config)
        model.load_state_dict(state)
        members.append(model.to(device).eval())
    return TorchEnsemble(
        members=members,
        featurize=_ecfp_input(card.featurizer.params),
        to_device=lambda x, d: x.to(d),
        transform=output_transform(card),
        device=device,
        n_tasks=len(card.tasks),
    )


def _graph_input(mols: Sequence[Chem.Mol]) -> tuple[object, list[str]]:
    graphs, errors = mols_to_graphs(mols)
    ok = [g for g in graphs if g is not None]
    return (Batch.from_data_list(ok) if ok else None), errors


class _GraphMember(torch.nn.Module):
    """Adapts a GINPredictor to take a PyG batch."""

    def __init__(self, model: GINPredictor) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)


def build_gin(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """An ensemble of fine-tuned GINs (one member per seed)."""
    card = checkpoint.card
    config = {k: v for k, v in card.architecture.config.items() if k != "weights_dtype"}
    members = []
    for state in load_state_dicts(checkpoint.path, card):
        model = GINPredictor(**config)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        members.append(_GraphMember(model).to(device).eval())
    return TorchEnsemble(
        members=members,
        featurize=_graph_input,
        to_device=lambda batch, d: batch.to(d),
        transform=output_transform(card),
        device=device,
        n_tasks=len(card.tasks),
    )
