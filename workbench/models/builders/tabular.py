"""Models trained on a user's data (``workbench train custom``): fitted feature sets, then forests, boosters, SVRs
or fine-tuned GINs, alone or as the mean of several components.

A component is one family on one input: a fitted feature set (ECFP4, RDKit 2D descriptors with their stored
normalization, MiniMol, or combinations) or molecular graphs (a GIN, :mod:`graph_member`). Tree and SVR members are
stored and predicted exactly as the fingerprint baselines' (:mod:`baseline`). Every member (component × seed) is
calibrated with the card's Platt parameters (classification), then all are averaged; regression tasks carry a
conformal half-width (:attr:`TabularEnsemble.interval_halfwidth`) that the prediction table turns into
``MODEL:TASK:lo`` / ``:hi`` columns.

Cards written before components existed (one family, ``featurizer.params`` = one feature set, weight files
without ``part``) load as one component.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from rdkit import Chem

from workbench.models.builders.base import Predictor
from workbench.models.builders.baseline import _arrays, _booster
from workbench.models.store import Checkpoint, CheckpointError, read_verified

__all__ = ["GRAPH_INPUT", "SUPPORT_ROLE", "Component", "MLPMember", "TabularEnsemble", "build_tabular"]

#: ``featurizer.params.components[i].feature_set`` of a graph component.
GRAPH_INPUT = "graph"
#: ``role`` of the weight file holding the support vectors an SVM component's tasks share (one per seed).
SUPPORT_ROLE = "support"


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


@dataclass
class Component:
    """One family on one input: its fitted feature set (``None`` for graphs) and its members by (seed, task)."""

    family: str
    features: object | None  # FittedFeatures
    members: dict[tuple[int, int], object] = field(default_factory=dict)

    @property
    def seeds(self) -> list[int]:
        return sorted({s for s, _ in self.members})


class MLPMember:
    """A multi-output MLP on a feature set (a champion of the search), with its target scaling: all tasks at once."""

    def __init__(self, net: torch.nn.Module, mean: np.ndarray, std: np.ndarray, classification: Sequence[bool]):
        self.net, self.mean, self.std = net, mean, std
        self.classification = np.asarray(classification, dtype=bool)

    @classmethod
    def from_bytes(cls, data: bytes, classification: Sequence[bool], name: str) -> MLPMember:
        """Rebuild the network from its stored tensors (``net.*``, ``target_mean``, ``target_std``)."""
        from safetensors import SafetensorError
        from safetensors.torch import load

        from workbench.models.builders.base import load_module
        from workbench.nn import FeatureMLP

        try:
            tensors = load(data)
            state = {k.removeprefix("net."): v for k, v in tensors.items() if k.startswith("net.")}
            linears = sorted(int(k.split(".")[1]) for k in state if k.startswith("body.") and k.endswith(".weight"))
            hidden, in_dim = state["body.0.weight"].shape if linears else (0, state["head.weight"].shape[1])
            n_tasks = state["head.weight"].shape[0]
            if n_tasks != len(classification):
                raise ValueError(f"{n_tasks} outputs for {len(classification)} tasks")
            net = load_module(lambda: FeatureMLP(int(in_dim), int(n_tasks), int(hidden), len(linears), 0.0), state)
            mean, std = tensors["target_mean"].numpy(), tensors["target_std"].numpy()
        except (SafetensorError, RuntimeError, KeyError, ValueError) as exc:
            raise CheckpointError(f"{name} is not a readable MLP member: {exc}") from exc
        return cls(net, mean, std, classification)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Probabilities (classification tasks) or values ``(n, n_tasks)`` for feature rows ``x``."""
        if len(x) == 0:
            return np.empty((0, len(self.classification)))
        with torch.inference_mode():
            rows = torch.from_numpy(np.ascontiguousarray(x, np.float32))
            raw = torch.cat([self.net(rows[s : s + 4096]) for s in range(0, len(rows), 4096)]).double().numpy()
        return np.where(self.classification, 1 / (1 + np.exp(-raw)), raw * self.std + self.mean)


