"""AttrMask (Hu et al. 2020): a GIN and a linear head that predicts the type of masked atoms.

The layout follows pretrain-gnns' ``pretrain_masking.py``: the encoder's node
representations of the masked atoms go through one linear layer
(``linear_pred_atoms``, ``emb_dim -> 119``: atom type indices 0..118) and a
cross-entropy loss, computed in float64 as there. Keys: ``gnn.*`` (the encoder
that ships) and ``atom_head.*``.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from workbench.nn.gin import GIN

__all__ = ["NUM_ATOM_CLASSES", "MaskedAtomModel", "masked_atom_accuracy", "masked_atom_loss"]

#: Classes of the masked-atom head: atom type indices 0..118 (the mask token 119 is never a target).
NUM_ATOM_CLASSES = 119


class MaskedAtomModel(nn.Module):
    """GIN encoder + linear masked-atom-type head.

    Args:
        num_layer, emb_dim, drop_ratio, jk: the GIN's (pretrain-gnns AttrMask: 5, 300, 0.0, ``last``).
    """

    def __init__(self, num_layer: int = 5, emb_dim: int = 300, drop_ratio: float = 0.0, jk: str = "last") -> None:
        super().__init__()
        self.gnn = GIN(num_layer, emb_dim, drop_ratio, jk)
        self.atom_head = nn.Linear(self.gnn.out_dim, NUM_ATOM_CLASSES)

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor, masked: torch.Tensor
    ) -> torch.Tensor:
        """Logits ``[len(masked), NUM_ATOM_CLASSES]`` for the atoms at indices ``masked``."""
        return self.atom_head(self.gnn(x, edge_index, edge_attr)[masked])


def masked_atom_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the masked atoms, in float64 (as pretrain-gnns computes it)."""
    return F.cross_entropy(logits.double(), labels)


def masked_atom_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Fraction of masked atoms whose type is predicted correctly."""
    return (logits.detach().argmax(dim=1) == labels).float().mean()
