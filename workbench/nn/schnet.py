"""SchNet (Schütt et al. 2017) in plain PyTorch: continuous-filter convolutions over interatomic distances.

``torch_geometric.nn.SchNet`` builds its radius graph with ``torch_cluster`` (or ``pyg-lib``),
neither of which is installed here (no wheel for this torch build), so this module computes the
graph itself: every ordered pair of distinct atoms of the same molecule closer than ``cutoff``,
found per molecule with tensor operations only. Everything else follows PyG's SchNet as GraphMVP
uses it (``chao1224/GraphMVP`` ``models/schnet.py``): atom-type embedding, Gaussian RBF expansion
of distances on ``[0, cutoff]``, interaction blocks (filter network ``Linear → shifted softplus →
Linear``, filters scaled by the cosine cutoff ``0.5·(cos(π d / cutoff) + 1)``), residual updates,
an atom-wise ``Linear → shifted softplus → Linear`` that keeps the width (GraphMVP's change: PyG's
narrows to one energy per atom) and a mean (or sum) readout per molecule.
Parameter names match PyG's (``embedding``, ``interactions.<i>.mlp``, ``.conv.lin1`` ...), except that
the filter network is stored once (PyG also lists it as ``.conv.nn``, which safetensors refuses).

A filter depends only on the distance, so it is computed once per atom pair and used for both
directions (the same result as PyG's, for half the cost of the filter networks, which dominate).

One difference: PyG's ``radius_graph`` keeps at most ``max_num_neighbors=32`` neighbours per atom
(whichever it finds first); here every neighbour within the cutoff is kept.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["SchNet", "radius_graph_per_molecule"]


def radius_graph_per_molecule(
    pos: torch.Tensor, ptr: torch.Tensor, cutoff: float, both_directions: bool = True
) -> tuple[torch.Tensor, torch.Tensor]:
    """Directed edges ``(src, dst)`` between distinct atoms of the same molecule within ``cutoff``, and their lengths.

    Args:
        pos: atom positions ``[n_atoms, 3]``, molecules contiguous.
        ptr: ``[n_molecules + 1]`` offsets of each molecule's first atom.
        cutoff: distance cutoff (same unit as ``pos``, Å).
        both_directions: every pair as two edges (else once, ``src < dst``).
    """
    ptr = ptr.to(pos.device)
    atoms = ptr[1:] - ptr[:-1]
    pairs = atoms * atoms
    molecule = torch.repeat_interleave(torch.arange(len(atoms), device=pos.device), pairs)
    local = torch.arange(int(pairs.sum()), device=pos.device) - torch.repeat_interleave(
        torch.cumsum(pairs, 0) - pairs, pairs
    )
    n = atoms[molecule]
    src = ptr[molecule] + torch.div(local, n, rounding_mode="floor")
    dst = ptr[molecule] + local % n
    keep = src != dst if both_directions else src < dst
    src, dst = src[keep], dst[keep]
    length = (pos[src] - pos[dst]).norm(dim=-1)
    within = length < cutoff
    return torch.stack([src[within], dst[within]]), length[within]


class ShiftedSoftplus(nn.Module):
    """``softplus(x) - log 2`` (zero at zero)."""

    def __init__(self) -> None:
        super().__init__()
        self.shift = math.log(2.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.softplus(x) - self.shift


class GaussianSmearing(nn.Module):
    """Distances expanded on ``num_gaussians`` Gaussians centred on ``linspace(start, stop)``."""

    def __init__(self, start: float, stop: float, num_gaussians: int) -> None:
        super().__init__()
        offset = torch.linspace(start, stop, num_gaussians)
        self.coeff = -0.5 / float(offset[1] - offset[0]) ** 2
        self.register_buffer("offset", offset)

    def forward(self, dist: torch.Tensor) -> torch.Tensor:
        return torch.exp(self.coeff * (dist.view(-1, 1) - self.offset.view(1, -1)) ** 2)


class CFConv(nn.Module):
    """Continuous-filter convolution: ``lin2(Σ_j lin1(h_j) · W(d_ij) · C(d_ij))``, ``W`` given by the caller.

    ``edge_index`` lists the pairs of ``length`` and ``filters`` first as ``(i, j)``, then as ``(j, i)``.
    """

    def __init__(self, channels: int, num_filters: int, cutoff: float) -> None:
        super().__init__()
        self.lin1 = nn.Linear(channels, num_filters, bias=False)
        self.lin2 = nn.Linear(num_filters, channels)
        self.cutoff = cutoff
        self.reset_parameters()

    def reset_parameters(self) -> None:
        nn.init.xavier_uniform_(self.lin1.weight)
        nn.init.xavier_uniform_(self.lin2.weight)
        self.lin2.bias.data.fill_(0)

    def forward(
        self, h: torch.Tensor, edge_index: torch.Tensor, length: torch.Tensor, filters: torch.Tensor
    ) -> torch.Tensor:
        envelope = 0.5 * (torch.cos(length * math.pi / self.cutoff) + 1.0)
        weights = filters * envelope.view(-1, 1)
        weights = torch.cat([weights, weights])  # one filter per pair, for both of its edges
        x = self.lin1(h)
        src, dst = edge_index
        messages = x.index_select(0, src) * weights
        out = torch.zeros(len(x), messages.shape[1], dtype=messages.dtype, device=x.device)
        return self.lin2(out.index_add_(0, dst, messages))


class InteractionBlock(nn.Module):
    """One SchNet interaction: filter network, continuous-filter convolution, shifted softplus, linear."""

    def __init__(self, channels: int, num_gaussians: int, num_filters: int, cutoff: float) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(num_gaussians, num_filters), ShiftedSoftplus(), nn.Linear(num_filters, num_filters)
        )
        self.conv = CFConv(channels, num_filters, cutoff)
        self.act = ShiftedSoftplus()
        self.lin = nn.Linear(channels, channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for layer in (self.mlp[0], self.mlp[2], self.lin):
            nn.init.xavier_uniform_(layer.weight)
            layer.bias.data.fill_(0)
        self.conv.reset_parameters()

    def forward(
        self, h: torch.Tensor, edge_index: torch.Tensor, length: torch.Tensor, rbf: torch.Tensor
    ) -> torch.Tensor:
        return self.lin(self.act(self.conv(h, edge_index, length, self.mlp(rbf))))


class SchNet(nn.Module):
    """SchNet molecule encoder: atom types and positions in, one vector per molecule out.

    Args:
        hidden_channels: atom representation width (GraphMVP: the GIN's ``emb_dim``, 300).
        num_filters: filter width (128).
        num_interactions: interaction blocks (6).
        num_gaussians: Gaussian RBFs on ``[0, cutoff]`` (GraphMVP's scripts: 51; PyG's default: 50).
        cutoff: radius of the interaction graph in Å (10).
        readout: ``mean`` (GraphMVP) or ``add`` over each molecule's atoms.
        num_atom_types: embedding rows (119: the featurizer's atom type indices, as GraphMVP embeds them).
    """

    def __init__(
        self,
        hidden_channels: int = 128,
        num_filters: int = 128,
        num_interactions: int = 6,
        num_gaussians: int = 50,
        cutoff: float = 10.0,
        readout: str = "mean",
        num_atom_types: int = 119,
    ) -> None:
        super().__init__()
        if readout not in ("mean", "add"):
            raise ValueError(f"unknown SchNet readout '{readout}' (mean or add)")
        self.hidden_channels, self.cutoff, self.readout = hidden_channels, cutoff, readout
        self.embedding = nn.Embedding(num_atom_types, hidden_channels)
        self.distance_expansion = GaussianSmearing(0.0, cutoff, num_gaussians)
        self.interactions = nn.ModuleList(
            [InteractionBlock(hidden_channels, num_gaussians, num_filters, cutoff) for _ in range(num_interactions)]
        )
        self.lin1 = nn.Linear(hidden_channels, hidden_channels)
        self.act = ShiftedSoftplus()
        self.lin2 = nn.Linear(hidden_channels, hidden_channels)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        self.embedding.reset_parameters()
        for block in self.interactions:
            block.reset_parameters()
        for layer in (self.lin1, self.lin2):
            nn.init.xavier_uniform_(layer.weight)
            layer.bias.data.fill_(0)

    def forward(self, z: torch.Tensor, pos: torch.Tensor, ptr: torch.Tensor) -> torch.Tensor:
        """Molecule representations ``[n_molecules, hidden_channels]``.

        Args:
            z: atom type indices ``[n_atoms]`` (the featurizer's ``x[:, 0]``).
            pos: positions ``[n_atoms, 3]`` in Å.
            ptr: ``[n_molecules + 1]`` offsets of each molecule's first atom.
        """
        pairs, length = radius_graph_per_molecule(pos, ptr, self.cutoff, both_directions=False)
        edge_index = torch.cat([pairs, pairs.flip(0)], dim=1)  # filters are computed per pair (see CFConv)
        rbf = self.distance_expansion(length)
        h = self.embedding(z)
        for block in self.interactions:
            h = h + block(h, edge_index, length, rbf)
        h = self.lin2(self.act(self.lin1(h)))
        ptr = ptr.to(h.device)
        atoms = ptr[1:] - ptr[:-1]
        molecule = torch.repeat_interleave(torch.arange(len(atoms), device=h.device), atoms)
        out = torch.zeros(len(atoms), h.shape[1], dtype=h.dtype, device=h.device).index_add_(0, molecule, h)
        if self.readout == "mean":
            out = out / atoms.clamp(min=1).to(out.dtype).unsqueeze(1)
        return out
