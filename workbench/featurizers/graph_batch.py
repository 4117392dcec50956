"""One molecular graph as tensors, and a batch of them stacked into one disjoint graph.

The workbench's own form of what PyTorch Geometric calls ``Data`` and ``Batch``: the GIN family only needs
node features, edges, edge features and the graph each node belongs to, and importing PyTorch Geometric
costs seconds on a cold start (it imports ``torch._dynamo`` and its dataset zoo), so inference and training
use these two small classes instead. Stacking offsets each graph's ``edge_index`` by the nodes before it,
like ``Batch.from_data_list``; ``ptr`` holds the node offsets (``ptr[g]:ptr[g + 1]`` are graph ``g``'s nodes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

__all__ = ["GraphBatch", "MolGraph", "segment_mean"]


@dataclass(frozen=True)
class MolGraph:
    """One graph: ``x`` ``[n_nodes, 2]``, ``edge_index`` ``[2, n_edges]``, ``edge_attr`` ``[n_edges, 2]`` (long)."""

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor

    @property
    def num_nodes(self) -> int:
        """Number of atoms."""
        return int(self.x.shape[0])

    @property
    def num_edges(self) -> int:
        """Number of directed edges (two per bond)."""
        return int(self.edge_index.shape[1])


@dataclass(frozen=True)
class GraphBatch:
    """Graphs stacked into one: node rows of every graph in order, edges re-indexed, ``batch`` per node."""

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    batch: torch.Tensor
    ptr: torch.Tensor
    num_graphs: int

    @classmethod
    def from_graphs(cls, graphs: Sequence[MolGraph]) -> GraphBatch:
        """Stack ``graphs`` (at least one) into a batch on the device they are on."""
        if not graphs:
            raise ValueError("a batch needs at least one graph")
        sizes = torch.tensor([g.num_nodes for g in graphs], dtype=torch.long)
        ptr = torch.zeros(len(graphs) + 1, dtype=torch.long)
        torch.cumsum(sizes, dim=0, out=ptr[1:])
        edges = torch.tensor([g.num_edges for g in graphs], dtype=torch.long)
        device = graphs[0].x.device
        shift = torch.repeat_interleave(ptr[:-1], edges).to(device)
        return cls(
            x=torch.cat([g.x for g in graphs], dim=0),
            edge_index=torch.cat([g.edge_index for g in graphs], dim=1) + shift,
            edge_attr=torch.cat([g.edge_attr for g in graphs], dim=0),
            batch=torch.repeat_interleave(torch.arange(len(graphs)), sizes).to(device),
            ptr=ptr,
            num_graphs=len(graphs),
        )

    def to(self, device: torch.device | str) -> GraphBatch:
        """The same batch with its node and edge tensors on ``device`` (``ptr`` stays on the CPU)."""
        return GraphBatch(
            x=self.x.to(device),
            edge_index=self.edge_index.to(device),
            edge_attr=self.edge_attr.to(device),
            batch=self.batch.to(device),
            ptr=self.ptr,
            num_graphs=self.num_graphs,
        )


def segment_mean(h: torch.Tensor, batch: torch.Tensor, num_graphs: int) -> torch.Tensor:
    """Mean of the rows of ``h`` per graph (a graph without rows gives zeros)."""
    sums = h.new_zeros((num_graphs, *h.shape[1:])).index_add_(0, batch, h)
    counts = torch.bincount(batch, minlength=num_graphs).clamp_(min=1).to(h.dtype)
    return sums / counts.view(-1, *([1] * (h.dim() - 1)))
