"""QSAR regressors for activity-cliff benchmarks: fingerprint baselines, MLP, IFM-MLP and GIN.

Every model goes through :func:`fit_predict`, which takes SMILES and targets and
returns test predictions, so the benchmark, the pages and the notebook train
models the same way. Fingerprint models use MoleculeACE's features (ECFP4,
1,024 bits) and, for a MoleculeACE target, the hyperparameters MoleculeACE tuned
for it (read from the installed package's ``configures`` files, never imported).
Neural models hold out a seeded 15 % of the training set for early stopping and,
for the IFM-MLP, for choosing σ and d: nothing is tuned on the test set.
Models are not saved.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from rdkit import Chem, rdBase

from workbench.chem.similarity import tanimoto_matrix
from workbench.cliffs import rmse, rmse_cliff
from workbench.featurizers import ecfp_batch

__all__ = [
    "CONSENSUS_MEMBERS",
    "ENSEMBLE_MODELS",
    "FP_MODELS",
    "GRAPH_MODELS",
    "IFM_GRID",
    "KERNEL_MODELS",
    "MODELS",
    "NEURAL_MODELS",
    "ModelResult",
    "assign_split",
    "ecfp_features",
    "evaluate",
    "fit_predict",
    "moleculeace_hyperparameters",
    "orthogonal_matrix",
    "rotation_experiment",
]

FP_MODELS = ("KNN", "RF", "SVM", "XGBoost")
#: SVR on a Tanimoto kernel over ECFP4 bits, C chosen on the held-out 15 % of the training split.
KERNEL_MODELS = ("SVM-Tanimoto",)
#: Mean of the predictions of these models (each trained as on its own).
CONSENSUS_MEMBERS = ("SVM", "SVM-Tanimoto", "XGBoost")
ENSEMBLE_MODELS = ("Consensus",)
TANIMOTO_C_GRID = (1.0, 5.0, 25.0)
NEURAL_MODELS = ("MLP", "IFM-MLP")
GRAPH_MODELS = ("GIN", "IFM-GIN")
MODELS = FP_MODELS + KERNEL_MODELS + ENSEMBLE_MODELS + NEURAL_MODELS + GRAPH_MODELS
#: (σ, d) candidates for the IFM-MLP, chosen on the validation part of the training split.
IFM_GRID = ((4.0, 4), (16.0, 4))
#: Hidden width of MLP and IFM-MLP (equal, so only the encoding differs).
MLP_HIDDEN = 256
#: Defaults when no MoleculeACE configuration applies (their most common tuned values).
DEFAULT_PARAMS = {
    "KNN": {"n_neighbors": 5, "weights": "distance", "metric": "euclidean"},
    "RF": {"n_estimators": 250},
    "SVM": {"C": 10, "epsilon": 0.1, "gamma": 0.01, "kernel": "rbf"},
    "XGBoost": {"n_estimators": 400, "max_depth": 7, "learning_rate": 0.1},
}
#: RF is capped at this many trees to keep the benchmark in CPU budget (MoleculeACE tuned up to 1,000).
RF_MAX_TREES = 250
_CONFIG_NAME = {"KNN": "KNN_ECFP", "RF": "RF_ECFP", "SVM": "SVM_ECFP", "XGBoost": "GBM_ECFP"}

Progress = Callable[[float, str], None]


def ecfp_features(smiles: Sequence[str], counts: bool = False) -> np.ndarray:
    """ECFP4, 1,024 bits (MoleculeACE's setting) as float32; unparsable SMILES give zero rows."""
    with rdBase.BlockLogs():
        mols = [Chem.MolFromSmiles(s) for s in smiles]
    return ecfp_batch(mols, n_bits=1024, radius=2, counts=counts).astype(np.float32)


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


def _fit_predict_fp(
    model: str, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, params: dict, seed: int
) -> np.ndarray:
    if model == "KNN":
        from sklearn.neighbors import KNeighborsRegressor

        est = KNeighborsRegressor(**params, n_jobs=1)
    elif model == "RF":
        from sklearn.ensemble import RandomForestRegressor

        est = RandomForestRegressor(**params, random_state=seed, n_jobs=1)
    elif model == "SVM":
        from sklearn.svm import SVR

        est = SVR(**params)
    elif model == "XGBoost":
        from xgboost import XGBRegressor

        est = XGBRegressor(
            **params, colsample_bynode=0.25, tree_method="hist", random_state=seed, n_jobs=1, verbosity=0
        )
    else:
        raise ValueError(f"unknown fingerprint model '{model}'; known: {', '.join(FP_MODELS)}")
    est.fit(x_train, y_train)
    return np.asarray(est.predict(x_test), dtype=np.float64)


def _svm_tanimoto_fit_predict(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, seed: int
) -> tuple[np.ndarray, dict[str, object]]:
    from sklearn.svm import SVR

    k_train = tanimoto_matrix(x_train, x_train)
    fit, valid = _holdout(len(y_train), seed)
    scores = {}
    for c in TANIMOTO_C_GRID if len(valid) else TANIMOTO_C_GRID[1:2]:
        est = SVR(kernel="precomputed", C=c, epsilon=0.1).fit(k_train[np.ix_(fit, fit)], y_train[fit])
        pred = est.predict(k_train[np.ix_(valid, fit)]) if len(valid) else np.zeros(0)
        scores[c] = float(np.sqrt(np.mean((pred - y_train[valid]) ** 2))) if len(valid) else float("nan")
    best = min(scores, key=scores.get)
    est = SVR(kernel="precomputed", C=best, epsilon=0.1).fit(k_train, y_train)
    pred = np.asarray(est.predict(tanimoto_matrix(x_test, x_train)), dtype=np.float64)
    return pred, {"C": best, "epsilon": 0.1, "valid_rmse": round(scores[best], 4), "grid": list(TANIMOTO_C_GRID)}


def _holdout(n: int, seed: int, fraction: float = 0.15) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_valid = max(1, round(fraction * n)) if n > 4 else 0
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


def _train_loop(
    net: torch.nn.Module,
    batches: Callable[[np.ndarray], list],
    forward: Callable[[torch.nn.Module, object], torch.Tensor],
    y: np.ndarray,
    train_idx: np.ndarray,
    valid_idx: np.ndarray,
    *,
    epochs: int,
    patience: int,
    lr: float,
    batch_size: int,
    seed: int,
    progress: Progress | None,
    label: str,
) -> float:
    """Adam on standardized MSE with early stopping on validation RMSE; restores the best weights."""
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr, weight_decay=1e-5)
    yt = torch.as_tensor(y, dtype=torch.float32)
    best, best_state, waited = float("inf"), None, 0
    valid_batches = batches(valid_idx) if len(valid_idx) else []
    for epoch in range(epochs):
        net.train()
        order = train_idx[torch.randperm(len(train_idx), generator=gen).numpy()]
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            if len(chunk) < 2:
                continue
            (inputs,) = batches(chunk)[:1]
            loss = torch.nn.functional.mse_loss(forward(net, inputs).squeeze(-1), yt[chunk])
            opt.zero_grad()
            loss.backward()
            opt.step()
        if len(valid_idx):
            net.eval()
            with torch.no_grad():
                pred = torch.cat([forward(net, b).squeeze(-1) for b in valid_batches])
            score = float(torch.sqrt(torch.mean((pred - yt[valid_idx]) ** 2)))
            if score < best - 1e-4:
                best, waited = score, 0
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                waited += 1
        if progress:
            progress((epoch + 1) / epochs, f"{label}: epoch {epoch + 1}/{epochs}")
        if waited >= patience:
            break
    if best_state is not None:
        net.load_state_dict(best_state)
    net.eval()
    return best


