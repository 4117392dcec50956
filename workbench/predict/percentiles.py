"""Where a prediction falls among approved drugs (precomputed once per checkpoint, cached on disk)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data import load_approved_drugs
from workbench.predict.inference import LoadedModel, predict

__all__ = ["percentile", "reference_predictions"]

_LOCK = threading.Lock()


def _cache_dir() -> Path:
    return Path(os.environ.get("WORKBENCH_CACHE_DIR", Path.home() / ".cache" / "workbench" / "data")) / "reference"


def reference_predictions(model: LoadedModel) -> pd.DataFrame:
    """Mean predictions of every task over the approved-drug set, cached per weight hashes."""
    digest = "".join(w["sha256"][:8] for w in model.checkpoint.card["weights"])[:32]
    path = _cache_dir() / f"{model.name}-{digest}.parquet"
    with _LOCK:
        if path.exists():
            return pd.read_parquet(path)
        drugs = load_approved_drugs().frame
        out = predict(drugs["smiles"].tolist(), [model])
        columns = [f"{model.name}:{t}" for t in model.tasks]
        table = out.loc[out["error"] == "", columns].reset_index(drop=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        table.to_parquet(path)
        return table


def percentile(value: float, reference: np.ndarray) -> float:
    """Percentage of reference values at or below ``value``."""
    ref = np.asarray(reference, dtype=float)
    ref = ref[np.isfinite(ref)]
    if not np.isfinite(value) or ref.size == 0:
        return float("nan")
    return float(100.0 * np.mean(ref <= value))
