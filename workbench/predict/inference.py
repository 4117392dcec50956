"""THE shared inference module: device choice, model registry and cache, batched prediction.

Pages, the CLI, notebooks and benchmarks all predict through :func:`predict`.
Checkpoints are loaded once per process on the CPU, moved to the device here,
and shared between threads (Streamlit sessions).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from workbench import chem
from workbench.models import Checkpoint, find_checkpoints
from workbench.models.builders import Predictor, build_predictor, can_predict
from workbench.predict.calibration import calibrate_predictions, interval_halfwidths, raw_mean_std

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "LoadedModel",
    "clear_cache",
    "featurize_parsed",
    "featurizes_apart",
    "get_device",
    "get_precision",
    "list_models",
    "load_model",
    "predict",
    "predict_parsed",
    "prediction_columns",
]

_LOCK = threading.Lock()
_MODELS: dict[tuple[str, str, str], LoadedModel] = {}
#: One lock per model being built: two threads (a page and the app's warm-up) build different models at
#: once, and a thread asking for a model another is building waits for it instead of building it again.
_BUILDING: dict[tuple[str, str, str], threading.Lock] = {}
CHUNK = 1024
#: Molecules per network call: 256 keeps a GIN's peak memory ~230 MB below 512's for ~4 % less speed.
DEFAULT_BATCH_SIZE = 256


def get_device(preferred: str | None = None) -> torch.device:
    """``preferred`` or ``WORKBENCH_DEVICE`` when set, else CUDA when available, else CPU."""
    choice = preferred or os.environ.get("WORKBENCH_DEVICE")
    if choice:
        device = torch.device(choice)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"device '{choice}' was requested but CUDA is not available here")
        return device
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint with its predictor, ready on a device."""

    checkpoint: Checkpoint
    predictor: Predictor
    device: torch.device

    @property
    def name(self) -> str:
        return self.checkpoint.name

    @property
    def tasks(self) -> list[str]:
        return self.checkpoint.tasks


def list_models() -> list[Checkpoint]:
    """Every valid checkpoint in the registry folders (see :func:`workbench.models.models_dirs`)."""
    return find_checkpoints()[0]


def _resolve(name: str) -> Checkpoint:
    found = {c.name: c for c in list_models()}
    if name not in found:
        known = ", ".join(sorted(found)) or "none"
        raise KeyError(f"no checkpoint named '{name}' (registered: {known})")
    return found[name]


PRECISIONS = {"fp32": torch.float32, "bf16": torch.bfloat16}


def get_precision(preferred: str | None = None) -> str:
    """``preferred`` or ``WORKBENCH_PRECISION`` when set, else ``fp32``."""
    choice = (preferred or os.environ.get("WORKBENCH_PRECISION") or "fp32").lower()
    if choice not in PRECISIONS:
        raise ValueError(f"unknown precision '{choice}' (choose from {', '.join(PRECISIONS)})")
    return choice


def load_model(
    name: str | Checkpoint, device: str | torch.device | None = None, precision: str | None = None
) -> LoadedModel:
    """Load a checkpoint once per process, device and precision; later calls return the same object.

    ``precision`` (``fp32`` default, or ``bf16``; see :func:`get_precision`) applies to
    torch ensembles; fingerprint baselines and external models run as they are.
    """
    dev = torch.device(device) if isinstance(device, torch.device) else get_device(device)
    prec = get_precision(precision)
    checkpoint = name if isinstance(name, Checkpoint) else _resolve(name)
    key = (str(checkpoint.path.resolve()), str(dev), prec)
    cached = _MODELS.get(key)
    if cached is not None:
        return cached
    with _LOCK:
        building = _BUILDING.setdefault(key, threading.Lock())
    with building:
        cached = _MODELS.get(key)
        if cached is None:
            predictor = build_predictor(checkpoint, dev)
            if prec != "fp32" and hasattr(predictor, "to_precision"):
                predictor.to_precision(PRECISIONS[prec])
            cached = LoadedModel(checkpoint, predictor, dev)
            with _LOCK:
                _MODELS[key] = cached
    return cached


def clear_cache() -> None:
    """Forget every loaded model (tests, or after re-training)."""
    with _LOCK:
        _MODELS.clear()


def prediction_columns(model: str, task: str) -> tuple[str, str]:
    """Names of the mean and ensemble-std columns of one model's task."""
    return f"{model}:{task}", f"{model}:{task}:std"


def featurizes_apart(model: LoadedModel) -> bool:
    """Whether the model's predictor splits featurization (CPU) from its networks (see ``featurize_parsed``)."""
    predictor = model.predictor
    return callable(getattr(predictor, "featurize_batches", None)) and callable(
        getattr(predictor, "predict_featurized", None)
    )


def _valid_rows(parsed: pd.DataFrame) -> list[int]:
    mols = parsed.attrs.get("mols")
    if mols is None:
        raise ValueError("the frame has no parsed molecules; build it with workbench.chem.parse")
    errors = parsed["error"].astype(str).tolist()
    return [i for i, m in enumerate(mols) if m is not None and not errors[i]]


