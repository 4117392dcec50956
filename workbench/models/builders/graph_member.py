"""One fine-tuned GIN with one output and its target scaling: the graph member of a user's tabular model.

``workbench train custom --effort thorough`` fine-tunes it (:mod:`workbench.custom.gin_member`); the tabular
builder loads it from a safetensors file that holds the network's weights plus ``target.mean`` / ``target.std``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

__all__ = ["GIN_ARCHITECTURE", "GraphMember"]

#: The network every graph member has (the shipped encoders' shape).
GIN_ARCHITECTURE = {"num_layer": 5, "emb_dim": 300, "jk": "last"}
_SCALE_KEYS = ("target.mean", "target.std")


class GraphMember:
    """A fitted GIN (one target): probabilities (classification) or values in the target's units."""

    def __init__(self, state: dict[str, torch.Tensor], classification: bool, mean: float = 0.0, std: float = 1.0):
        from workbench.nn import GINPredictor

        self.classification = classification
        self.mean, self.std = float(mean), float(std)
        self.model = GINPredictor(1, drop_ratio=0.0, **GIN_ARCHITECTURE)
        self.model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        self.model.eval()

    def predict(self, graphs: Sequence, batch_size: int = 256) -> np.ndarray:
        """Probabilities of class 1 or values for graphs (``None``: no prediction, NaN), float64."""
        from workbench.featurizers.graph_batch import GraphBatch

        out = np.full(len(graphs), np.nan)
        ok = [i for i, g in enumerate(graphs) if g is not None]
        raw = []
        with torch.inference_mode():
            for start in range(0, len(ok), batch_size):
                b = GraphBatch.from_graphs([graphs[i] for i in ok[start : start + batch_size]])
                raw.append(self.model(b.x, b.edge_index, b.edge_attr, b.batch, b.num_graphs)[:, 0].double().numpy())
        if ok:
            values = np.concatenate(raw)
            out[ok] = 1 / (1 + np.exp(-values)) if self.classification else values * self.std + self.mean
        return out

    def tensors(self) -> dict[str, torch.Tensor]:
        """The weights and the target scaling, as one safetensors file holds them."""
        state = {k: v.contiguous() for k, v in self.model.state_dict().items()}
        state[_SCALE_KEYS[0]] = torch.tensor([self.mean], dtype=torch.float64)
        state[_SCALE_KEYS[1]] = torch.tensor([self.std], dtype=torch.float64)
        return state

    @classmethod
    def from_tensors(cls, tensors: dict[str, torch.Tensor], classification: bool) -> GraphMember:
        """A member from :meth:`tensors` (as read back from its safetensors file)."""
        tensors = dict(tensors)
        mean, std = (float(tensors.pop(k)[0]) for k in _SCALE_KEYS)
        return cls(tensors, classification, mean, std)
