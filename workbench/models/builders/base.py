"""What every predictor is: the protocol the inference module calls, the torch ensemble, output transforms.

A predictor maps RDKit molecules to an array of shape ``(n_members, n_molecules, n_tasks)`` in task
units (probabilities for classification tasks, original units for regression tasks) plus one error
string per molecule. Network code stays in :mod:`workbench.nn`; featurizers in :mod:`workbench.featurizers`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass
from itertools import chain
from typing import Protocol

import numpy as np
import torch
from rdkit import Chem

from workbench.models.builders.no_init import skipped_init
from workbench.models.card import ModelCard
from workbench.models.store import Checkpoint, CheckpointError

__all__ = [
    "ATOMS_PER_MOLECULE",
    "Builder",
    "Featurized",
    "Predictor",
    "TorchEnsemble",
    "batch_bounds",
    "load_module",
    "output_transform",
]


class Predictor(Protocol):
    """What the inference module calls.

    A predictor may also split :meth:`predict` in two, ``featurize_batches(mols, batch_size) -> Featurized`` (CPU
    work, picklable output) and ``predict_featurized(featurized) -> (values, errors)`` (the networks, on the
    predictor's device), so that a Ray screen can featurize in CPU tasks and keep GPU actors busy with networks
    only (:func:`workbench.predict.inference.featurize_parsed`); the two together give :meth:`predict`'s values.
    """

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]: ...


@dataclass
class Featurized:
    """A predictor's inputs for ``n`` molecules, made on a CPU and run by ``predict_featurized`` elsewhere.

    ``batches`` holds ``(inputs, rows)`` per network call: the batch (tensors, arrays) and the molecule rows it
    gives predictions for (``inputs`` is None when no row of the batch could be featurized); ``errors`` one per
    molecule.
    """

    n: int
    batches: list[tuple[object, np.ndarray]]
    errors: list[str]


Builder = Callable[[Checkpoint, torch.device], "Predictor"]


#: Byte alignment of torch's CPU allocations (what the weights of a randomly initialised module have).
_ALIGNMENT = 64


def load_module(make: Callable[[], torch.nn.Module], state: Mapping[str, torch.Tensor]) -> torch.nn.Module:
    """``make()`` with the weights of ``state``, in eval mode on the CPU, without a random initialisation.

    The module is built on the meta device (no memory) without running ``torch.nn.init``
    (:func:`~workbench.models.builders.no_init.skipped_init`) and takes the state's tensors (``assign``),
    each cast to the dtype the module declares, as ``load_state_dict`` without ``assign`` would copy it.
    A tensor not aligned as torch allocates (safetensors gives some at odd offsets) is copied once:
    matrix kernels round differently on unaligned data, and outputs must not depend on how weights were
    read. Keys and shapes are checked as usual (strict).

    Raises:
        CheckpointError: the module holds a tensor the state does not give (it would stay empty).
    """
    with torch.device("meta"), skipped_init():  # the initial values would be replaced at once
        module = make()
    declared = {k: v.dtype for k, v in chain(module.named_parameters(), module.named_buffers())}
    tensors = {}
    for key, value in state.items():
        if key in declared and value.dtype != declared[key]:
            value = value.to(declared[key])
        tensors[key] = value.clone() if value.data_ptr() % _ALIGNMENT else value
    module.load_state_dict(tensors, assign=True)
    empty = [k for k, v in chain(module.named_parameters(), module.named_buffers()) if v.is_meta]
    if empty:
        raise CheckpointError(f"the weights give no values for {', '.join(empty)}")
    return module.eval()


def output_transform(card: ModelCard) -> Callable[[np.ndarray], np.ndarray]:
    """Map raw network outputs to task units: sigmoid for classification, de-standardize regression."""
    kinds = np.array([t.is_classification for t in card.tasks])
    scaling = card.target_scaling
    mean = np.asarray(scaling.mean, dtype=np.float64) if scaling else np.zeros(len(kinds))
    std = np.asarray(scaling.std, dtype=np.float64) if scaling else np.ones(len(kinds))

    def transform(raw: np.ndarray) -> np.ndarray:
        raw = raw.astype(np.float64)
        out = raw * std + mean
        out[..., kinds] = 1.0 / (1.0 + np.exp(-raw[..., kinds]))
        return out

    return transform


#: A batch holds at most ``batch_size`` molecules and at most this many atoms per molecule of ``batch_size`` on
#: average: a run of large molecules makes smaller batches, so a network call's memory has a bound.
ATOMS_PER_MOLECULE = 32


def batch_bounds(mols: Sequence[Chem.Mol], batch_size: int) -> list[tuple[int, int]]:
    """``(start, end)`` of consecutive batches: ``batch_size`` molecules, fewer where they are large."""
    budget = batch_size * ATOMS_PER_MOLECULE
    bounds, start, atoms = [], 0, 0
    for i, mol in enumerate(mols):
        size = mol.GetNumAtoms() if mol is not None else 0
        if i > start and (i - start >= batch_size or atoms + size > budget):
            bounds.append((start, i))
            start, atoms = i, 0
        atoms += size
    if start < len(mols):
        bounds.append((start, len(mols)))
    return bounds


class _Inline(Executor):
    """An executor that runs each job at once in the caller's thread (nothing to overlap with one batch)."""

    def submit(self, fn: Callable, /, *args: object, **kwargs: object) -> Future:
        future: Future = Future()
        future.set_result(fn(*args, **kwargs))
        return future


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

    def featurize_batches(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> Featurized:
        """:meth:`predict`'s batches, featurized (CPU work only: no network runs)."""
        errors = [""] * len(mols)
        batches: list[tuple[object, np.ndarray]] = []
        for start, end in batch_bounds(mols, batch_size):
            inputs, chunk_errors = self.featurize(mols[start:end])
            errors[start:end] = chunk_errors
            rows = np.flatnonzero([not e for e in chunk_errors]) + start
            batches.append((inputs if len(rows) else None, rows))
        return Featurized(len(mols), batches, errors)

    def predict_featurized(self, featurized: Featurized) -> tuple[np.ndarray, list[str]]:
        """:meth:`predict`'s output for molecules featurized by :meth:`featurize_batches` (anywhere)."""
        out = np.full((len(self.members), featurized.n, self.n_tasks), np.nan)
        for inputs, rows in featurized.batches:
            if len(rows):
                for m, raw in enumerate(self._forward(inputs)):
                    out[m, rows] = self.transform(raw)
        return out, list(featurized.errors)

    def predict(self, mols: Sequence[Chem.Mol], batch_size: int = 512) -> tuple[np.ndarray, list[str]]:
        out = np.full((len(self.members), len(mols), self.n_tasks), np.nan)
        errors = [""] * len(mols)
        pending: tuple[Future, np.ndarray] | None = None

        def collect(job: tuple[Future, np.ndarray]) -> None:
            future, rows = job
            for m, raw in enumerate(future.result()):
                out[m, rows] = self.transform(raw)

        bounds = batch_bounds(mols, batch_size)
        # one batch (a page predicting one molecule) has nothing to overlap with: no worker thread
        with ThreadPoolExecutor(max_workers=1) if len(bounds) > 1 else _Inline() as pool:
            for start, end in bounds:
                chunk = mols[start:end]
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