def _mlp_fit_predict(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    *,
    ifm: tuple[float, int] | None,
    epochs: int,
    seed: int,
    hidden: int = MLP_HIDDEN,
    progress: Progress | None = None,
    label: str = "MLP",
) -> tuple[np.ndarray, float]:
    from workbench.nn.ifm import IFMMLP
    from workbench.nn.mlp import FeatureMLP

    torch.manual_seed(seed)
    mean, std = float(np.mean(y_train)), float(np.std(y_train) or 1.0)
    ys = (y_train - mean) / std
    xt = torch.as_tensor(x_train, dtype=torch.float32)
    if ifm is None:
        net: torch.nn.Module = FeatureMLP(x_train.shape[1], 1, hidden=hidden, n_layers=2, dropout=0.2)
    else:
        net = IFMMLP(x_train.shape[1], 1, sigma=ifm[0], d=ifm[1], hidden=hidden, n_layers=2, dropout=0.2)
    train_idx, valid_idx = _holdout(len(ys), seed)

    def batches(idx: np.ndarray) -> list:
        return [xt[idx[i : i + 256]] for i in range(0, len(idx), 256)]

    best = _train_loop(
        net,
        batches,
        lambda m, b: m(b),
        ys,
        train_idx,
        valid_idx,
        epochs=epochs,
        patience=10,
        lr=1e-3,
        batch_size=64,
        seed=seed,
        progress=progress,
        label=label,
    )
    with torch.no_grad():
        pred = net(torch.as_tensor(x_test, dtype=torch.float32)).squeeze(-1).numpy()
    return pred.astype(np.float64) * std + mean, best * std


