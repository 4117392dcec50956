"""Builder for ``chemprop_mpnn`` checkpoints (ADMET-AI's endpoints after ``workbench import admet-ai``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from rdkit import Chem

from workbench.models.builders.base import Featurized, Predictor, load_module
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

    def featurize_batches(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> Featurized:
        """The forward passes' graph batches (CPU work only)."""
        from workbench.featurizers.chemprop import chemprop_batch

        step = min(batch_size, FORWARD_BATCH)
        batches: list[tuple[object, np.ndarray]] = [
            (chemprop_batch(mols[start : start + step]), np.arange(start, min(start + step, len(mols))))
            for start in range(0, len(mols), step)
        ]
        return Featurized(len(mols), batches, [""] * len(mols))

    def predict_featurized(self, featurized: Featurized) -> tuple[np.ndarray, list[str]]:
        """Predictions for batches made by :meth:`featurize_batches`: ``(n_members, n, n_tasks)``."""
        out = np.full((self.parts[0].n_models, featurized.n, self.n_tasks), np.nan)
        with torch.inference_mode():
            for batch, rows in featurized.batches:
                b = batch.to(self.device)
                preds = [p(b.V, b.E, b.edge_index, b.rev_edge_index, b.batch, b.num_graphs) for p in self.parts]
                out[:, rows] = torch.cat(preds, dim=2).double().cpu().numpy()
        return out, list(featurized.errors)

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
        return self.predict_featurized(self.featurize_batches(mols, batch_size))


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
