"""The AttrMask transform (pretrain-gnns ``MaskAtom``), applied to a whole batch at once.

For each molecule of ``n`` atoms, ``int(n * mask_rate + 1)`` distinct atoms (at least one)
are drawn uniformly; their features become the mask token ``[119, 0]`` (atom type
:data:`~workbench.featurizers.graph.MASK_ATOM_INDEX`, chirality unspecified) and their
original atom type is the label. Bonds are left as they are: pretrain-gnns' AttrMask
recipe runs with ``--mask_edge 0``.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from workbench.featurizers.graph import MASK_ATOM_INDEX

__all__ = ["MaskedAtoms", "mask_atoms", "mask_counts"]


class MaskedAtoms(NamedTuple):
    """The masked node features, the indices of the masked atoms (sorted) and their true atom types."""

    x: torch.Tensor
    indices: torch.Tensor
    labels: torch.Tensor


def mask_counts(atoms: torch.Tensor, mask_rate: float) -> torch.Tensor:
    """Atoms to mask per molecule: ``int(n * mask_rate + 1)`` as in pretrain-gnns, never more than ``n``."""
    counts = torch.floor(atoms.to(torch.float64) * mask_rate + 1).to(torch.long)
    return torch.minimum(counts, atoms)


def mask_atoms(x: torch.Tensor, ptr: torch.Tensor, mask_rate: float, generator: torch.Generator) -> MaskedAtoms:
    """Mask atoms of every molecule of a batch.

    Args:
        x: node features ``[n_atoms, 2]`` (type index, chirality), molecules contiguous.
        ptr: ``[n_molecules + 1]`` offsets of each molecule's first atom.
        mask_rate: fraction of each molecule's atoms to mask (0.15).
        generator: the (CPU) random generator the choice is drawn from.
    """
    atoms = ptr[1:] - ptr[:-1]
    molecule = torch.repeat_interleave(torch.arange(len(atoms)), atoms)
    # one uniform key per atom, offset by its molecule: sorting groups each molecule's atoms in random order
    keys = molecule.to(torch.float64) + torch.rand(len(molecule), generator=generator, dtype=torch.float64)
    order = torch.argsort(keys)
    rank = torch.arange(len(order)) - ptr[molecule[order]]
    chosen = torch.sort(order[rank < mask_counts(atoms, mask_rate)[molecule[order]]]).values
    masked = x.clone()
    masked[chosen, 0] = MASK_ATOM_INDEX
    masked[chosen, 1] = 0
    return MaskedAtoms(masked, chosen, x[chosen, 0].clone())
