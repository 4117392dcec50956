"""AMOLE-style molecule–text dual encoder and its losses (Lee et al., CIKM 2024).

The molecule side is our GIN (pretrain-gnns layout, key prefix ``gnn.``) with
mean pooling and a projection head; the text side is a projection head over the
pooled output of a sentence encoder (see :mod:`workbench.nn.text_backbone`),
so this module takes precomputed text features and never tokenizes. When the
top layers of the sentence encoder are fine-tuned they are part of this module
(``text_top``, key prefix ``text_top.``) and run over cached token states
(:meth:`DualEncoder.encode_text_states`). Both sides land in a shared,
L2-normalised space of ``proj_dim`` dimensions.

Losses (each switchable in training):

* :func:`info_nce` — symmetric InfoNCE, the MoleculeSTM baseline;
* :func:`s2p_loss` — AMOLE's structural-similarity-preserving loss with soft
  targets ``softmax_j(S_ij / tau1)`` from in-batch Tanimoto similarities;
* :func:`expertise_reconstruction_loss` — AMOLE's ER term: reconstruct the
  frozen representation of one description of a molecule from another one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from workbench.nn.gin import GIN
from workbench.nn.heads import mean_pool

if TYPE_CHECKING:
    from workbench.nn.text_backbone import HiddenStates

__all__ = [
    "DualEncoder",
    "expertise_reconstruction_loss",
    "info_nce",
    "s2p_loss",
    "tanimoto_matrix",
]


def _projection(in_dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, in_dim), nn.ReLU(), nn.Linear(in_dim, out_dim))


class DualEncoder(nn.Module):
    """GIN molecule encoder + text projection into one shared space.

    Args:
        text_dim: width of the frozen text features (384 for MiniLM).
        proj_dim: shared space width (256).
        num_layer, emb_dim, drop_ratio, jk: GIN settings (pretrain-gnns defaults).
        text_top: fine-tuned top layers of the sentence encoder (token states in, ``[n, text_dim]``
            sentence vectors out), or ``None`` when the sentence encoder is frozen.
    """

    def __init__(
        self,
        text_dim: int = 384,
        proj_dim: int = 256,
        num_layer: int = 5,
        emb_dim: int = 300,
        drop_ratio: float = 0.1,
        jk: str = "last",
        text_top: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.gnn = GIN(num_layer, emb_dim, drop_ratio, jk)
        self.mol_proj = _projection(self.gnn.out_dim, proj_dim)
        self.text_proj = _projection(text_dim, proj_dim)
        self.text_top = text_top  # registered after the heads: their initialisation does not depend on it
        self.text_dim, self.proj_dim = text_dim, proj_dim

    def encode_molecules(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor, batch: torch.Tensor, num_graphs: int
    ) -> torch.Tensor:
        """Normalised molecule embeddings ``[num_graphs, proj_dim]``."""
        pooled = mean_pool(self.gnn(x, edge_index, edge_attr), batch, num_graphs)
        return F.normalize(self.mol_proj(pooled), dim=-1)

    def encode_texts(self, features: torch.Tensor) -> torch.Tensor:
        """Normalised text embeddings from backbone sentence features ``[n, text_dim]``."""
        return F.normalize(self.text_proj(features), dim=-1)

    def encode_text_states(self, states: HiddenStates, rows: Sequence[int] | np.ndarray) -> torch.Tensor:
        """Normalised text embeddings through the fine-tuned top layers.

        Args:
            states: cached token states (:class:`workbench.nn.text_backbone.HiddenStates`).
            rows: which texts of ``states``, in output order.
        """
        if self.text_top is None:
            raise RuntimeError("this dual encoder has no trainable text layers; use encode_texts(features)")
        return self.encode_texts(self.text_top.encode(states, rows))

    def load_encoder(self, state: dict[str, torch.Tensor]) -> None:
        """Initialise the GIN from an encoder or fine-tuned GIN state dict (``gnn.*`` keys or bare)."""
        stripped = {k.removeprefix("gnn."): v for k, v in state.items() if not k.startswith("graph_pred_linear.")}
        self.gnn.load_state_dict(stripped, strict=True)


def info_nce(mol: torch.Tensor, text: torch.Tensor, tau: float = 0.1) -> torch.Tensor:
    """Symmetric InfoNCE over a batch of matched (molecule i, text i) pairs."""
    logits = mol @ text.T / tau
    labels = torch.arange(len(mol), device=mol.device)
    return 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))


def s2p_loss(
    mol: torch.Tensor, text: torch.Tensor, similarity: torch.Tensor, tau1: float = 0.1, tau2: float = 0.1
) -> torch.Tensor:
    """AMOLE's structural-similarity-preserving loss, both directions.

    Args:
        mol, text: normalised embeddings of the batch, row i of each is the i-th pair.
        similarity: ``S[i, j]``, Tanimoto similarity between the molecule fed at i and at j.
        tau1: temperature of the soft targets ``y_ij = softmax_j(S_ij / tau1)``.
        tau2: temperature of the predictions ``softmax_j(<x_i, t_j> / tau2)``.

    With ``S`` the identity and ``tau1 -> 0`` the targets become one-hot and the
    loss becomes :func:`info_nce`.
    """
    targets = torch.softmax(similarity / tau1, dim=1)
    logits = mol @ text.T / tau2
    mol_to_text = -(targets * F.log_softmax(logits, dim=1)).sum(1).mean()
    text_to_mol = -(targets.T * F.log_softmax(logits.T, dim=1)).sum(1).mean()
    return 0.5 * (mol_to_text + text_to_mol)


def expertise_reconstruction_loss(
    predicted: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """ER term: ``1 - cos`` between reconstructed and frozen-target description representations.

    Args:
        predicted: reconstructions ``[n, d]`` made from one description of each molecule.
        target: frozen representations ``[n, d]`` of another description of the same molecule.
        mask: rows that have a second description; the loss is 0 (with a graph) when none do.
    """
    if mask is not None:
        if not bool(mask.any()):
            return predicted.sum() * 0.0
        predicted, target = predicted[mask], target[mask]
    return (1.0 - F.cosine_similarity(predicted, target, dim=-1)).mean()


def tanimoto_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Tanimoto similarities between the rows of two 0/1 fingerprint matrices."""
    a, b = a.float(), b.float()
    inter = a @ b.T
    union = a.sum(1, keepdim=True) + b.sum(1).unsqueeze(0) - inter
    return torch.where(union > 0, inter / union.clamp(min=1e-9), torch.zeros_like(inter))
