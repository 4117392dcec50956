"""AttrMask (Hu et al. 2020, pretrain-gnns ``pretrain_masking.py``): predict the type of masked atoms.

Recipe, as in the reference: 15 % of each molecule's atoms (at least one) replaced by the mask
token, bonds untouched (``--mask_edge 0``), a 5-layer GIN of width 300 with JK ``last`` and no
dropout, a linear head to the 119 atom types, cross-entropy (float64), Adam at 1e-3 without
weight decay, batches of 256. The reference uses one Adam per module (GIN, head); with the same
hyper-parameters that is the same update as one Adam over both, which is what runs here.
"""

from __future__ import annotations

import torch

from workbench.nn.masked_atoms import MaskedAtomModel, masked_atom_accuracy, masked_atom_loss
from workbench.train.pretrain.config import PretrainConfig
from workbench.train.pretrain.corpus_loader import GraphBatch
from workbench.train.pretrain.masking import mask_atoms

__all__ = ["AttrMask"]


class AttrMask:
    """The AttrMask method: how to build its model and compute one step's loss."""

    name = "attrmask"
    task = "masked_atom_type"
    title = "AttrMask (Hu et al. 2020: masked atom-type prediction)"
    metrics = ("accuracy", "masked_atoms")

    def build(self, cfg: PretrainConfig) -> MaskedAtomModel:
        return MaskedAtomModel(cfg.num_layer, cfg.emb_dim, cfg.drop_ratio, cfg.jk)

    def recipe(self, cfg: PretrainConfig) -> dict[str, object]:
        return {
            "reference": "snap-stanford/pretrain-gnns chem/pretrain_masking.py (Hu et al. 2020)",
            "mask_rate": cfg.mask_rate,
            "masked_atoms_per_molecule": "int(n_atoms * mask_rate + 1)",
            "mask_token": [119, 0],
            "mask_edge": False,
            "head": "linear, node representation -> 119 atom types",
            "loss": "cross-entropy over masked atoms (float64)",
        }

    def step(
        self, model: MaskedAtomModel, batch: GraphBatch, generator: torch.Generator, cfg: PretrainConfig
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Mask ``batch`` (on the CPU, from ``generator``), run the model and return the loss and metrics."""
        masked = mask_atoms(batch.x, batch.ptr, cfg.mask_rate, generator)
        device = next(model.parameters()).device
        logits = model(
            masked.x.to(device), batch.edge_index.to(device), batch.edge_attr.to(device), masked.indices.to(device)
        )
        labels = masked.labels.to(device)
        loss = masked_atom_loss(logits, labels)
        return loss, {"accuracy": float(masked_atom_accuracy(logits, labels)), "masked_atoms": len(labels)}