def _gin_fit_predict(
    smiles_train: Sequence[str],
    y_train: np.ndarray,
    smiles_test: Sequence[str],
    *,
    use_ifm: bool,
    epochs: int,
    seed: int,
    num_layer: int = 5,
    emb_dim: int = 300,
    progress: Progress | None = None,
) -> np.ndarray:
    from torch_geometric.data import Batch

    from workbench.featurizers import mols_to_graphs
    from workbench.nn.ifm import IFMGINPredictor

    torch.manual_seed(seed)
    with rdBase.BlockLogs():
        tr_graphs, tr_err = mols_to_graphs([Chem.MolFromSmiles(s) for s in smiles_train])
        te_graphs, te_err = mols_to_graphs([Chem.MolFromSmiles(s) for s in smiles_test])
    keep = np.array([e == "" for e in tr_err])
    graphs = [g for g, k in zip(tr_graphs, keep, strict=True) if k]
    mean, std = float(np.mean(y_train[keep])), float(np.std(y_train[keep]) or 1.0)
    ys = (y_train[keep] - mean) / std
    net = IFMGINPredictor(1, num_layer=num_layer, emb_dim=emb_dim, drop_ratio=0.2, use_ifm=use_ifm)
    train_idx, valid_idx = _holdout(len(ys), seed)

    def batches(idx: np.ndarray) -> list:
        return [Batch.from_data_list([graphs[k] for k in idx[i : i + 128]]) for i in range(0, len(idx), 128)]

    def forward(m: torch.nn.Module, b: Batch) -> torch.Tensor:
        return m(b.x, b.edge_index, b.edge_attr, b.batch, b.num_graphs)

    _train_loop(
        net,
        batches,
        forward,
        ys,
        train_idx,
        valid_idx,
        epochs=epochs,
        patience=10,
        lr=1e-3,
        batch_size=32,
        seed=seed,
        progress=progress,
        label="IFM-GIN" if use_ifm else "GIN",
    )
    pred = np.full(len(smiles_test), mean, dtype=np.float64)  # unfeaturizable test rows get the mean
    ok = [k for k, e in enumerate(te_err) if e == ""]
    with torch.no_grad():
        for i in range(0, len(ok), 256):
            idx = ok[i : i + 256]
            b = Batch.from_data_list([te_graphs[k] for k in idx])
            pred[idx] = forward(net, b).squeeze(-1).numpy() * std + mean
    return pred


@dataclass
class ModelResult:
    """Test predictions of one model and what it was trained with."""

    model: str
    predictions: np.ndarray
    params: dict[str, object]
    seconds: float