class TabularEnsemble:
    """Per-component, per-seed, per-task models, calibrated; outputs in task units."""

    #: ``predict`` takes ``calibrated`` (its Platt parameters live in the architecture, not a card calibration block).
    calibrates_itself = True

    def __init__(self, checkpoint: Checkpoint) -> None:
        from workbench.featurizers.feature_sets import FittedFeatures

        card = checkpoint.card
        config = card.architecture.config
        self.n_tasks = len(card.tasks)
        self.classification = [t.is_classification for t in card.tasks]
        specs = config.get("components") or [{"family": config.get("family"), "params": config.get("params", {})}]
        inputs = card.featurizer.params.get("components") or [card.featurizer.params]
        if len(inputs) != len(specs):
            raise CheckpointError(f"{checkpoint.path}: {len(specs)} components but {len(inputs)} feature sets")
        self.components: list[Component] = []
        for spec, params in zip(specs, inputs, strict=True):
            try:
                fitted = None if params.get("feature_set") == GRAPH_INPUT else FittedFeatures.from_params(params)
            except (ValueError, KeyError, TypeError) as exc:
                raise CheckpointError(f"{checkpoint.path}: its feature set cannot be rebuilt ({exc})") from exc
            self.components.append(Component(str(spec["family"]), fitted))
        shared = self._shared_support(checkpoint)
        for entry in card.weights:  # each file read once: the bytes hashed are the bytes loaded
            if entry.role == SUPPORT_ROLE:
                continue
            index = self._component_index(entry)
            component = self.components[index]
            path = checkpoint.path / entry.file
            data = read_verified(path, entry.sha256)
            key = (int(entry.seed), int(entry.task))
            if component.family == "gin":
                component.members[key] = self._graph_member(data, self.classification[key[1]], str(path))
            elif component.family == "mlp":  # one multi-output network per seed (stored under task 0)
                component.members[key] = MLPMember.from_bytes(data, self.classification, str(path))
            elif entry.format == "xgboost-json":
                component.members[key] = _booster(gzip.decompress(data) if path.suffix == ".gz" else data, str(path))
            elif entry.format == "safetensors":
                component.members[key] = _arrays(data, component.family, str(path), shared.get((index, key[0])))
            else:
                raise CheckpointError(f"{entry.file}: {entry.format} is not a format of a user's model")
        self.seeds = list(card.seeds)
        # tasks without both classes in training (a champion on a scaffold split): their training rate, no model
        self.constant = {int(t): float(v) for t, v in (config.get("constant_tasks") or {}).items()}
        self.calibration = [tuple(c) if c else None for c in config.get("calibration") or [None] * self.n_tasks]
        conformal = config.get("conformal") or {}
        widths = conformal.get("halfwidth")
        self.interval_halfwidth = np.asarray(widths, dtype=np.float64) if widths else None
        self.interval_coverage = conformal.get("coverage")

    def _component_index(self, entry) -> int:
        index = int(entry.part.removeprefix("component")) if entry.part else 0
        if not 0 <= index < len(self.components):
            raise CheckpointError(f"{entry.file}: part {entry.part!r} names no component")
        return index

    def _shared_support(self, checkpoint: Checkpoint) -> dict[tuple[int, int], np.ndarray]:
        """The support vectors an SVM component's tasks share, by (component, seed)."""
        from safetensors import SafetensorError
        from safetensors.numpy import load

        out = {}
        for entry in checkpoint.card.weights:
            if entry.role != SUPPORT_ROLE:
                continue
            path, key = checkpoint.path / entry.file, (self._component_index(entry), int(entry.seed))
            try:
                out[key] = load(read_verified(path, entry.sha256))["support"]
            except (SafetensorError, ValueError, KeyError, TypeError) as exc:
                raise CheckpointError(f"{path} is not a readable matrix of shared support vectors: {exc}") from exc
        return out

    @staticmethod
    def _graph_member(data: bytes, classification: bool, name: str):
        from safetensors import SafetensorError
        from safetensors.torch import load

        from workbench.models.builders.graph_member import GraphMember

        try:
            return GraphMember.from_tensors(load(data), classification)
        except (SafetensorError, RuntimeError, KeyError, ValueError) as exc:
            raise CheckpointError(f"{name} is not a readable GIN member: {exc}") from exc

    @property
    def features(self):
        """The first component's fitted feature set (``None`` for a graph component)."""
        return self.components[0].features

    def morgan_part(self, component: int = 0) -> tuple[int, int] | None:
        """``(n_bits, radius)`` of a component's leading Morgan fingerprint (bits or counts), else ``None``."""
        features = self.components[component].features
        spec = features.params.get("fingerprint") if features is not None else None
        if not spec or spec.get("kind") != "morgan":
            return None
        return int(spec["n_bits"]), int(spec["radius"])

    def predict(
        self, mols: Sequence[Chem.Mol], batch_size: int = 512, *, calibrated: bool = True
    ) -> tuple[np.ndarray, list[str]]:
        """Predictions ``(n_members, n, n_tasks)`` (calibrated unless ``calibrated=False``), one error per molecule."""
        from workbench.featurizers.feature_sets import EMBEDDING_FAILED

        outs, failed = [], np.zeros(len(mols), dtype=bool)
        errors, unencoded = [""] * len(mols), [""] * len(mols)
        for c, component in enumerate(self.components):
            if component.features is None:
                from workbench.featurizers import mols_to_graphs

                graphs, graph_errors = mols_to_graphs(list(mols))
                unencoded = [old or new for old, new in zip(unencoded, graph_errors, strict=True)]
                outs.append(self.predict_component(c, graphs, calibrated=calibrated))
                continue
            x, notes = component.features.transform(mols)
            outs.append(self.predict_component(c, x, calibrated=calibrated))
            for i, note in enumerate(notes):
                if note.startswith(EMBEDDING_FAILED):  # no prediction from a zero embedding
                    failed[i], errors[i] = True, note
        out = np.concatenate(outs)
        out[:, failed, :] = np.nan
        for i in np.flatnonzero(~np.isfinite(out).any(axis=(0, 2))):  # no member could predict it: say why
            errors[i] = errors[i] or unencoded[i] or "no member of the model could encode the molecule"
        return out, errors

    def predict_component(self, component: int, x, *, calibrated: bool = True) -> np.ndarray:
        """Predictions ``(n_seeds, n, n_tasks)`` of one component for its input rows ``x`` (feature rows, or graphs
        for a GIN component; used by occlusion), calibrated unless ``calibrated=False``."""
        comp = self.components[component]
        seeds = comp.seeds
        out = np.full((len(seeds), len(x), self.n_tasks), np.nan)
        for s, seed in enumerate(seeds):
            if comp.family == "mlp":
                out[s] = comp.members[(seed, 0)](x)
                continue
            for t in range(self.n_tasks):
                if t in self.constant:
                    out[s, :, t] = self.constant[t]
                    continue
                member = comp.members[(seed, t)]
                out[s, :, t] = member.predict(x) if comp.family == "gin" else member(x)
        for t, platt in enumerate(self.calibration):
            if platt is not None and calibrated:
                a, b = platt
                out[:, :, t] = 1 / (1 + np.exp(-(a * _logit(out[:, :, t]) + b)))
        return out

    def predict_features(self, x: np.ndarray) -> np.ndarray:
        """The first component's calibrated predictions for its feature rows ``x``."""
        return self.predict_component(0, x)


def build_tabular(checkpoint: Checkpoint, device: torch.device) -> Predictor:
    """A user's tabular model (CPU whatever ``device`` is)."""
    return TabularEnsemble(checkpoint)