def featurize_parsed(
    parsed: pd.DataFrame, models: Sequence[LoadedModel], *, batch_size: int = DEFAULT_BATCH_SIZE
) -> dict[str, object]:
    """The CPU half of :func:`predict_parsed`: each model's featurized inputs for the frame's valid molecules.

    Only models that :func:`featurizes_apart` get an entry (the others featurize inside :func:`predict_parsed`).
    The result is picklable and may be made in another process (a Ray screen's CPU stage) than the one that passes
    it to ``predict_parsed(..., featurized=...)``, whose output it does not change.
    """
    mols = parsed.attrs.get("mols")
    valid = _valid_rows(parsed)
    return {
        m.name: m.predictor.featurize_batches([mols[i] for i in valid], batch_size=batch_size)
        for m in models
        if featurizes_apart(m)
    }


def predict_parsed(
    parsed: pd.DataFrame,
    models: Sequence[str | Checkpoint | LoadedModel],
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = False,
    callback: Callable[[int, int], None] | None = None,
    calibrated: bool = True,
    featurized: Mapping[str, object] | None = None,
) -> pd.DataFrame:
    """Predict for molecules already parsed by :func:`workbench.chem.parse`.

    ``calibrated`` (default) applies a card's calibration (``workbench models calibrate``): calibrated
    probabilities, and conformal intervals for regression tasks; ``False`` gives the raw ensemble means.
    ``featurized``: :func:`featurize_parsed`'s inputs for this frame (then those models run their networks only).

    Returns:
        The parsed frame plus, per model and task, the ensemble mean and std
        columns (:func:`prediction_columns`), and for models with conformal intervals (a calibrated card, or a
        model trained on a user's data) ``MODEL:TASK:lo`` and ``MODEL:TASK:hi``; rows that failed keep NaN and say
        why in ``error``, and ``warnings`` (from the parse) names what
        standardization changed in a row.
    """
    loaded = [m if isinstance(m, LoadedModel) else load_model(m) for m in models]
    valid = _valid_rows(parsed)
    mols = parsed.attrs["mols"]
    featurized = featurized or {}
    out = parsed.copy()
    out.attrs = {}
    errors = out["error"].astype(str).tolist()
    total = len(valid) * len(loaded)
    done = 0
    bar = tqdm(total=total, unit="mol", desc="predicting", disable=not progress)
    new_columns: dict[str, np.ndarray] = {}
    for model in loaded:
        n_tasks = len(model.tasks)
        # a user's model applies its own Platt parameters: tell it whether to
        own = {"calibrated": calibrated} if getattr(model.predictor, "calibrates_itself", False) else {}
        mean = np.full((len(mols), n_tasks), np.nan)
        std = np.full((len(mols), n_tasks), np.nan)
        inputs = featurized.get(model.name)
        spans = [valid] if inputs is not None else [valid[s : s + CHUNK] for s in range(0, len(valid), CHUNK)]
        for rows in filter(None, spans):
            if inputs is not None:
                n = getattr(inputs, "n", None)
                if n is not None and n != len(rows):
                    raise ValueError(f"{model.name}: featurized inputs for {n} molecules, not {len(rows)}")
                values, row_errors = model.predictor.predict_featurized(inputs)
            else:
                values, row_errors = model.predictor.predict([mols[i] for i in rows], batch_size=batch_size, **own)
            if calibrated:  # members without a prediction (NaN) are left out of the mean
                mean[rows], std[rows] = calibrate_predictions(model.checkpoint.card, values)
            else:
                mean[rows], std[rows] = raw_mean_std(values)
            for i, err in zip(rows, row_errors, strict=True):
                if err:
                    errors[i] = "; ".join(filter(None, [errors[i], f"{model.name}: {err}"]))
            done += len(rows)
            bar.update(len(rows))
            if callback is not None:
                callback(done, total)
        halfwidth = getattr(model.predictor, "interval_halfwidth", None) if calibrated else None  # user models
        if halfwidth is None and calibrated:
            halfwidth = interval_halfwidths(model.checkpoint.card)  # a calibrated shipped checkpoint
        for t, task in enumerate(model.tasks):
            mean_col, std_col = prediction_columns(model.name, task)
            new_columns[mean_col] = mean[:, t]
            new_columns[std_col] = std[:, t]
            if halfwidth is not None and np.isfinite(halfwidth[t]):
                new_columns[f"{mean_col}:lo"] = mean[:, t] - halfwidth[t]
                new_columns[f"{mean_col}:hi"] = mean[:, t] + halfwidth[t]
    bar.close()
    out["error"] = errors
    return pd.concat([out, pd.DataFrame(new_columns, index=out.index)], axis=1)


def predict(
    smiles: Sequence[str | None],
    models: Sequence[str | Checkpoint | LoadedModel] | None = None,
    *,
    batch_size: int = DEFAULT_BATCH_SIZE,
    progress: bool = False,
    callback: Callable[[int, int], None] | None = None,
    max_heavy_atoms: int = chem.DEFAULT_MAX_HEAVY_ATOMS,
    calibrated: bool = True,
) -> pd.DataFrame:
    """Predict every task of the given models (default: every registered property predictor) for a batch.

    One row per input, in order, with ``input``, ``smiles``, ``error``, ``warnings``
    (what standardization changed, e.g. a removed counter-ion) and the prediction
    columns; bad inputs never abort the batch. ``calibrated``: see :func:`predict_parsed`.
    """
    chosen = list(models) if models is not None else [c for c in list_models() if can_predict(c)]
    parsed = chem.parse(smiles, max_heavy_atoms=max_heavy_atoms, inchikey=False).drop(columns=["inchikey"])
    return predict_parsed(
        parsed, chosen, batch_size=batch_size, progress=progress, callback=callback, calibrated=calibrated
    )
