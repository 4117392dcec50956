"""Knowledge transfer between task-specific representations (the multi-task backbone of Wu et al.).

Each task ``i`` has its own representation of a molecule, ``X_i = ReLU(h W_i + b_i)`` (``h``: the shared graph
embedding). Task ``i``'s view is projected into task ``j``'s space through a factorised map,
``X_{i→j} = X_i S_i T_jᵀ`` (``S_i``, ``T_j``: ``task_dim × rank``), so the ``T²`` maps cost ``2 T`` small
matrices. Task ``j`` combines the projections of the other tasks by attention (its own representation as the
query) and weights each source by a learned task-dependency vector ``β_j = σ(Λ_j)`` (one row of a learned
``T × T`` matrix, which :meth:`KnowledgeTransferHead.dependency` returns for display):
``Z_j = X_j + Σ_{i≠j} β_{ji} α_{ji} X_{i→j}``, and the task's logit is a linear read-out of ``Z_j``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from workbench.nn.gin import GIN
from workbench.nn.heads import mean_pool

__all__ = ["GINMultiTask", "KnowledgeTransferHead", "TaskTransferGIN"]


class KnowledgeTransferHead(nn.Module):
    """Graph embeddings ``[B, in_dim]`` → logits ``[B, T]`` through task-specific representations and transfer.

    Args:
        in_dim: width of the graph embedding.
        n_tasks: number of tasks ``T``.
        task_dim: width ``d`` of each task's representation.
        rank: rank ``r`` of the factorised projections ``S_i T_jᵀ``.
    """

    def __init__(self, in_dim: int, n_tasks: int, task_dim: int = 64, rank: int = 16) -> None:
        super().__init__()
        self.n_tasks, self.task_dim, self.rank = n_tasks, task_dim, rank
        self.task_weight = nn.Parameter(torch.empty(in_dim, n_tasks, task_dim))  # W_i = task_weight[:, i]
        self.task_bias = nn.Parameter(torch.zeros(n_tasks, task_dim))
        self.source = nn.Parameter(torch.empty(n_tasks, task_dim, rank))  # S_i
        self.target = nn.Parameter(torch.empty(n_tasks, task_dim, rank))  # T_j
        self.query = nn.Linear(task_dim, task_dim, bias=False)
        self.key = nn.Linear(task_dim, task_dim, bias=False)
        self.dependency_logits = nn.Parameter(torch.zeros(n_tasks, n_tasks))  # [target j, source i]
        self.out_weight = nn.Parameter(torch.empty(n_tasks, task_dim))
        self.out_bias = nn.Parameter(torch.zeros(n_tasks))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.task_weight.shape[0])
        nn.init.uniform_(self.task_weight, -bound, bound)
        nn.init.zeros_(self.task_bias)
        nn.init.normal_(self.source, std=1.0 / math.sqrt(self.task_dim))
        nn.init.normal_(self.target, std=1.0 / math.sqrt(self.rank))
        self.query.reset_parameters()
        self.key.reset_parameters()
        nn.init.zeros_(self.dependency_logits)
        nn.init.uniform_(self.out_weight, -1.0 / math.sqrt(self.task_dim), 1.0 / math.sqrt(self.task_dim))
        nn.init.zeros_(self.out_bias)

    def task_representations(self, h: torch.Tensor) -> torch.Tensor:
        """``X``: ``[B, T, d]``."""
        flat = h @ self.task_weight.reshape(self.task_weight.shape[0], -1)  # one matrix product for every task
        return torch.relu(flat.reshape(h.shape[0], self.n_tasks, self.task_dim) + self.task_bias)

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """``X_{i→j} = X_i S_i T_jᵀ`` for every pair: ``[B, T (j), T (i), d]``."""
        low = torch.einsum("bid,idr->bir", x, self.source)
        return torch.einsum("bir,jdr->bjid", low, self.target)

    def dependency(self) -> torch.Tensor:
        """The learned dependency weights ``β[j, i]`` (how much target ``j`` draws on source ``i``; diagonal 0)."""
        beta = torch.sigmoid(self.dependency_logits.detach())
        return beta * (1 - torch.eye(self.n_tasks, device=beta.device))

    def forward(self, h: torch.Tensor, return_attention: bool = False):
        """Logits ``[B, T]`` (and the attention ``α[b, j, i]`` when asked).

        Computed without materialising the ``[B, T, T, d]`` projections: the attention score
        ``q_j · K X_{i→j}`` is ``(T_jᵀ Kᵀ q_j) · (X_i S_i)`` and the combination ``Σ_i w_i X_{i→j}`` is
        ``T_j (Σ_i w_i X_i S_i)`` (:meth:`project` gives the projections themselves).
        """
        x = self.task_representations(h)
        if self.n_tasks > 1:
            low = torch.einsum("bid,idr->bir", x, self.source)  # X_i S_i
            query_key = self.query(x) @ self.key.weight  # Kᵀ q_j, as rows
            scores = torch.einsum("bjr,bir->bji", torch.einsum("bjd,jdr->bjr", query_key, self.target), low)
            eye = torch.eye(self.n_tasks, dtype=torch.bool, device=h.device)
            attention = torch.softmax((scores / math.sqrt(self.task_dim)).masked_fill(eye, float("-inf")), dim=-1)
            beta = torch.sigmoid(self.dependency_logits).masked_fill(eye, 0.0)
            mixed = torch.einsum("bji,bir->bjr", attention * beta, low)
            x = x + torch.einsum("bjr,jdr->bjd", mixed, self.target)
        else:
            attention = h.new_zeros(h.shape[0], 1, 1)
        logits = (x * self.out_weight).sum(dim=-1) + self.out_bias
        return (logits, attention) if return_attention else logits


class _GraphModel(nn.Module):
    """GIN encoder + mean pooling + a head; ``forward(x, edge_index, edge_attr, batch, num_graphs)`` gives logits."""

    gnn: GIN

    def load_encoder(self, state: dict[str, torch.Tensor]) -> None:
        """Load encoder weights (keys with or without the ``gnn.`` prefix); the head is untouched."""
        stripped = {k.removeprefix("gnn."): v for k, v in state.items() if not k.startswith("graph_pred_linear.")}
        self.gnn.load_state_dict(stripped, strict=True)

    def embed(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor, batch: torch.Tensor, num_graphs: int
    ) -> torch.Tensor:
        """Graph embeddings ``[num_graphs, out_dim]``."""
        return mean_pool(self.gnn(x, edge_index, edge_attr), batch, num_graphs)

    def head(self, z: torch.Tensor) -> torch.Tensor:  # pragma: no cover - replaced by subclasses
        raise NotImplementedError

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor, batch: torch.Tensor, num_graphs: int
    ) -> torch.Tensor:
        return self.head(self.embed(x, edge_index, edge_attr, batch, num_graphs))


class GINMultiTask(_GraphModel):
    """The plain multi-task GIN (a linear head over the shared embedding), with ``embed`` / ``head`` split."""

    def __init__(
        self, n_tasks: int, num_layer: int = 5, emb_dim: int = 300, drop_ratio: float = 0.5, jk: str = "last"
    ) -> None:
        super().__init__()
        self.gnn = GIN(num_layer, emb_dim, drop_ratio, jk)
        self.graph_pred_linear = nn.Linear(self.gnn.out_dim, n_tasks)

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return self.graph_pred_linear(z)


class TaskTransferGIN(_GraphModel):
    """GIN encoder + mean pooling + :class:`KnowledgeTransferHead`."""

    def __init__(
        self,
        n_tasks: int,
        num_layer: int = 5,
        emb_dim: int = 300,
        drop_ratio: float = 0.5,
        jk: str = "last",
        task_dim: int = 64,
        rank: int = 16,
    ) -> None:
        super().__init__()
        self.gnn = GIN(num_layer, emb_dim, drop_ratio, jk)
        self.transfer = KnowledgeTransferHead(self.gnn.out_dim, n_tasks, task_dim, rank)

    def head(self, z: torch.Tensor) -> torch.Tensor:
        return self.transfer(z)

    def dependency(self) -> torch.Tensor:
        """The learned task-dependency weights ``β[target, source]``."""
        return self.transfer.dependency()
