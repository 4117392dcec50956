"""GraphMVP (Liu et al., ICLR 2022): a 2D GIN and a 3D SchNet trained to agree, contrastively and generatively.

The layout follows ``chao1224/GraphMVP`` ``pretrain_GraphMVP.py``: the GIN's mean-pooled atom
representations (2D view) and SchNet's mean-pooled ones (3D view, same width) enter

* a contrastive loss, both directions averaged: EBM-NCE (binary cross-entropy on dot products /
  temperature, one negative per molecule: the next molecule of the batch, cyclically) or InfoNCE
  (cross-entropy over the batch's dot products / temperature); representations L2-normalized first;
* variational representation reconstruction (VRR), both directions averaged: each view encoded to
  ``(μ, log σ²)``, a sample decoded (``Linear → BatchNorm → ReLU → Linear``) and compared by MSE with
  the other view's representation, detached (stop-gradient target), plus ``β·KL(q ‖ N(0, I))``.

Keys: ``gnn.*`` (the GIN that ships), ``schnet.*``, ``vrr_2d_to_3d.*``, ``vrr_3d_to_2d.*``. The
reparameterization noise is an input (drawn by the caller from its own generator), so a step is a
function of its inputs and the weights.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from workbench.nn.gin import GIN
from workbench.nn.schnet import SchNet

__all__ = ["CONTRASTIVE_LOSSES", "GraphMVPModel", "VariationalReconstruction", "contrastive_loss", "mean_pool"]

CONTRASTIVE_LOSSES = ("ebm_nce", "infonce")


def mean_pool(h: torch.Tensor, ptr: torch.Tensor) -> torch.Tensor:
    """Mean of each molecule's atom rows (molecules contiguous, ``ptr`` their offsets)."""
    ptr = ptr.to(h.device)
    atoms = ptr[1:] - ptr[:-1]
    molecule = torch.repeat_interleave(torch.arange(len(atoms), device=h.device), atoms)
    total = torch.zeros(len(atoms), h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, molecule, h)
    return total / atoms.clamp(min=1).to(h.dtype).unsqueeze(1)


def _one_direction(
    x: torch.Tensor, y: torch.Tensor, kind: str, temperature: float
) -> tuple[torch.Tensor, torch.Tensor]:
    if kind == "infonce":
        logits = x @ y.T / temperature
        labels = torch.arange(len(x), device=x.device)
        return F.cross_entropy(logits, labels), (logits.argmax(dim=1) == labels).float().mean()
    negatives = y.roll(-1, dims=0)  # molecule i against molecule i+1 (GraphMVP's cycle_index(n, 1))
    pos = (x * y).sum(dim=1) / temperature
    neg = (x * negatives).sum(dim=1) / temperature
    loss = F.binary_cross_entropy_with_logits(pos, torch.ones_like(pos)) + F.binary_cross_entropy_with_logits(
        neg, torch.zeros_like(neg)
    )
    accuracy = ((pos > 0).float().sum() + (neg < 0).float().sum()) / (len(pos) + len(neg))
    return loss, accuracy


def contrastive_loss(
    x: torch.Tensor, y: torch.Tensor, kind: str = "ebm_nce", temperature: float = 0.1, normalize: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """The symmetric 2D–3D contrastive loss and its accuracy (detached), averaged over both directions.

    Args:
        x, y: the two views' representations ``[batch, dim]``; row ``i`` of each is the same molecule.
        kind: ``ebm_nce`` or ``infonce``.
        temperature: divides the dot products.
        normalize: L2-normalize the representations first.
    """
    if kind not in CONTRASTIVE_LOSSES:
        raise ValueError(f"unknown contrastive loss '{kind}'; choose from {', '.join(CONTRASTIVE_LOSSES)}")
    x, y = x.float(), y.float()
    if normalize:
        x, y = F.normalize(x, dim=-1), F.normalize(y, dim=-1)
    loss_xy, acc_xy = _one_direction(x, y, kind, temperature)
    loss_yx, acc_yx = _one_direction(y, x, kind, temperature)
    return (loss_xy + loss_yx) / 2, ((acc_xy + acc_yx) / 2).detach()


class VariationalReconstruction(nn.Module):
    """Reconstruct one view's representation from the other through a Gaussian latent (GraphMVP's VAE)."""

    def __init__(self, dim: int, beta: float = 1.0, detach_target: bool = True) -> None:
        super().__init__()
        self.beta, self.detach_target = beta, detach_target
        self.fc_mu = nn.Linear(dim, dim)
        self.fc_var = nn.Linear(dim, dim)
        self.decoder = nn.Sequential(nn.Linear(dim, dim), nn.BatchNorm1d(dim), nn.ReLU(), nn.Linear(dim, dim))

    def forward(self, x: torch.Tensor, target: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """``MSE(decode(μ + σ·noise), target) + β·KL``; ``noise`` is standard normal, shaped like ``x``."""
        if self.detach_target:
            target = target.detach()
        mu, log_var = self.fc_mu(x), self.fc_var(x)
        z = mu + noise.to(mu.dtype) * torch.exp(0.5 * log_var)
        reconstruction = F.mse_loss(self.decoder(z).float(), target.float())
        kl = torch.mean(-0.5 * torch.sum(1 + log_var - mu**2 - log_var.exp(), dim=1).float())
        return reconstruction + self.beta * kl


class GraphMVPModel(nn.Module):
    """The GIN (2D view), SchNet (3D view) and the two reconstruction heads.

    Args:
        num_layer, emb_dim, drop_ratio, jk: the GIN's (GraphMVP: 5, 300, 0.0, ``last``).
        num_filters, num_interactions, num_gaussians, cutoff: SchNet's (width ``emb_dim``).
        beta: weight of the KL term; ``detach_target``: stop-gradient on the reconstruction target.
    """

    def __init__(
        self,
        num_layer: int = 5,
        emb_dim: int = 300,
        drop_ratio: float = 0.0,
        jk: str = "last",
        *,
        num_filters: int = 128,
        num_interactions: int = 6,
        num_gaussians: int = 51,
        cutoff: float = 10.0,
        beta: float = 1.0,
        detach_target: bool = True,
    ) -> None:
        super().__init__()
        self.gnn = GIN(num_layer, emb_dim, drop_ratio, jk)
        self.schnet = SchNet(self.gnn.out_dim, num_filters, num_interactions, num_gaussians, cutoff, "mean")
        self.vrr_2d_to_3d = VariationalReconstruction(self.gnn.out_dim, beta, detach_target)
        self.vrr_3d_to_2d = VariationalReconstruction(self.gnn.out_dim, beta, detach_target)

    def views(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor, pos: torch.Tensor, ptr: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The 2D (GIN, mean-pooled) and 3D (SchNet) molecule representations ``[n_molecules, dim]`` each."""
        return mean_pool(self.gnn(x, edge_index, edge_attr), ptr), self.schnet(x[:, 0], pos, ptr)

    def reconstruction(
        self, h2d: torch.Tensor, h3d: torch.Tensor, noise_2d: torch.Tensor, noise_3d: torch.Tensor
    ) -> torch.Tensor:
        """VRR averaged over both directions (2D → 3D with ``noise_2d``, 3D → 2D with ``noise_3d``)."""
        return (self.vrr_2d_to_3d(h2d, h3d, noise_2d) + self.vrr_3d_to_2d(h3d, h2d, noise_3d)) / 2
