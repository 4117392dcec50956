"""QSAR regressors on activity-cliff targets: the public API of :mod:`workbench.cliffs`'s model code.

The models are one table (:data:`~workbench.cliffs.models.QSAR_MODELS`: fingerprint baselines,
SVM-Tanimoto, Consensus, MLP, IFM-MLP, GIN, IFM-GIN) trained by
:func:`~workbench.cliffs.models.fit_predict`; this module scores them on a frame's test split
with RMSE and RMSE_cliff (:func:`evaluate`) and re-exports what the benchmark, the pages and
the notebook use. Implementation: :mod:`~workbench.cliffs.features`,
:mod:`~workbench.cliffs.fingerprint_models`, :mod:`~workbench.cliffs.neural`,
:mod:`~workbench.cliffs.models`, :mod:`~workbench.cliffs.rotation`.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.cliffs.features import Progress, ecfp_features
from workbench.cliffs.fingerprint_models import DEFAULT_PARAMS, TANIMOTO_C_GRID, moleculeace_hyperparameters
from workbench.cliffs.models import (
    CONSENSUS_MEMBERS,
    ENSEMBLE_MODELS,
    FP_MODELS,
    GRAPH_MODELS,
    KERNEL_MODELS,
    MODELS,
    NEURAL_MODELS,
    QSAR_MODELS,
    ModelResult,
    fit_predict,
)
from workbench.cliffs.neural import IFM_GRID, MLP_HIDDEN
from workbench.cliffs.rotation import orthogonal_matrix, rotation_experiment
from workbench.cliffs.rules import rmse, rmse_cliff

__all__ = [
    "CONSENSUS_MEMBERS",
    "DEFAULT_PARAMS",
    "ENSEMBLE_MODELS",
    "FP_MODELS",
    "GRAPH_MODELS",
    "IFM_GRID",
    "KERNEL_MODELS",
    "MLP_HIDDEN",
    "MODELS",
    "NEURAL_MODELS",
    "QSAR_MODELS",
    "TANIMOTO_C_GRID",
    "ModelResult",
    "Progress",
    "assign_split",
    "ecfp_features",
    "evaluate",
    "fit_predict",
    "moleculeace_hyperparameters",
    "orthogonal_matrix",
    "rotation_experiment",
]


def evaluate(
    frame: pd.DataFrame,
    models: Sequence[str],
    *,
    target: str | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    **options: object,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train each model on ``split == "train"`` and score it on ``split == "test"``.

    Args:
        frame: columns ``smiles``, ``y`` (a log potency), ``cliff_mol`` and ``split``.
        options: passed to :func:`fit_predict` (``epochs``, ``ifm_grid``, ``gin_size``).

    Returns:
        (scores, predictions): one row per model with ``rmse``, ``rmse_cliff``, ``seconds`` and
        ``params`` (scored on the test rows); and every row of ``frame`` (train and test) with one
        prediction column per model.
    """
    split = frame["split"].astype(str).str.lower()
    train = frame[split == "train"]
    is_test = (split == "test").to_numpy()
    test = frame[is_test].reset_index(drop=True)
    cliff = test["cliff_mol"].astype(bool).to_numpy()
    rows, preds = [], frame[["smiles", "y", "cliff_mol", "split"]].reset_index(drop=True)
    for k, name in enumerate(models):

        def step(frac: float, msg: str, k: int = k) -> None:
            if progress:
                progress((k + frac) / len(models), msg)

        res = fit_predict(
            name, train["smiles"].tolist(), train["y"].to_numpy(), preds["smiles"].tolist(),
            target=target, seed=seed, progress=step, **options,
        )  # fmt: skip
        preds[name] = res.predictions
        on_test = res.predictions[is_test]
        rows.append(
            {
                "model": name,
                "rmse": rmse(test["y"], on_test),
                "rmse_cliff": rmse_cliff(test["y"], on_test, cliff),
                "n_test": len(test),
                "n_cliff_test": int(cliff.sum()),
                "seconds": round(res.seconds, 1),
                "params": res.params,
            }
        )
    return pd.DataFrame(rows), preds


def assign_split(frame: pd.DataFrame, test_fraction: float = 0.2, seed: int = 0) -> pd.DataFrame:
    """A copy of ``frame`` with a ``split`` column: kept when present, else a seeded random train/test cut."""
    out = frame.copy()
    if "split" in out.columns and set(out["split"].astype(str).str.lower()) <= {"train", "test"}:
        return out
    order = np.random.default_rng(seed).permutation(len(out))
    labels = np.array(["train"] * len(out), dtype=object)
    labels[order[: round(test_fraction * len(out))]] = "test"
    out["split"] = labels
    return out
