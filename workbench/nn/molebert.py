"""Mole-BERT (Xia et al., ICLR 2023): the networks of masked atom modelling and triplet masked contrastive learning.

:class:`MoleBERTModel` holds the GIN that ships (``gnn.*``, pretrain-gnns layout), two linear
heads from node representations to the tokenizer's code ids (one per masked view, as in the
released ``pretrain.py``), the graph projection head of the contrastive part (mean pooling →
Linear-ReLU-Linear) and the :class:`~workbench.nn.vq_tokenizer.VQTokenizer` (``tokenizer.*``)
that provides the targets. The losses: :func:`nt_xent` (GraphCL's contrastive loss between the
two masked views) and :func:`triplet_loss` (the unmasked graph as anchor, the lightly masked view
as positive, the heavily masked view as negative).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from workbench.nn.gin import GIN
from workbench.nn.vq_tokenizer import DEFAULT_CODEBOOK_SPLIT, VQTokenizer

__all__ = ["MoleBERTModel", "graph_mean", "nt_xent", "triplet_loss"]


def graph_mean(h: torch.Tensor, ptr: torch.Tensor) -> torch.Tensor:
    """Mean of the node rows of each graph; graphs own contiguous rows ``ptr[i]:ptr[i+1]`` (none empty)."""
    counts = (ptr[1:] - ptr[:-1]).to(h.device)
    graph = torch.repeat_interleave(torch.arange(len(counts), device=h.device), counts)
    sums = torch.zeros(len(counts), h.shape[1], dtype=h.dtype, device=h.device).index_add(0, graph, h)
    return sums / counts.unsqueeze(1).to(h.dtype)


def nt_xent(a: torch.Tensor, b: torch.Tensor, temperature: float = 0.1) -> torch.Tensor:
    """GraphCL's loss: ``-log(exp(s_ii) / Σ_{j≠i} exp(s_ij))`` with ``s`` the cosine similarities / temperature.

    Row ``i`` of ``a`` and of ``b`` are two views of one graph; the other rows of ``b`` are its negatives.
    Zero for fewer than two graphs (no negative).
    """
    if len(a) < 2:
        return a.sum() * 0.0
    sim = F.normalize(a.float(), dim=1) @ F.normalize(b.float(), dim=1).t() / temperature
    eye = torch.eye(len(a), dtype=torch.bool, device=a.device)
    negatives = torch.logsumexp(sim.masked_fill(eye, float("-inf")), dim=1)
    return (negatives - sim.diagonal()).mean()


def triplet_loss(anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor, margin: float) -> torch.Tensor:
    """Mean of ``max(0, ||anchor - positive|| - ||anchor - negative|| + margin)`` (L2, per graph).

    ``torch.nn.TripletMarginLoss``'s formula (distances with ``eps`` 1e-6), written out because recent
    PyTorch refuses a margin of 0, the released Mole-BERT code's value.
    """
    anchor = anchor.float()
    positive = F.pairwise_distance(anchor, positive.float(), p=2.0, eps=1e-6)
    negative = F.pairwise_distance(anchor, negative.float(), p=2.0, eps=1e-6)
    return torch.clamp_min(positive - negative + margin, 0.0).mean()


class MoleBERTModel(nn.Module):
    """The shipped GIN with its Mole-BERT heads and the tokenizer that labels atoms.

    Args:
        num_layer, emb_dim, drop_ratio, jk: the GIN's (and the tokenizer GIN's depth and width).
        split, commitment_cost: the tokenizer's codebook (codes per atom family) and β.
    """

    def __init__(
        self,
        num_layer: int = 5,
        emb_dim: int = 300,
        drop_ratio: float = 0.0,
        jk: str = "last",
        split: tuple[int, ...] = DEFAULT_CODEBOOK_SPLIT,
        commitment_cost: float = 0.25,
    ) -> None:
        super().__init__()
        self.gnn = GIN(num_layer, emb_dim, drop_ratio, jk)
        self.tokenizer = VQTokenizer(num_layer, emb_dim, split, commitment_cost)
        width = self.gnn.out_dim
        self.mam_head1 = nn.Linear(width, self.tokenizer.num_codes)
        self.mam_head2 = nn.Linear(width, self.tokenizer.num_codes)
        self.projection = nn.Sequential(nn.Linear(width, width), nn.ReLU(), nn.Linear(width, width))
        #: ``tokenizer`` or ``mam``: set by the training method before each epoch (not part of the state)
        self.stage = "tokenizer"

    def encode(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor, ptr: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Node representations and projected graph representations of (possibly masked) graphs."""
        nodes = self.gnn(x, edge_index, edge_attr)
        return nodes, self.projection(graph_mean(nodes, ptr))
