"""Cliff data sets for the app, and QSAR models trained live on them (Activity-cliffs page)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from workbench.cliffs import qsar
from workbench.cliffs.potency import moleculeace_y
from workbench.cliffs.rules import CliffResult
from workbench.data.moleculeace import POTENCY_COLUMN, load_moleculeace

__all__ = ["LIVE_MODELS", "PREDICTION_META", "moleculeace_input", "pair_predictions", "train_live"]

#: Models the page offers for live training.
LIVE_MODELS = qsar.FP_MODELS + qsar.KERNEL_MODELS + qsar.ENSEMBLE_MODELS + qsar.NEURAL_MODELS
#: Columns of a prediction table that are not model predictions.
PREDICTION_META = ("smiles", "y", "cliff_mol", "split")
#: The IFM setting used for IFM-MLP when trained live (σ, d).
LIVE_IFM = ((8.0, 4),)


def moleculeace_input(target: str) -> tuple[pd.DataFrame, np.ndarray]:
    """A MoleculeACE target as ``smiles, potency (nM), split`` and its ``cliff_mol`` labels (bool)."""
    raw = load_moleculeace(target).frame
    frame = pd.DataFrame({"smiles": raw["smiles"], "potency": raw[POTENCY_COLUMN], "split": raw["split"]})
    return frame, raw["cliff_mol"].astype(bool).to_numpy()


def train_live(
    frame: pd.DataFrame,
    result: CliffResult,
    unit: str,
    models: Sequence[str],
    *,
    target: str | None = None,
    epochs: int = 60,
    progress: Callable[[float, str], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train ``models`` on the rows the cliff analysis used and score them on the test split.

    The split is the frame's own (MoleculeACE's) or a seeded random 80/20 one (:func:`qsar.assign_split`);
    the target is MoleculeACE's ``y`` (pActivity − 9) and RMSE_cliff uses ``result.cliff_mol``.

    Returns:
        (scores, predictions): one row per model (``rmse``, ``rmse_cliff``, ``n_test``, ``n_cliff_test``,
        ``seconds``); and one row per row of ``frame`` (NaN where it was left out) with ``smiles, y,
        cliff_mol, split`` and one column per model (predicted ``y``).
    """
    used = np.array([e == "" for e in result.errors], dtype=bool)
    if len(used) != len(frame):
        raise ValueError(f"the cliff result covers {len(used)} rows but the frame has {len(frame)}")
    data = qsar.assign_split(frame, seed=0)
    data["y"] = moleculeace_y(data["potency"], unit)
    data["cliff_mol"] = result.cliff_mol
    data = data[used].reset_index(drop=True)
    scores, preds = qsar.evaluate(
        data, list(models), target=target, epochs=int(epochs), ifm_grid=LIVE_IFM, progress=progress
    )
    full = pd.DataFrame(index=range(len(frame)), columns=preds.columns)
    full.loc[np.flatnonzero(used)] = preds.to_numpy()
    return scores.drop(columns=["params"]), full


def pair_predictions(predictions: pd.DataFrame, row: int) -> tuple[pd.DataFrame, str]:
    """One molecule's live predictions: ``model, predicted pActivity, error`` and its split."""
    p = predictions.iloc[row]
    models = [c for c in predictions.columns if c not in PREDICTION_META]
    table = pd.DataFrame(
        {
            "model": models,
            "predicted pActivity": [p[m] + 9 for m in models],
            "error": [p[m] - p["y"] for m in models],
        }
    )
    return table, str(p["split"])
