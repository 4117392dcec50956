"""Mole-BERT's atom tokenizer (Xia et al., ICLR 2023): a VQ-VAE over GIN atom embeddings.

A GIN encodes every atom in its context; each embedding is replaced by its nearest code of a
codebook that is split by atom family (carbon, nitrogen, oxygen, others), so a carbon atom only
ever gets a carbon code; decoders reconstruct the atom type, its chirality tag and the bond
types from the quantized embeddings. Loss: reconstruction (cross-entropy) + codebook loss
``||sg[z] - e||²`` + ``β ||z - sg[e]||²`` (β, the commitment cost, 0.25), straight-through
gradients. The code id of each atom is the vocabulary Mole-BERT's masked atom modelling predicts.

Choices (the authors never released a trained tokenizer): the family split is contiguous,
carbon ``[0, 377)``, nitrogen ``[377, 432)``, oxygen ``[432, 486)``, others ``[486, 512)``
(377/55/54/26 codes); the released ``vqvae.py`` slices ``[0:377]``, ``[378:433]``,
``[434:488]``, ``[489:511]``, which leaves four codes unused and gives others 22. The decoders
follow that file (PReLU, a bias-free linear map, one GIN layer whose MLP ends in the classes;
bonds: a linear map of the sum of both end atoms' quantized embeddings).
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn
from torch.nn import functional as F

from workbench.nn.gin import GIN, NUM_CHIRALITY_TAGS, GINConv

__all__ = [
    "ATOM_FAMILIES",
    "DEFAULT_CODEBOOK_SPLIT",
    "FamilyCodebook",
    "TokenizerOutput",
    "VQTokenizer",
    "atom_family",
]

#: Codebook groups, in codebook order.
ATOM_FAMILIES = ("carbon", "nitrogen", "oxygen", "others")
#: Codes per family (Mole-BERT: 512 codes).
DEFAULT_CODEBOOK_SPLIT = (377, 55, 54, 26)
#: Atom type indices (atomic number - 1) of carbon, nitrogen and oxygen.
_FAMILY_TYPES = (5, 6, 7)
#: Reconstructed atom types (0..118) and bond types (single, double, triple, aromatic).
_ATOM_CLASSES, _BOND_CLASSES = 119, 4


def atom_family(atom_type: torch.Tensor) -> torch.Tensor:
    """Family index of each atom type index: 0 carbon, 1 nitrogen, 2 oxygen, 3 others."""
    family = torch.full_like(atom_type, len(_FAMILY_TYPES))
    for index, kind in enumerate(_FAMILY_TYPES):
        family[atom_type == kind] = index
    return family


class FamilyCodebook(nn.Module):
    """Vector quantizer whose codes are split by atom family (``split`` codes each, in :data:`ATOM_FAMILIES` order).

    Args:
        emb_dim: code width (the encoder's).
        split: codes of carbon, nitrogen, oxygen and the other elements.
        commitment_cost: β of the commitment term.
    """

    def __init__(
        self, emb_dim: int, split: tuple[int, ...] = DEFAULT_CODEBOOK_SPLIT, commitment_cost: float = 0.25
    ) -> None:
        super().__init__()
        if len(split) != len(ATOM_FAMILIES) or min(split) < 1:
            raise ValueError(f"the codebook split needs {len(ATOM_FAMILIES)} positive sizes (C, N, O, others)")
        self.split, self.commitment_cost = tuple(int(s) for s in split), commitment_cost
        self.starts = [sum(self.split[:i]) for i in range(len(self.split))]
        self.embeddings = nn.Embedding(sum(self.split), emb_dim)

    @property
    def num_codes(self) -> int:
        return sum(self.split)

    def family_range(self, family: int) -> range:
        """The code ids of one family."""
        return range(self.starts[family], self.starts[family] + self.split[family])

    def codes(self, atom_type: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Nearest code (squared L2) of each embedding ``z`` among its atom family's codes."""
        families = atom_family(atom_type)
        weight = self.embeddings.weight
        out = torch.empty(len(z), dtype=torch.long, device=z.device)
        for family in range(len(self.split)):
            rows = families == family
            group = weight[self.starts[family] : self.starts[family] + self.split[family]]
            zf = z[rows]
            distances = (zf**2).sum(1, keepdim=True) + (group**2).sum(1) - 2.0 * zf @ group.t()
            out[rows] = distances.argmin(dim=1) + self.starts[family]
        return out

    def forward(self, atom_type: torch.Tensor, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(quantized, codes, loss)``: straight-through quantized embeddings, code ids, codebook + commitment loss."""
        codes = self.codes(atom_type, z.detach())
        quantized = self.embeddings(codes)
        loss = F.mse_loss(quantized, z.detach()) + self.commitment_cost * F.mse_loss(z, quantized.detach())
        return z + (quantized - z).detach(), codes, loss


def _decoder(emb_dim: int, classes: int) -> nn.Module:
    """PReLU → bias-free linear → one GIN layer whose MLP ends in ``classes`` logits."""
    conv = GINConv(emb_dim)
    conv.mlp[2] = nn.Linear(2 * emb_dim, classes)
    return nn.ModuleDict(
        {"activation": nn.PReLU(), "enc_to_dec": nn.Linear(emb_dim, emb_dim, bias=False), "conv": conv}
    )


def _decode(decoder: nn.Module, h: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
    return decoder["conv"](decoder["enc_to_dec"](decoder["activation"](h)), edge_index, edge_attr)


class TokenizerOutput(NamedTuple):
    """A tokenizer step: total loss, its parts, the atoms' codes and the atom-type reconstruction accuracy."""

    loss: torch.Tensor
    reconstruction: torch.Tensor
    vq: torch.Tensor
    codes: torch.Tensor
    accuracy: float


class VQTokenizer(nn.Module):
    """GIN encoder + family-split codebook + atom-type, chirality and bond-type decoders.

    Keys: ``gnn.*`` (the tokenizer's own GIN), ``codebook.embeddings.weight``, ``atom_decoder.*``,
    ``chirality_decoder.*``, ``bond_decoder.*``.
    """

    def __init__(
        self,
        num_layer: int = 5,
        emb_dim: int = 300,
        split: tuple[int, ...] = DEFAULT_CODEBOOK_SPLIT,
        commitment_cost: float = 0.25,
    ) -> None:
        super().__init__()
        self.gnn = GIN(num_layer, emb_dim, 0.0, "last")
        self.codebook = FamilyCodebook(emb_dim, split, commitment_cost)
        self.atom_decoder = _decoder(emb_dim, _ATOM_CLASSES)
        self.chirality_decoder = _decoder(emb_dim, NUM_CHIRALITY_TAGS)
        self.bond_decoder = nn.Linear(emb_dim, _BOND_CLASSES)

    @property
    def num_codes(self) -> int:
        return self.codebook.num_codes

    def forward(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> TokenizerOutput:
        """Encode, quantize and reconstruct unmasked graphs (node features ``x``: type index, chirality)."""
        quantized, codes, vq = self.codebook(x[:, 0], self.gnn(x, edge_index, edge_attr))
        atom_logits = _decode(self.atom_decoder, quantized, edge_index, edge_attr)
        chirality_logits = _decode(self.chirality_decoder, quantized, edge_index, edge_attr)
        reconstruction = F.cross_entropy(atom_logits.float(), x[:, 0]) + F.cross_entropy(
            chirality_logits.float(), x[:, 1]
        )
        if edge_index.shape[1]:
            bond_logits = self.bond_decoder(quantized[edge_index[0]] + quantized[edge_index[1]])
            reconstruction = reconstruction + F.cross_entropy(bond_logits.float(), edge_attr[:, 0])
        accuracy = float((atom_logits.detach().argmax(1) == x[:, 0]).float().mean())
        return TokenizerOutput(reconstruction + vq, reconstruction, vq, codes, accuracy)

    @torch.no_grad()
    def encode(self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor) -> torch.Tensor:
        """The code id of every atom (its family's nearest code); no gradient, float32 even under autocast."""
        with torch.autocast(x.device.type, enabled=False):
            return self.codebook.codes(x[:, 0], self.gnn(x, edge_index, edge_attr))