def _scaled_counts(smiles_train: Sequence[str], smiles_test: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    tr, te = ecfp_features(smiles_train, counts=True), ecfp_features(smiles_test, counts=True)
    scale = np.maximum(tr.max(axis=0), 1.0)
    return tr / scale, np.minimum(te / scale, 1.0)


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

    Features: ECFP4 1,024 bits for the fingerprint and kernel models; ECFP4 1,024 counts scaled to [0, 1]
    by the training maximum for MLP and IFM-MLP; pretrain-gnns graphs for the GINs.
    """
    y_train = np.asarray(y_train, dtype=np.float64)
    start = time.perf_counter()
    if model in FP_MODELS:
        params = moleculeace_hyperparameters(target, model)
        pred = _fit_predict_fp(model, ecfp_features(smiles_train), y_train, ecfp_features(smiles_test), params, seed)
        if progress:
            progress(1.0, f"{model}: done")
    elif model in KERNEL_MODELS:
        pred, params = _svm_tanimoto_fit_predict(ecfp_features(smiles_train), y_train, ecfp_features(smiles_test), seed)
        if progress:
            progress(1.0, f"{model}: done")
    elif model in ENSEMBLE_MODELS:
        parts = [
            fit_predict(m, smiles_train, y_train, smiles_test, target=target, seed=seed).predictions
            for m in CONSENSUS_MEMBERS
        ]
        pred = np.mean(parts, axis=0)
        params = {"members": list(CONSENSUS_MEMBERS), "combination": "mean"}
        if progress:
            progress(1.0, f"{model}: done")
    elif model == "MLP":
        x_tr, x_te = _scaled_counts(smiles_train, smiles_test)
        pred, _ = _mlp_fit_predict(x_tr, y_train, x_te, ifm=None, epochs=epochs or 100, seed=seed, progress=progress)
        params = {"hidden": MLP_HIDDEN, "layers": 2}
    elif model == "IFM-MLP":
        x_tr, x_te = _scaled_counts(smiles_train, smiles_test)
        best: tuple[float, np.ndarray, tuple[float, int]] | None = None
        for k, (sigma, d) in enumerate(ifm_grid):

            def step(frac: float, msg: str, k: int = k) -> None:
                if progress:
                    progress((k + frac) / len(ifm_grid), msg)

            pred_k, valid_rmse = _mlp_fit_predict(
                x_tr,
                y_train,
                x_te,
                ifm=(sigma, d),
                epochs=epochs or 100,
                seed=seed,
                progress=step,
                label=f"IFM-MLP σ={sigma:g} d={d}",
            )
            if best is None or valid_rmse < best[0]:
                best = (valid_rmse, pred_k, (sigma, d))
        assert best is not None
        pred = best[1]
        params = {"sigma": best[2][0], "d": best[2][1], "valid_rmse": round(best[0], 4), "grid": list(ifm_grid)}
    elif model in GRAPH_MODELS:
        pred = _gin_fit_predict(
            smiles_train,
            y_train,
            smiles_test,
            use_ifm=model == "IFM-GIN",
            epochs=epochs or 40,
            seed=seed,
            num_layer=gin_size[0],
            emb_dim=gin_size[1],
            progress=progress,
        )
        params = {"layers": gin_size[0], "hidden": gin_size[1], "max_epochs": epochs or 40}
    else:
        raise ValueError(f"unknown model '{model}'; known: {', '.join(MODELS)}")
    return ModelResult(model, pred, params, time.perf_counter() - start)


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
    """Xia et al.'s diagnostic: train on features as they are and after a random orthogonal rotation.

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
                pred = _fit_predict_fp(name, tr, y_train, te, params, seed)
            else:
                pred, _ = _mlp_fit_predict(
                    tr, y_train, te, ifm=ifm if name == "IFM-MLP" else None, epochs=epochs, seed=seed, hidden=256
                )
            row[f"rmse_{variant}"] = rmse(y_test, pred)
            done += 1
        row["ratio"] = row["rmse_rotated"] / row["rmse_original"]
        rows.append(row)
    if progress:
        progress(1.0, "done")
    return pd.DataFrame(rows)


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
