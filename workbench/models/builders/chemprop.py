"""Builder for ``chemprop_mpnn`` checkpoints (ADMET-AI's endpoints after ``workbench import admet-ai``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from rdkit import Chem

from workbench.models.builders.base import Predictor, load_module
from workbench.models.store import Checkpoint, CheckpointError, load_state_dicts

if TYPE_CHECKING:
    from workbench.nn.chemprop import ChempropMPNN

__all__ = ["ARCHITECTURE", "ChempropPredictor", "build_chemprop_mpnn"]

ARCHITECTURE = "chemprop_mpnn"
#: Molecules per forward pass: on CPU 128 is about as fast as 256 and faster than 64 or 512 (fewer distinct
#: states to share vs. cache size), with a flat memory peak; the caller's ``batch_size`` only lowers it.
FORWARD_BATCH = 128


class ChempropPredictor:
    """Stacked Chemprop ensembles sharing one featurized batch; outputs concatenated along tasks."""

    def __init__(self, parts: Sequence[ChempropMPNN], device: torch.device) -> None:
        self.parts = list(parts)
        self.device = device
        self.n_tasks = sum(p.n_tasks for p in self.parts)

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
        n_members = self.parts[0].n_models
        out = np.full((n_members, len(mols), self.n_tasks), np.nan)
        from workbench.featurizers.chemprop import chemprop_batch

        step = min(batch_size, FORWARD_BATCH)
        with torch.inference_mode():
            for start in range(0, len(mols), step):
                chunk = mols[start : start + step]
                b = chemprop_batch(chunk).to(self.device)
                preds = [p(b.V, b.E, b.edge_index, b.rev_edge_index, b.batch, b.num_graphs) for p in self.parts]
                out[:, start : start + len(chunk)] = torch.cat(preds, dim=2).double().cpu().numpy()
        return out, [""] * len(mols)


def build_chemprop_mpnn(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """Predictor for a ``chemprop_mpnn`` card (one stacked ensemble per part, same member count)."""
    from workbench.featurizers.chemprop import CHEMPROP_FEATURIZER
    from workbench.nn.chemprop import ChempropMPNN

    card = checkpoint.card
    if card.featurizer.name != CHEMPROP_FEATURIZER:
        raise ValueError(f"chemprop_mpnn checkpoints take the '{CHEMPROP_FEATURIZER}' featurizer")
    states = dict(zip((w.file for w in card.weights), load_state_dicts(checkpoint.path, card), strict=True))
    parts = []
    for part in card.architecture.config["parts"]:
        config = part["config"]
        parts.append(load_module(lambda config=config: ChempropMPNN(**config), states[part["file"]]).to(device))
    if len({p.n_models for p in parts}) != 1:
        raise CheckpointError(f"{checkpoint.name}: parts have different ensemble sizes")
    if sum(p.n_tasks for p in parts) != len(card.tasks):
        raise CheckpointError(f"{checkpoint.name}: parts give a different number of outputs than the card's tasks")
    return ChempropPredictor(parts, device)
