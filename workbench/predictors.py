"""Turn a checkpoint into a predictor: featurizer + model(s) + output transform.

Each architecture type named in a card (``architecture.type``) has a builder
registered here. A predictor maps RDKit molecules to an array of shape
``(n_members, n_molecules, n_tasks)`` in task units (probabilities for
classification tasks, original units for regression tasks) plus one error
string per molecule. Network code stays in :mod:`workbench.nn`; featurizers in
:mod:`workbench.featurize`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch
from rdkit import Chem

from workbench.checkpoints import Checkpoint, load_state_dicts
from workbench.featurize import FEATURIZER_VERSION, ecfp_batch
from workbench.nn import FeatureMLP

__all__ = ["Predictor", "TorchEnsemble", "build_predictor", "output_transform", "register_architecture"]


class Predictor(Protocol):
    """What the inference module calls."""

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]: ...


Builder = Callable[[Checkpoint, torch.device], Predictor]
_BUILDERS: dict[str, Builder] = {}


def register_architecture(name: str) -> Callable[[Builder], Builder]:
    """Decorator registering a builder for ``architecture.type == name``."""

    def wrap(fn: Builder) -> Builder:
        _BUILDERS[name] = fn
        return fn

    return wrap


def build_predictor(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """Build the predictor for a checkpoint on ``device``."""
    builder = _BUILDERS.get(checkpoint.architecture)
    if builder is None:
        raise ValueError(
            f"checkpoint '{checkpoint.name}' has architecture '{checkpoint.architecture}', which this workbench "
            f"cannot run (known: {', '.join(sorted(_BUILDERS))})."
        )
    featurizer = checkpoint.card["featurizer"]
    if featurizer["version"].split(".")[0] != FEATURIZER_VERSION.split(".")[0]:
        raise ValueError(
            f"checkpoint '{checkpoint.name}' was trained with featurizer version {featurizer['version']}, "
            f"this workbench has {FEATURIZER_VERSION}; re-train it with: {checkpoint.card['command']}"
        )
    return builder(checkpoint, device)


def output_transform(card: dict) -> Callable[[np.ndarray], np.ndarray]:
    """Map raw network outputs to task units: sigmoid for classification, de-standardize regression."""
    kinds = np.array([t["type"] == "classification" for t in card["tasks"]])
    scaling = card.get("target_scaling")
    mean = np.asarray(scaling["mean"], dtype=np.float64) if scaling else np.zeros(len(kinds))
    std = np.asarray(scaling["std"], dtype=np.float64) if scaling else np.ones(len(kinds))

    def transform(raw: np.ndarray) -> np.ndarray:
        raw = raw.astype(np.float64)
        out = raw * std + mean
        out[..., kinds] = 1.0 / (1.0 + np.exp(-raw[..., kinds]))
        return out

    return transform


@dataclass
class TorchEnsemble:
    """Several torch members sharing one featurizer; featurizer output is a batch input."""

    members: list[torch.nn.Module]
    featurize: Callable[[Sequence[Chem.Mol]], tuple[object, list[str]]]
    to_device: Callable[[object, torch.device], object]
    transform: Callable[[np.ndarray], np.ndarray]
    device: torch.device
    n_tasks: int

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
        out = np.full((len(self.members), len(mols), self.n_tasks), np.nan)
        errors = [""] * len(mols)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda" else nullcontext()
        for start in range(0, len(mols), batch_size):
            chunk = mols[start : start + batch_size]
            inputs, chunk_errors = self.featurize(chunk)
            ok = np.array([not e for e in chunk_errors])
            errors[start : start + len(chunk)] = chunk_errors
            if not ok.any():
                continue
            batch = self.to_device(inputs, self.device)
            with torch.inference_mode(), autocast:
                for m, member in enumerate(self.members):
                    raw = member(batch).float().cpu().numpy()
                    rows = np.flatnonzero(ok) + start
                    out[m, rows] = self.transform(raw)
        return out, errors


def _ecfp_input(params: dict) -> Callable[[Sequence[Chem.Mol]], tuple[object, list[str]]]:
    n_bits, radius, counts = int(params.get("n_bits", 2048)), int(params.get("radius", 2)), bool(params.get("counts"))

    def featurize(mols: Sequence[Chem.Mol]) -> tuple[object, list[str]]:
        fps = ecfp_batch(mols, n_bits=n_bits, radius=radius, counts=counts)
        return torch.from_numpy(fps.astype(np.float32)), [""] * len(mols)

    return featurize


@register_architecture("feature_mlp")
def _build_feature_mlp(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    card = checkpoint.card
    if card["featurizer"]["name"] != "ecfp":
        raise ValueError("feature_mlp checkpoints take the 'ecfp' featurizer")
    members = []
    for state in load_state_dicts(checkpoint.path, card):
        model = FeatureMLP(**card["architecture"]["config"])
        model.load_state_dict(state)
        members.append(model.to(device).eval())
    return TorchEnsemble(
        members=members,
        featurize=_ecfp_input(card["featurizer"]["params"]),
        to_device=lambda x, d: x.to(d),
        transform=output_transform(card),
        device=device,
        n_tasks=len(card["tasks"]),
    )
