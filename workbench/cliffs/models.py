"""The QSAR models of the cliff benchmark, as one explicit table of specs, and :func:`fit_predict` over it.

Every model takes SMILES and targets and returns test predictions, so the benchmark, the pages
and the notebook train models the same way. Models are not saved.

| family | models | features |
|---|---|---|
| fingerprint | KNN, RF, SVM, XGBoost | ECFP4, 1,024 bits; MoleculeACE's tuned hyperparameters for a target |
| kernel | SVM-Tanimoto | ECFP4 bits, Tanimoto kernel, C chosen on the held-out 15 % |
| ensemble | Consensus | mean of SVM, SVM-Tanimoto and XGBoost |
| neural | MLP, IFM-MLP | ECFP4 counts scaled to [0, 1]; IFM σ, d chosen on the held-out 15 % |
| graph | GIN, IFM-GIN | pretrain-gnns graphs |
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from workbench.cliffs.features import Progress, ecfp_features, scaled_counts
from workbench.cliffs.fingerprint_models import fit_predict_fingerprint, moleculeace_hyperparameters
from workbench.cliffs.fingerprint_models import svm_tanimoto_fit_predict as _svm_tanimoto
from workbench.cliffs.neural import IFM_GRID, MLP_HIDDEN, gin_fit_predict, mlp_fit_predict

__all__ = [
    "CONSENSUS_MEMBERS",
    "ENSEMBLE_MODELS",
    "FP_MODELS",
    "GRAPH_MODELS",
    "KERNEL_MODELS",
    "MODELS",
    "NEURAL_MODELS",
    "QSAR_MODELS",
    "FitRequest",
    "ModelResult",
    "QSARModel",
    "fit_predict",
]

#: Mean of the predictions of these models (each trained as on its own).
CONSENSUS_MEMBERS = ("SVM", "SVM-Tanimoto", "XGBoost")


@dataclass(frozen=True)
class FitRequest:
    """One training job: molecules, targets and the options of :func:`fit_predict`."""

    smiles_train: Sequence[str]
    y_train: np.ndarray
    smiles_test: Sequence[str]
    target: str | None
    seed: int
    epochs: int | None
    ifm_grid: Sequence[tuple[float, int]]
    gin_size: tuple[int, int]
    progress: Progress | None

    def done(self, model: str) -> None:
        if self.progress:
            self.progress(1.0, f"{model}: done")


@dataclass(frozen=True)
class QSARModel:
    """A QSAR model: its name, family, and the function that fits it (predictions, params it used)."""

    name: str
    family: str  # fingerprint | kernel | ensemble | neural | graph
    fit: Callable[[FitRequest], tuple[np.ndarray, dict[str, object]]]


def _fingerprint(name: str) -> Callable[[FitRequest], tuple[np.ndarray, dict[str, object]]]:
    def fit(req: FitRequest) -> tuple[np.ndarray, dict[str, object]]:
        params = moleculeace_hyperparameters(req.target, name)
        x_tr, x_te = ecfp_features(req.smiles_train), ecfp_features(req.smiles_test)
        pred = fit_predict_fingerprint(name, x_tr, req.y_train, x_te, params, req.seed)
        req.done(name)
        return pred, params

    return fit


def _svm_tanimoto_fit(req: FitRequest) -> tuple[np.ndarray, dict[str, object]]:
    x_tr, x_te = ecfp_features(req.smiles_train), ecfp_features(req.smiles_test)
    pred, params = _svm_tanimoto(x_tr, req.y_train, x_te, req.seed)
    req.done("SVM-Tanimoto")
    return pred, params


def _consensus_fit(req: FitRequest) -> tuple[np.ndarray, dict[str, object]]:
    parts = [
        fit_predict(m, req.smiles_train, req.y_train, req.smiles_test, target=req.target, seed=req.seed).predictions
        for m in CONSENSUS_MEMBERS
    ]
    req.done("Consensus")
    return np.mean(parts, axis=0), {"members": list(CONSENSUS_MEMBERS), "combination": "mean"}


def _mlp_fit(req: FitRequest) -> tuple[np.ndarray, dict[str, object]]:
    x_tr, x_te = scaled_counts(req.smiles_train, req.smiles_test)
    pred, _ = mlp_fit_predict(
        x_tr, req.y_train, x_te, ifm=None, epochs=req.epochs or 100, seed=req.seed, progress=req.progress
    )
    return pred, {"hidden": MLP_HIDDEN, "layers": 2}


def _ifm_mlp_fit(req: FitRequest) -> tuple[np.ndarray, dict[str, object]]:
    """One IFM-MLP per (σ, d) of the grid; the one with the lowest held-out RMSE is kept."""
    x_tr, x_te = scaled_counts(req.smiles_train, req.smiles_test)
    grid = req.ifm_grid
    best: tuple[float, np.ndarray, tuple[float, int]] | None = None
    for k, (sigma, d) in enumerate(grid):

        def step(frac: float, msg: str, k: int = k) -> None:
            if req.progress:
                req.progress((k + frac) / len(grid), msg)

        pred_k, valid_rmse = mlp_fit_predict(
            x_tr, req.y_train, x_te, ifm=(sigma, d), epochs=req.epochs or 100, seed=req.seed, progress=step,
            label=f"IFM-MLP σ={sigma:g} d={d}",
        )  # fmt: skip
        if best is None or valid_rmse < best[0]:
            best = (valid_rmse, pred_k, (sigma, d))
    assert best is not None
    return best[1], {"sigma": best[2][0], "d": best[2][1], "valid_rmse": round(best[0], 4), "grid": list(grid)}


def _gin(use_ifm: bool) -> Callable[[FitRequest], tuple[np.ndarray, dict[str, object]]]:
    def fit(req: FitRequest) -> tuple[np.ndarray, dict[str, object]]:
        layers, hidden = req.gin_size
        pred = gin_fit_predict(
            req.smiles_train, req.y_train, req.smiles_test, use_ifm=use_ifm, epochs=req.epochs or 40, seed=req.seed,
            num_layer=layers, emb_dim=hidden, progress=req.progress,
        )  # fmt: skip
        return pred, {"layers": layers, "hidden": hidden, "max_epochs": req.epochs or 40}

    return fit


#: Every QSAR model, in the order of :data:`MODELS`.
QSAR_MODELS: dict[str, QSARModel] = {
    m.name: m
    for m in (
        QSARModel("KNN", "fingerprint", _fingerprint("KNN")),
        QSARModel("RF", "fingerprint", _fingerprint("RF")),
        QSARModel("SVM", "fingerprint", _fingerprint("SVM")),
        QSARModel("XGBoost", "fingerprint", _fingerprint("XGBoost")),
        QSARModel("SVM-Tanimoto", "kernel", _svm_tanimoto_fit),
        QSARModel("Consensus", "ensemble", _consensus_fit),
        QSARModel("MLP", "neural", _mlp_fit),
        QSARModel("IFM-MLP", "neural", _ifm_mlp_fit),
        QSARModel("GIN", "graph", _gin(False)),
        QSARModel("IFM-GIN", "graph", _gin(True)),
    )
}


def _family(family: str) -> tuple[str, ...]:
    return tuple(name for name, m in QSAR_MODELS.items() if m.family == family)


FP_MODELS = _family("fingerprint")
#: SVR on a Tanimoto kernel over ECFP4 bits, C chosen on the held-out 15 % of the training split.
KERNEL_MODELS = _family("kernel")
ENSEMBLE_MODELS = _family("ensemble")
NEURAL_MODELS = _family("neural")
GRAPH_MODELS = _family("graph")
MODELS = tuple(QSAR_MODELS)


@dataclass
class ModelResult:
    """Test predictions of one model and what it was trained with."""

    model: str
    predictions: np.ndarray
    params: dict[str, object]
    seconds: float


def fit_predict(
    model: str,
    smiles_train: Sequence[str],
    y_train: Sequence[float] | np.ndarray,
    smiles_test: Sequence[str],
    *,
    target: str | None = None,
    seed: int = 0,
    epochs: int | None = None,
    ifm_grid: Sequence[tuple[float, int]] = IFM_GRID,
    gin_size: tuple[int, int] = (5, 300),
    progress: Progress | None = None,
) -> ModelResult:
    """Train ``model`` on the training molecules and predict the test molecules.

    Args:
        model: one of :data:`MODELS`.
        target: a MoleculeACE target name, to use its tuned fingerprint-model hyperparameters.
        epochs: maximum epochs for neural models (default 100 for MLPs, 40 for GINs).
        ifm_grid: (σ, d) candidates for the IFM-MLP, chosen on the held-out 15 % of the training set.
        gin_size: (layers, hidden width) of the GINs.
        progress: ``callback(fraction, message)``.
    """
    if model not in QSAR_MODELS:
        raise ValueError(f"unknown model '{model}'; known: {', '.join(MODELS)}")
    start = time.perf_counter()
    request = FitRequest(
        smiles_train, np.asarray(y_train, dtype=np.float64), smiles_test, target, seed, epochs, ifm_grid, gin_size,
        progress,
    )  # fmt: skip
    pred, params = QSAR_MODELS[model].fit(request)
    return ModelResult(model, pred, params, time.perf_counter() - start)
