"""GIN encoder in the pretrain-gnns parameter layout (Hu et al. 2020).

Parameter names match that family exactly (``x_embedding1``, ``gnns.<i>.mlp``,
``gnns.<i>.edge_embedding1``, ``batch_norms.<i>`` ...), so state dicts of
published AttrMask / ContextPred / GraphCL / GraphMVP / Mole-BERT encoders load
unchanged. Input tensors follow :mod:`workbench.featurizers`'s graph layout.
"""

from __future__ import annotations

import warnings
from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["GIN", "GINConv", "GraphStructure", "graph_structure"]

NUM_ATOM_TYPES = 120
NUM_CHIRALITY_TAGS = 3
NUM_BOND_TYPES = 6
NUM_BOND_DIRECTIONS = 3
SELF_LOOP_BOND = 4


class GraphStructure(NamedTuple):
    """Layer-independent parts of GIN aggregation, computed once per forward (inference only).

    ``adjacency[i, j]`` counts edges j → i; ``bond_counts[i]`` counts the bond types
    (first :data:`NUM_BOND_TYPES` columns) and directions (last :data:`NUM_BOND_DIRECTIONS`)
    of the edges entering atom i, so that the sum of incoming edge embeddings is one
    small matrix product instead of a gather and an add over every edge.
    """

    adjacency: torch.Tensor
    bond_counts: torch.Tensor


def graph_structure(
    n_nodes: int, edge_index: torch.Tensor, edge_attr: torch.Tensor, dtype: torch.dtype
) -> GraphStructure:
    """Sparse adjacency (CSR) and per-atom incoming bond-type counts for :class:`GINConv`."""
    src, dst = edge_index
    ones = torch.ones(src.shape[0], dtype=dtype, device=src.device)
    adjacency = torch.sparse_coo_tensor(torch.stack([dst, src]), ones, (n_nodes, n_nodes), check_invariants=False)
    counts = torch.zeros(n_nodes, NUM_BOND_TYPES + NUM_BOND_DIRECTIONS, dtype=dtype, device=src.device)
    counts.index_put_((dst, edge_attr[:, 0]), ones, accumulate=True)
    counts.index_put_((dst, NUM_BOND_TYPES + edge_attr[:, 1]), ones, accumulate=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        csr = adjacency.coalesce().to_sparse_csr()
    return GraphStructure(csr, counts)


class GINConv(nn.Module):
    """One GIN layer with bond embeddings added to messages and a self-loop per atom."""

    def __init__(self, emb_dim: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(emb_dim, 2 * emb_dim), nn.ReLU(), nn.Linear(2 * emb_dim, emb_dim))
        self.edge_embedding1 = nn.Embedding(NUM_BOND_TYPES, emb_dim)
        self.edge_embedding2 = nn.Embedding(NUM_BOND_DIRECTIONS, emb_dim)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.edge_embedding1.weight)
        nn.init.xavier_uniform_(self.edge_embedding2.weight)
        for layer in self.mlp:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()

    def forward(
        self,
        x: torch.Tensor,
        edge_index: torch.Tensor,
        edge_attr: torch.Tensor,
        structure: GraphStructure | None = None,
    ) -> torch.Tensor:
        # sum over neighbours j of (h_j + e_ij), plus the self-loop (h_i + e_self)
        self_loop = self.edge_embedding1.weight[SELF_LOOP_BOND] + self.edge_embedding2.weight[0]
        if structure is not None:
            # same sum, regrouped: A·h + (bond-type counts)·(bond embeddings); no per-edge tensors
            bond_weights = torch.cat([self.edge_embedding1.weight, self.edge_embedding2.weight])
            neighbours = torch.sparse.mm(structure.adjacency, x)
            return self.mlp(x + self_loop + neighbours + structure.bond_counts @ bond_weights)
        src, dst = edge_index
        messages = (
            x.index_select(0, src) + self.edge_embedding1(edge_attr[:, 0]) + self.edge_embedding2(edge_attr[:, 1])
        )
        base = x + self_loop  # float32 under autocast, where x may be bfloat16
        return self.mlp(base.index_add(0, dst, messages.to(base.dtype)))


class GIN(nn.Module):
    """Node encoder: atom embeddings, ``num_layer`` GIN layers with batch norm and dropout.

    Args:
        num_layer: number of GIN layers (5 in pretrain-gnns).
        emb_dim: hidden width (300).
        drop_ratio: dropout after each layer.
        jk: jumping knowledge: ``last``, ``concat``, ``max`` or ``sum``.
    """

    #: regroup the aggregation once per forward when no gradient is needed (benchmarks switch it off)
    fast_inference: bool = True

    def __init__(self, num_layer: int = 5, emb_dim: int = 300, drop_ratio: float = 0.5, jk: str = "last") -> None:
        super().__init__()
        if num_layer < 2:
            raise ValueError("a GIN needs at least two layers")
        if jk not in ("last", "concat", "max", "sum"):
            raise ValueError(f"unknown jumping-knowledge mode '{jk}'")
        self.num_layer, self.emb_dim, self.drop_ratio, self.jk = num_layer, emb_dim, drop_ratio, jk
        self.x_embedding1 = nn.Embedding(NUM_ATOM_TYPES, emb_dim)
        self.x_embedding2 = nn.Embedding(NUM_CHIRALITY_TAGS, emb_dim)
        self.gnns = nn.ModuleList([GINConv(emb_dim) for _ in range(num_layer)])
        self.batch_norms = nn.ModuleList([nn.BatchNorm1d(emb_dim) for _ in range(num_layer)])
        self.reset_parameters()

    @property
    def out_dim(self) -> int:
        return self.emb_dim * (self.num_layer + 1) if self.jk == "concat" else self.emb_dim

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.x_embedding1.weight)
        nn.init.xavier_uniform_(self.x_embedding2.weight)
        for conv, norm in zip(self.gnns, self.batch_norms, strict=True):
            conv.reset_parameters()
            norm.reset_parameters()

    def embed_atoms(self, x: torch.Tensor) -> torch.Tensor:
        """Initial atom embeddings from (type index, chirality) pairs."""
        return self.x_embedding1(x[:, 0]) + self.x_embedding2(x[:, 1])

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor, h0: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Node representations ``[n_atoms, out_dim]``; ``h0`` replaces the atom embeddings when given."""
        h_list = [self.embed_atoms(x) if h0 is None else h0]
        structure = None
        h = h_list[0]
        if (
            self.fast_inference
            and not torch.is_grad_enabled()
            and h.dtype == torch.float32
            and h.device.type == "cpu"
            and not torch.is_autocast_enabled("cpu")  # the sparse CSR product has no bfloat16 kernel
        ):
            # inference on CPU: precompute the aggregation structure once for all layers (~1.3× faster)
            structure = graph_structure(h_list[0].shape[0], edge_index, edge_attr, h_list[0].dtype)
        for layer in range(self.num_layer):
            h = self.batch_norms[layer](self.gnns[layer](h_list[layer], edge_index, edge_attr, structure))
            if layer < self.num_layer - 1:
                h = F.relu(h)
            h_list.append(F.dropout(h, self.drop_ratio, training=self.training))
        if self.jk == "concat":
            return torch.cat(h_list, dim=1)
        if self.jk == "max":
            return torch.stack(h_list).max(dim=0).values
        if self.jk == "sum":
            return torch.stack(h_list).sum(dim=0)
        return h_list[-1]
