"""Xia et al.'s rotation diagnostic: models trained on features as they are and after a random rotation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from workbench.cliffs.features import Progress
from workbench.cliffs.fingerprint_models import FP_MODELS, fit_predict_fingerprint, moleculeace_hyperparameters
from workbench.cliffs.neural import mlp_fit_predict
from workbench.cliffs.rules import rmse

__all__ = ["orthogonal_matrix", "rotation_experiment"]


def orthogonal_matrix(n: int, seed: int = 0) -> np.ndarray:
    """A random orthogonal ``n × n`` matrix (Haar distributed: QR of a Gaussian with sign correction)."""
    g = np.random.default_rng(seed).standard_normal((n, n))
    q, r = np.linalg.qr(g)
    return (q * np.sign(np.diag(r))).astype(np.float32)


def rotation_experiment(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    models: Sequence[str] = ("RF", "XGBoost", "MLP", "IFM-MLP"),
    *,
    seed: int = 0,
    ifm: tuple[float, int] = (8.0, 4),
    epochs: int = 100,
    rf_trees: int = 100,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Train each model on the features as they are and after a random orthogonal rotation.

    A rotation keeps every distance, so an MLP (whose first layer can absorb it) is unaffected,
    while axis-aligned trees lose the per-feature splits they rely on.

    Returns:
        One row per model: ``rmse_original``, ``rmse_rotated`` and their ratio.
    """
    q = orthogonal_matrix(x_train.shape[1], seed)
    variants = {"original": (x_train, x_test), "rotated": (x_train @ q, x_test @ q)}
    rows = []
    total = len(models) * 2
    done = 0
    for name in models:
        row: dict[str, object] = {"model": name}
        for variant, (tr, te) in variants.items():
            if progress:
                progress(done / total, f"{name} on {variant} features")
            if name in FP_MODELS:
                params = {"n_estimators": rf_trees} if name == "RF" else moleculeace_hyperparameters(None, name)
                pred = fit_predict_fingerprint(name, tr, y_train, te, params, seed)
            else:
                pred, _ = mlp_fit_predict(
                    tr, y_train, te, ifm=ifm if name == "IFM-MLP" else None, epochs=epochs, seed=seed, hidden=256
                )
            row[f"rmse_{variant}"] = rmse(y_test, pred)
            done += 1
        row["ratio"] = row["rmse_rotated"] / row["rmse_original"]
        rows.append(row)
    if progress:
        progress(1.0, "done")
    return pd.DataFrame(rows)
