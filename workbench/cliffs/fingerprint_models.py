"""Fingerprint QSAR regressors: KNN, RF, SVM and XGBoost on ECFP4, and an SVR on a Tanimoto kernel.

For a MoleculeACE target they take the hyperparameters MoleculeACE tuned for it, read from the
installed package's ``configures`` files (never imported); otherwise :data:`DEFAULT_PARAMS`.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path

import numpy as np

from workbench.chem.similarity import tanimoto_matrix
from workbench.cliffs.features import holdout

__all__ = [
    "DEFAULT_PARAMS",
    "FP_MODELS",
    "RF_MAX_TREES",
    "TANIMOTO_C_GRID",
    "fit_predict_fingerprint",
    "moleculeace_hyperparameters",
    "svm_tanimoto_fit_predict",
]

#: Defaults when no MoleculeACE configuration applies (their most common tuned values).
DEFAULT_PARAMS = {
    "KNN": {"n_neighbors": 5, "weights": "distance", "metric": "euclidean"},
    "RF": {"n_estimators": 250},
    "SVM": {"C": 10, "epsilon": 0.1, "gamma": 0.01, "kernel": "rbf"},
    "XGBoost": {"n_estimators": 400, "max_depth": 7, "learning_rate": 0.1},
}
FP_MODELS = tuple(DEFAULT_PARAMS)
#: RF is capped at this many trees to keep the benchmark in CPU budget (MoleculeACE tuned up to 1,000).
RF_MAX_TREES = 250
#: C candidates of the SVM-Tanimoto, chosen on the held-out 15 % of the training split.
TANIMOTO_C_GRID = (1.0, 5.0, 25.0)
_CONFIG_NAME = {"KNN": "KNN_ECFP", "RF": "RF_ECFP", "SVM": "SVM_ECFP", "XGBoost": "GBM_ECFP"}


def _parse_value(text: str) -> object:
    text = text.strip()
    if text in ("null", "None", "~", ""):
        return None
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text.strip("'\"")


def moleculeace_hyperparameters(target: str | None, model: str) -> dict[str, object]:
    """MoleculeACE's tuned hyperparameters for ``model`` on ``target`` (defaults when not available).

    XGBoost takes MoleculeACE's GBM ``n_estimators``, ``max_depth`` and ``learning_rate``.
    """
    params = dict(DEFAULT_PARAMS[model])
    spec = importlib.util.find_spec("MoleculeACE")
    if target and spec is not None and spec.submodule_search_locations:
        root = Path(next(iter(spec.submodule_search_locations)))
        path = root / "Data" / "configures" / "benchmark" / target / f"{_CONFIG_NAME[model]}.yml"
        if path.is_file():
            for line in path.read_text().splitlines():
                if ":" in line and not line.lstrip().startswith("#"):
                    key, value = line.split(":", 1)
                    params[key.strip()] = _parse_value(value)
    if model == "XGBoost":
        params = {k: params[k] for k in ("n_estimators", "max_depth", "learning_rate") if k in params}
    if model == "RF":
        params = {"n_estimators": min(int(params.get("n_estimators", 250)), RF_MAX_TREES)}
    return params


def _knn(params: dict, _seed: int) -> object:
    from sklearn.neighbors import KNeighborsRegressor

    return KNeighborsRegressor(**params, n_jobs=1)


def _rf(params: dict, seed: int) -> object:
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(**params, random_state=seed, n_jobs=1)


def _svm(params: dict, _seed: int) -> object:
    from sklearn.svm import SVR

    return SVR(**params)


def _xgboost(params: dict, seed: int) -> object:
    from xgboost import XGBRegressor

    return XGBRegressor(**params, colsample_bynode=0.25, tree_method="hist", random_state=seed, n_jobs=1, verbosity=0)


#: Estimator of each fingerprint model, from its hyperparameters and the seed.
_ESTIMATORS: dict[str, Callable[[dict, int], object]] = {"KNN": _knn, "RF": _rf, "SVM": _svm, "XGBoost": _xgboost}


def fit_predict_fingerprint(
    model: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, params: dict, seed: int
) -> np.ndarray:
    """Fit fingerprint model ``model`` (one of :data:`FP_MODELS`) with ``params`` and predict ``x_test``."""
    if model not in _ESTIMATORS:
        raise ValueError(f"unknown fingerprint model '{model}'; known: {', '.join(FP_MODELS)}")
    est = _ESTIMATORS[model](params, seed)
    est.fit(x_train, y_train)
    return np.asarray(est.predict(x_test), dtype=np.float64)


def svm_tanimoto_fit_predict(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, seed: int
) -> tuple[np.ndarray, dict[str, object]]:
    """SVR on a Tanimoto kernel over ECFP4 bits, C chosen on the held-out part; returns (predictions, params)."""
    from sklearn.svm import SVR

    k_train = tanimoto_matrix(x_train, x_train)
    fit, valid = holdout(len(y_train), seed)
    scores = {}
    for c in TANIMOTO_C_GRID if len(valid) else TANIMOTO_C_GRID[1:2]:
        est = SVR(kernel="precomputed", C=c, epsilon=0.1).fit(k_train[np.ix_(fit, fit)], y_train[fit])
        pred = est.predict(k_train[np.ix_(valid, fit)]) if len(valid) else np.zeros(0)
        scores[c] = float(np.sqrt(np.mean((pred - y_train[valid]) ** 2))) if len(valid) else float("nan")
    best = min(scores, key=scores.get)
    est = SVR(kernel="precomputed", C=best, epsilon=0.1).fit(k_train, y_train)
    pred = np.asarray(est.predict(tanimoto_matrix(x_test, x_train)), dtype=np.float64)
    return pred, {"C": best, "epsilon": 0.1, "valid_rmse": round(scores[best], 4), "grid": list(TANIMOTO_C_GRID)}
