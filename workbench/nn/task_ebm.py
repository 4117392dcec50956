"""A task-relation energy model in the output space (the EBM half of SGNN-EBM, Liu et al. 2022).

Given a network's logits ``u(x)`` for ``T`` binary tasks and a task graph (edges ``(s, t)``), the joint label
distribution is ``p(y | x) ∝ exp(Σ_t (u_t + b_t) y_t + Σ_{(s,t)} W_st y_s y_t)``: the network's independent
predictions, a learned bias per task and a learned coupling per edge of the graph.

* **Training, ranking NCE** (Ma & Collins 2018): the noise distribution is the network's own independent
  Bernoulli ``q(y | x) = Π σ(u_t)``, so the log-ratio ``log p̃(y) − log q(y)`` is just
  ``Σ_t b_t y_t + Σ W_st y_s y_t`` and the loss is the cross-entropy of picking the observed label vector among it
  and ``K`` noise vectors. Only the observed labels count (a missing label is left out of every vector's score).
* **Inference, mean field**: ``μ_t ← σ(u_t + b_t + Σ_s J_ts μ_s)`` from ``μ = σ(u + b)``, damped, a fixed number
  of sweeps; returns the marginal probabilities ``μ`` (in [0, 1]).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["TaskRelationEBM"]


class TaskRelationEBM(nn.Module):
    """Pairwise energies over task labels on a fixed task graph.

    Args:
        n_tasks: number of tasks ``T``.
        edges: ``[E, 2]`` task index pairs (undirected, each pair once).
    """

    def __init__(self, n_tasks: int, edges: torch.Tensor) -> None:
        super().__init__()
        edges = torch.as_tensor(edges, dtype=torch.long).reshape(-1, 2)
        if len(edges) and (edges.min() < 0 or edges.max() >= n_tasks or (edges[:, 0] == edges[:, 1]).any()):
            raise ValueError("edges must join two different tasks among the n_tasks")
        self.n_tasks = n_tasks
        self.register_buffer("edges", edges)
        self.pair = nn.Parameter(torch.zeros(len(edges)))
        self.bias = nn.Parameter(torch.zeros(n_tasks))

    def coupling(self) -> torch.Tensor:
        """The symmetric coupling matrix ``J`` ``[T, T]`` (zero off the graph and on the diagonal)."""
        j = self.pair.new_zeros(self.n_tasks, self.n_tasks)
        if len(self.edges):
            s, t = self.edges[:, 0], self.edges[:, 1]
            j = j.index_put((s, t), self.pair).index_put((t, s), self.pair)
        return j

    def log_ratio(self, y: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """``log p̃(y) − log q(y)`` up to a constant per molecule, over the observed entries: ``[...]``."""
        ym = y * mask
        value = (ym * self.bias).sum(dim=-1)
        if len(self.edges):
            value = value + (ym[..., self.edges[:, 0]] * ym[..., self.edges[:, 1]] * self.pair).sum(dim=-1)
        return value

    def nce_loss(
        self, logits: torch.Tensor, targets: torch.Tensor, n_noise: int = 16, generator: torch.Generator | None = None
    ) -> torch.Tensor:
        """Ranking NCE of the observed label vectors (NaN = missing) against ``n_noise`` draws from ``σ(logits)``."""
        mask = (~torch.isnan(targets)).to(logits.dtype)
        rows = mask.sum(dim=1) > 0
        if not rows.any():
            return self.pair.sum() * 0.0 + self.bias.sum() * 0.0
        logits, mask, y = logits[rows].detach(), mask[rows], torch.nan_to_num(targets[rows])
        probs = torch.sigmoid(logits).expand(n_noise, *logits.shape)
        noise = torch.bernoulli(probs, generator=generator)
        scores = torch.cat([self.log_ratio(y, mask).unsqueeze(0), self.log_ratio(noise, mask)], dim=0)
        return -F.log_softmax(scores, dim=0)[0].mean()

    def mean_field(self, logits: torch.Tensor, iterations: int = 20, damping: float = 0.5) -> torch.Tensor:
        """Marginal probabilities ``[B, T]`` under the joint model, by damped mean-field sweeps."""
        field = logits + self.bias
        coupling = self.coupling()
        mu = torch.sigmoid(field)
        for _ in range(iterations):
            mu = damping * mu + (1 - damping) * torch.sigmoid(field + mu @ coupling)
        return mu
