"""Graph-level prediction: mean pooling, a linear multi-task head, and masked losses."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from workbench.featurizers.graph_batch import segment_mean
from workbench.nn.gin import GIN

__all__ = ["GINPredictor", "masked_bce_loss", "masked_mse_loss", "mean_pool"]


def mean_pool(h: torch.Tensor, batch: torch.Tensor, num_graphs: int) -> torch.Tensor:
    """Average node rows per graph."""
    return segment_mean(h, batch, num_graphs)


class GINPredictor(nn.Module):
    """GIN encoder + mean pooling + linear head (pretrain-gnns ``GNN_graphpred`` key layout).

    Keys: ``gnn.*`` for the encoder and ``graph_pred_linear.*`` for the head, so a
    fine-tuned pretrain-gnns state dict loads as is, and a bare encoder state dict
    loads with :meth:`load_encoder`.
    """

    def __init__(
        self, n_tasks: int, num_layer: int = 5, emb_dim: int = 300, drop_ratio: float = 0.5, jk: str = "last"
    ) -> None:
        super().__init__()
        self.gnn = GIN(num_layer, emb_dim, drop_ratio, jk)
        self.graph_pred_linear = nn.Linear(self.gnn.out_dim, n_tasks)

    def load_encoder(self, state: dict[str, torch.Tensor]) -> None:
        """Load encoder weights (keys with or without the ``gnn.`` prefix); the head is untouched."""
        stripped = {k.removeprefix("gnn."): v for k, v in state.items() if not k.startswith("graph_pred_linear.")}
        self.gnn.load_state_dict(stripped, strict=True)

    def embed(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor, batch: torch.Tensor, num_graphs: int
    ) -> torch.Tensor:
        """Graph embeddings ``[num_graphs, out_dim]``."""
        return mean_pool(self.gnn(x, edge_index, edge_attr), batch, num_graphs)

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor, batch: torch.Tensor, num_graphs: int
    ) -> torch.Tensor:
        return self.graph_pred_linear(self.embed(x, edge_index, edge_attr, batch, num_graphs))


def masked_bce_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Binary cross-entropy averaged over the labels that are present (NaN = missing)."""
    mask = ~torch.isnan(targets)
    if not mask.any():
        return logits.sum() * 0.0
    return F.binary_cross_entropy_with_logits(logits[mask], targets[mask])


def masked_mse_loss(predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean squared error over the targets that are present (NaN = missing)."""
    mask = ~torch.isnan(targets)
    if not mask.any():
        return predictions.sum() * 0.0
    return F.mse_loss(predictions[mask], targets[mask])
