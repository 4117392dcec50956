"""Turn a checkpoint into a predictor: featurizer + model(s) + output transform.

Each architecture type named in a card (``architecture.type``) has a builder
registered here. A predictor maps RDKit molecules to an array of shape
``(n_members, n_molecules, n_tasks)`` in task units (probabilities for
classification tasks, original units for regression tasks) plus one error
string per molecule. Network code stays in :mod:`workbench.nn`; featurizers in
:mod:`workbench.featurize`.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import skops.io as sio
import torch
import xgboost as xgb
from rdkit import Chem
from torch_geometric.data import Batch

from workbench.checkpoints import Checkpoint, CheckpointError, load_state_dicts, verify_weights
from workbench.featurize import FEATURIZER_VERSION, ecfp_batch, mols_to_graphs
from workbench.nn import FeatureMLP, GINPredictor

__all__ = ["Predictor", "TorchEnsemble", "build_predictor", "can_predict", "output_transform", "register_architecture"]


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


def can_predict(checkpoint: Checkpoint) -> bool:
    """Whether a predictor builder exists for the checkpoint's architecture (retrieval models have none)."""
    return checkpoint.architecture in _BUILDERS


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
    """Several torch members sharing one featurizer; featurizer output is a batch input.

    On CPU the next batch is featurized (Python / RDKit, holding the GIL) while a worker
    thread runs the members on the current one (torch releases the GIL), so the two
    overlap on a multi-core machine.
    """

    members: list[torch.nn.Module]
    featurize: Callable[[Sequence[Chem.Mol]], tuple[object, list[str]]]
    to_device: Callable[[object, torch.device], object]
    transform: Callable[[np.ndarray], np.ndarray]
    device: torch.device
    n_tasks: int
    dtype: torch.dtype = torch.float32

    def to_precision(self, dtype: torch.dtype) -> None:
        """Run the members in ``dtype`` (``torch.bfloat16`` trades ~1e-2 in outputs for speed on CPU)."""
        self.members = [m.to(dtype) for m in self.members]
        self.dtype = dtype

    def _forward(self, inputs: object) -> list[np.ndarray]:
        batch = self.to_device(inputs, self.device)
        if isinstance(batch, torch.Tensor) and batch.is_floating_point():
            batch = batch.to(self.dtype)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16) if self.device.type == "cuda" else nullcontext()
        with torch.inference_mode(), autocast:
            return [member(batch).float().cpu().numpy() for member in self.members]

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
        out = np.full((len(self.members), len(mols), self.n_tasks), np.nan)
        errors = [""] * len(mols)
        pending: tuple[Future, np.ndarray] | None = None

        def collect(job: tuple[Future, np.ndarray]) -> None:
            future, rows = job
            for m, raw in enumerate(future.result()):
                out[m, rows] = self.transform(raw)

        with ThreadPoolExecutor(max_workers=1) as pool:
            for start in range(0, len(mols), batch_size):
                chunk = mols[start : start + batch_size]
                inputs, chunk_errors = self.featurize(chunk)  # overlaps the forward of the previous chunk
                errors[start : start + len(chunk)] = chunk_errors
                if pending is not None:
                    collect(pending)
                    pending = None
                ok = np.array([not e for e in chunk_errors])
                if ok.any():
                    pending = (pool.submit(self._forward, inputs), np.flatnonzero(ok) + start)
            if pending is not None:
                collect(pending)
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


def _graph_input(mols: Sequence[Chem.Mol]) -> tuple[object, list[str]]:
    graphs, errors = mols_to_graphs(mols)
    ok = [g for g in graphs if g is not None]
    return (Batch.from_data_list(ok) if ok else None), errors


class _GraphMember(torch.nn.Module):
    """Adapts a GINPredictor to take a PyG batch."""

    def __init__(self, model: GINPredictor) -> None:
        super().__init__()
        self.model = model

    def forward(self, batch: Batch) -> torch.Tensor:
        return self.model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)


@register_architecture("gin")
def _build_gin(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    card = checkpoint.card
    config = {k: v for k, v in card["architecture"]["config"].items() if k != "weights_dtype"}
    members = []
    for state in load_state_dicts(checkpoint.path, card):
        model = GINPredictor(**config)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        members.append(_GraphMember(model).to(device).eval())
    return TorchEnsemble(
        members=members,
        featurize=_graph_input,
        to_device=lambda batch, d: batch.to(d),
        transform=output_transform(card),
        device=device,
        n_tasks=len(card["tasks"]),
    )


#: Types a skops file may contain beyond skops' defaults; anything else is refused.
SKOPS_ALLOWED = {"sklearn.tree._tree.Tree"}


class BaselineEnsemble:
    """Per-task, per-seed fingerprint models; outputs are already in task units."""

    def __init__(self, checkpoint: Checkpoint) -> None:
        card = checkpoint.card
        verify_weights(checkpoint.path, card)
        params = card["featurizer"]["params"]
        self.n_bits, self.radius = int(params.get("n_bits", 2048)), int(params.get("radius", 2))
        self.n_tasks = len(card["tasks"])
        self.classification = [t["type"] == "classification" for t in card["tasks"]]
        self.constant = {int(k): float(v) for k, v in card["architecture"]["config"].get("constant_tasks", {}).items()}
        self.seeds = list(card["seeds"])
        self.models: dict[tuple[int, int], object] = {}
        for entry in card["weights"]:
            path = checkpoint.path / entry["file"]
            key = (int(entry["seed"]), int(entry["task"]))
            if entry["format"] == "xgboost-json":
                booster = xgb.Booster()
                data = path.read_bytes()
                booster.load_model(bytearray(gzip.decompress(data) if path.suffix == ".gz" else data))
                self.models[key] = booster
            elif entry["format"] == "skops":
                untrusted = set(sio.get_untrusted_types(file=path))
                if untrusted - SKOPS_ALLOWED:
                    raise CheckpointError(f"{path} contains types that are not allowed: {sorted(untrusted)}")
                self.models[key] = sio.load(path, trusted=sorted(untrusted))
            else:
                raise CheckpointError(f"{entry['file']}: {entry['format']} is not a baseline format")

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
        x = ecfp_batch(mols, n_bits=self.n_bits, radius=self.radius).astype(np.float32)
        return self.predict_fingerprints(x), [""] * len(mols)

    def predict_fingerprints(self, x: np.ndarray) -> np.ndarray:
        """Predictions ``(n_members, n, n_tasks)`` for fingerprint rows ``x`` (used by occlusion)."""
        out = np.full((len(self.seeds), len(x), self.n_tasks), np.nan)
        for s, seed in enumerate(self.seeds):
            for t in range(self.n_tasks):
                if t in self.constant:
                    out[s, :, t] = self.constant[t]
                    continue
                model = self.models[(seed, t)]
                if isinstance(model, xgb.Booster):
                    out[s, :, t] = model.predict(xgb.DMatrix(x))
                elif self.classification[t]:
                    out[s, :, t] = model.predict_proba(x)[:, 1]
                else:
                    out[s, :, t] = model.predict(x)
        return out


for _kind in ("rf", "xgboost", "svr"):
    register_architecture(_kind)(lambda checkpoint, device: BaselineEnsemble(checkpoint))

import workbench.external  # noqa: E402, F401  (registers the ADMET-AI and MiniMol builders)
