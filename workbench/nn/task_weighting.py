"""Multi-task losses with missing labels, and two ways to balance them: uncertainty weighting and GradNorm.

* :func:`per_task_bce`: one masked binary cross-entropy per task (NaN = missing) and which tasks a batch labels.
* :class:`UncertaintyWeighting` (Kendall, Gal & Cipolla 2018): a learned log-variance ``s_t`` per task,
  loss ``Σ_t exp(-s_t) L_t / 2 + s_t / 2`` over the tasks the batch labels.
* :class:`GradNorm` (Chen et al. 2018): learned task weights ``w_t`` that pull each task's gradient norm
  ``w_t ‖∇_z L_t‖`` towards the mean norm times ``r_t^α`` (``r_t``: the task's loss relative to its first loss,
  over the mean of those ratios). The norms are taken with respect to the shared graph embedding ``z`` (the
  "representation" variant of LibMTL), which costs one small backward pass through the head per task instead of
  one through the encoder. The weights are renormalized to sum to the number of tasks after each step.
* :class:`WithTaskWeights`: a network and its weighting in one module, so that one optimizer and one state dict
  (saved and resumed by the training loop) hold both.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["GradNorm", "UncertaintyWeighting", "WithTaskWeights", "per_task_bce", "task_gradient_norms"]


def per_task_bce(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-task mean binary cross-entropy over the present labels ``[T]``, and the tasks with a label ``[T]``.

    A task without a label in the batch has loss 0 (and no gradient).
    """
    mask = ~torch.isnan(targets)
    safe = torch.where(mask, targets, torch.zeros_like(targets))
    raw = F.binary_cross_entropy_with_logits(logits, safe, reduction="none") * mask
    counts = mask.sum(dim=0)
    return raw.sum(dim=0) / counts.clamp(min=1), counts > 0


class UncertaintyWeighting(nn.Module):
    """Homoscedastic-uncertainty task weights: a learned log-variance per task (initialised to 0)."""

    def __init__(self, n_tasks: int) -> None:
        super().__init__()
        self.log_var = nn.Parameter(torch.zeros(n_tasks))

    def forward(self, losses: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """The weighted total over the present tasks."""
        terms = 0.5 * torch.exp(-self.log_var) * losses + 0.5 * self.log_var
        return (terms * present).sum()

    def weights(self) -> torch.Tensor:
        """The current effective weights ``exp(-s_t) / 2``."""
        return (0.5 * torch.exp(-self.log_var)).detach()


def task_gradient_norms(losses: torch.Tensor, present: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """``‖∇_z L_t‖`` for every present task (0 for the others), detached; the graph is kept for the backward."""
    norms = torch.zeros_like(losses)
    for t in torch.nonzero(present).flatten().tolist():
        (grad,) = torch.autograd.grad(losses[t], z, retain_graph=True)
        norms[t] = grad.norm()
    return norms.detach()


class GradNorm(nn.Module):
    """GradNorm task weights (all 1 at the start) and the first loss of each task (a buffer, saved on resume)."""

    def __init__(self, n_tasks: int, alpha: float = 1.5) -> None:
        super().__init__()
        self.alpha = alpha
        self.task_weights = nn.Parameter(torch.ones(n_tasks))
        self.register_buffer("initial_losses", torch.full((n_tasks,), float("nan")))

    def weighted_loss(self, losses: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
        """``Σ w_t L_t`` over the present tasks, divided by their number (the weights are constants here)."""
        return (self.task_weights.detach() * losses * present).sum() / present.sum().clamp(min=1)

    def balance_loss(self, losses: torch.Tensor, present: torch.Tensor, grad_norms: torch.Tensor) -> torch.Tensor:
        """``Σ_t |w_t G_t - mean(w G) r_t^α|`` over the present tasks; its gradient reaches only the weights."""
        losses = losses.detach()
        with torch.no_grad():
            new = present & torch.isnan(self.initial_losses)
            self.initial_losses[new] = losses[new].clamp(min=1e-8)
        usable = present & torch.isfinite(self.initial_losses)
        if usable.sum() < 2:
            return self.task_weights.sum() * 0.0
        ratio = losses[usable] / self.initial_losses[usable]
        relative = ratio / ratio.mean()
        weighted = self.task_weights[usable] * grad_norms[usable]
        target = (weighted.mean() * relative.pow(self.alpha)).detach()
        return (weighted - target).abs().sum()

    @torch.no_grad()
    def renormalize(self) -> None:
        """Keep the weights positive and summing to the number of tasks."""
        w = self.task_weights.clamp(min=1e-3)
        self.task_weights.copy_(w * len(w) / w.sum())

    def weights(self) -> torch.Tensor:
        """The current task weights."""
        return self.task_weights.detach().clone()


class WithTaskWeights(nn.Module):
    """A graph network (``net``) and its task weighting (``weighting``); calls go to the network."""

    def __init__(self, net: nn.Module, weighting: nn.Module) -> None:
        super().__init__()
        self.net, self.weighting = net, weighting

    def forward(self, *args: object, **kwargs: object) -> torch.Tensor:
        return self.net(*args, **kwargs)

    def embed(self, *args: object, **kwargs: object) -> torch.Tensor:
        return self.net.embed(*args, **kwargs)

    def head(self, z: torch.Tensor) -> torch.Tensor:
        """Logits from graph embeddings."""
        return self.net.head(z)
