"""AMOLE-style molecule–text dual encoder and its losses (Lee et al., CIKM 2024).

The molecule side is one or two *towers* (:data:`TOWERS`): our GIN (pretrain-gnns layout, key prefix
``gnn.``) with mean pooling and a projection head, or an MLP over a precomputed molecule feature vector
(a frozen MiniMol embedding, ECFP4 bits + RDKit 2D descriptors; key prefix ``feature_towers.``). With two
towers the model is a *late fusion*: each tower has its own text projection (``text_proj`` and
``text_proj_2``), both sides are the concatenation of the two normalised branch embeddings divided by
sqrt(2), so a molecule-text score is the mean of the two branch cosines. The text side is a projection head over the
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

import math
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
    "FEATURE_TOWERS",
    "TOWERS",
    "DualEncoder",
    "expertise_reconstruction_loss",
    "info_nce",
    "s2p_loss",
    "tanimoto_matrix",
    "tower_key",
]


#: Molecule towers over precomputed feature vectors (their names are feature sets of
#: :mod:`workbench.featurizers.feature_sets`, computed outside this module).
FEATURE_TOWERS = ("minimol", "ecfp4+rdkit2d")
#: Every molecule tower: the GIN over graphs, or an MLP over one of :data:`FEATURE_TOWERS`.
TOWERS = ("gin", *FEATURE_TOWERS)


def _projection(in_dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(in_dim, in_dim), nn.ReLU(), nn.Linear(in_dim, out_dim))


def _feature_mlp(in_dim: int, hidden: int, out_dim: int, drop_ratio: float) -> nn.Sequential:
    """Feature vector -> shared space: linear, layer norm (the inputs' scale varies by set), ReLU, dropout, linear."""
    return nn.Sequential(
        nn.Linear(in_dim, hidden), nn.LayerNorm(hidden), nn.ReLU(), nn.Dropout(drop_ratio), nn.Linear(hidden, out_dim)
    )


def tower_key(name: str) -> str:
    """The module key of a feature tower (``ecfp4+rdkit2d`` -> ``ecfp4_rdkit2d``)."""
    return name.replace("+", "_")


class DualEncoder(nn.Module):
    """Molecule tower(s) + text projection(s) into one shared space.

    Args:
        text_dim: width of the frozen text features (384 for MiniLM).
        proj_dim: shared space width per tower (256); the embeddings are ``proj_dim * len(towers)`` wide.
        num_layer, emb_dim, drop_ratio, jk: GIN settings (pretrain-gnns defaults); ``drop_ratio`` is also the
            dropout of the feature towers.
        text_top: fine-tuned top layers of the sentence encoder (token states in, ``[n, text_dim]``
            sentence vectors out), or ``None`` when the sentence encoder is frozen.
        towers: one or two distinct names of :data:`TOWERS`; two are fused late (mean of the branch cosines).
        feature_dims: input width of each feature tower, e.g. ``{"minimol": 512}``.
        hidden: hidden width of the feature towers' MLPs.
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
        *,
        towers: Sequence[str] = ("gin",),
        feature_dims: dict[str, int] | None = None,
        hidden: int = 512,
    ) -> None:
        super().__init__()
        towers = tuple(towers)
        unknown = [t for t in towers if t not in TOWERS]
        if unknown or not 1 <= len(towers) <= 2 or len(set(towers)) != len(towers):
            raise ValueError(f"towers must be one or two distinct names of {TOWERS}, got {list(towers)}")
        feature_dims = dict(feature_dims or {})
        missing = [t for t in towers if t != "gin" and t not in feature_dims]
        if missing:
            raise ValueError(f"feature_dims needs the input width of {missing}")
        self.towers = towers
        self.gnn: GIN | None = None
        if "gin" in towers:  # created first, in the order of the single-GIN model (same initialisation)
            self.gnn = GIN(num_layer, emb_dim, drop_ratio, jk)
            self.mol_proj = _projection(self.gnn.out_dim, proj_dim)
        self.text_proj = _projection(text_dim, proj_dim)
        self.feature_towers = nn.ModuleDict(
            {tower_key(t): _feature_mlp(feature_dims[t], hidden, proj_dim, drop_ratio) for t in towers if t != "gin"}
        )
        if len(towers) == 2:
            self.text_proj_2 = _projection(text_dim, proj_dim)
        self.text_top = text_top  # registered after the heads: their initialisation does not depend on it
        self.text_dim, self.proj_dim, self.hidden = text_dim, proj_dim, hidden
        self.feature_dims = {t: int(feature_dims[t]) for t in towers if t != "gin"}

    @property
    def out_dim(self) -> int:
        """Width of the shared-space embeddings (``proj_dim`` per tower)."""
        return self.proj_dim * len(self.towers)

    @staticmethod
    def _fuse(parts: list[torch.Tensor]) -> torch.Tensor:
        return parts[0] if len(parts) == 1 else torch.cat(parts, dim=-1) / math.sqrt(len(parts))

    def encode_molecules(
        self,
        x: torch.Tensor | None = None,
        edge_index: torch.Tensor | None = None,
        edge_attr: torch.Tensor | None = None,
        batch: torch.Tensor | None = None,
        num_graphs: int | None = None,
        *,
        features: dict[str, torch.Tensor] | None = None,
    ) -> torch.Tensor:
        """Normalised molecule embeddings ``[n, out_dim]`` from graphs (GIN tower) and/or feature vectors.

        Args:
            features: ``{tower name: [n, feature_dims[name]]}`` for the feature towers.
        """
        parts = []
        for tower in self.towers:
            if tower == "gin":
                if x is None:
                    raise ValueError("the GIN tower needs the graph tensors")
                pooled = mean_pool(self.gnn(x, edge_index, edge_attr), batch, num_graphs)
                parts.append(F.normalize(self.mol_proj(pooled), dim=-1))
            else:
                if features is None or tower not in features:
                    raise ValueError(f"the {tower} tower needs its feature vectors")
                parts.append(F.normalize(self.feature_towers[tower_key(tower)](features[tower]), dim=-1))
        return self._fuse(parts)

    def encode_texts(self, features: torch.Tensor) -> torch.Tensor:
        """Normalised text embeddings ``[n, out_dim]`` from backbone sentence features ``[n, text_dim]``."""
        parts = [F.normalize(self.text_proj(features), dim=-1)]
        if len(self.towers) == 2:
            parts.append(F.normalize(self.text_proj_2(features), dim=-1))
        return self._fuse(parts)

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
        if self.gnn is None:
            raise ValueError(f"this dual encoder has no GIN tower (towers {list(self.towers)})")
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
