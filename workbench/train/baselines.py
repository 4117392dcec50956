"""Fingerprint baselines: random forest, XGBoost and SVR on ECFP4 (``workbench train baseline``).

One model per task (labels may be missing) and per seed; saved without pickle:
XGBoost models as XGBoost JSON, scikit-learn models with skops (loaded with an
explicit list of trusted types).
"""

from __future__ import annotations

import gzip
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import skops.io as sio
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.svm import SVR

from workbench.data.prepared import Prepared, prepare
from workbench.featurizers import ecfp_batch, featurizer_spec
from workbench.models import write_card
from workbench.predict.references import store_references
from workbench.train.metrics import regression_metrics, roc_auc, summarize_seeds

__all__ = ["BaselineConfig", "fit_predict", "train_baseline"]

log = logging.getLogger("workbench.train")
N_BITS = 2048
MODEL_TITLES = {"rf": "Random forest", "xgboost": "XGBoost", "svr": "Support-vector regression (RBF)"}


@dataclass
class BaselineConfig:
    """What decides a baseline run (recorded in the card)."""

    dataset: str
    model: str  # rf | xgboost | svr
    name: str
    split: str = "scaffold"
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    jobs: int = 1
    n_bits: int = N_BITS


def _make(kind: str, classification: bool, seed: int, jobs: int):
    if kind == "rf":
        cls = RandomForestClassifier if classification else RandomForestRegressor
        return cls(
            n_estimators=200,
            min_samples_leaf=1,
            max_features="sqrt" if classification else 0.33,
            n_jobs=jobs,
            random_state=seed,
        )
    if kind == "xgboost":
        params = dict(
            n_estimators=1000,
            max_depth=6,
            learning_rate=0.05,
            subsample=0.8,
            colsample_bytree=0.5,
            early_stopping_rounds=50,
            n_jobs=jobs,
            random_state=seed,
            tree_method="hist",
        )
        if classification:
            return xgb.XGBClassifier(objective="binary:logistic", eval_metric="auc", **params)
        return xgb.XGBRegressor(objective="reg:squarederror", eval_metric="rmse", **params)
    if kind == "svr":
        if classification:
            raise ValueError("SVR is a regression baseline; use rf or xgboost for classification")
        return SVR(kernel="rbf", C=5.0, gamma="scale")
    raise ValueError(f"unknown baseline '{kind}'")


def fit_predict(kind: str, prep: Prepared, x: np.ndarray, seed: int, jobs: int = 1):
    """Fit one model per task on the training split.

    Returns:
        The fitted models (``None`` for a task without both classes in training), and
        predictions for every molecule (probabilities or values), shape ``(n, n_tasks)``.
    """
    classification = prep.task_type == "classification"
    train, valid = prep.split.train, prep.split.valid
    models, preds = [], np.full(prep.y.shape, np.nan)
    for t in range(prep.y.shape[1]):
        tr = train[~np.isnan(prep.y[train, t])]
        va = valid[~np.isnan(prep.y[valid, t])]
        y_tr = prep.y[tr, t]
        if classification and len(np.unique(y_tr)) < 2:
            models.append(None)
            preds[:, t] = float(y_tr.mean()) if len(y_tr) else 0.5
            continue
        model = _make(kind, classification, seed, jobs)
        if kind == "xgboost":
            usable = len(va) and (not classification or len(np.unique(prep.y[va, t])) == 2)
            eval_rows = va if usable else tr
            model.fit(x[tr], y_tr, eval_set=[(x[eval_rows], prep.y[eval_rows, t])], verbose=False)
        else:
            model.fit(x[tr], y_tr)
        models.append(model)
        preds[:, t] = model.predict_proba(x)[:, 1] if classification else model.predict(x)
    return models, preds


def _metrics(prep: Prepared, preds: np.ndarray, idx: np.ndarray) -> dict[str, float]:
    if prep.task_type == "classification":
        return {"roc_auc": roc_auc(prep.y[idx], preds[idx])}
    return regression_metrics(prep.y[idx], preds[idx])


def _save(model, kind: str, folder: Path, stem: str) -> dict:
    if kind == "xgboost":
        # XGBoost's JSON model format, gzip-compressed (about 6x smaller; multi-task sets have many models)
        path = folder / f"{stem}.json.gz"
        raw = model.get_booster().save_raw(raw_format="json")
        path.write_bytes(gzip.compress(bytes(raw), compresslevel=9, mtime=0))
        return {"file": path.name, "format": "xgboost-json"}
    path = folder / f"{stem}.skops"
    sio.dump(model, path, compression=zipfile.ZIP_DEFLATED, compresslevel=9)
    return {"file": path.name, "format": "skops"}


def train_baseline(cfg: BaselineConfig, *, models_dir: str | Path = "models", command: str = "") -> dict:
    """Train ``cfg.seeds`` baselines, write ``models/<name>/`` and return the card."""
    prep = prepare(cfg.dataset, cfg.split)
    x = ecfp_batch(prep.mols, n_bits=cfg.n_bits).astype(np.float32)
    folder = Path(models_dir) / cfg.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        if old.name.endswith((".json", ".json.gz", ".skops")):
            old.unlink()
    seeds = cfg.seeds if cfg.model != "svr" else cfg.seeds[:1]  # SVR is deterministic: one member
    files, test, valid = [], [], []
    for seed in seeds:
        models, preds = fit_predict(cfg.model, prep, x, seed, cfg.jobs)
        test.append(_metrics(prep, preds, prep.split.test))
        valid.append(_metrics(prep, preds, prep.split.valid))
        log.info("%s seed %d test %s", cfg.name, seed, test[-1])
        for t, model in enumerate(models):
            if model is None:
                continue
            entry = _save(model, cfg.model, folder, f"seed{seed}_task{t}")
            files.append({**entry, "seed": seed, "task": t})
    constant = {
        t: float(np.nanmean(prep.y[prep.split.train, t]))
        for t in range(len(prep.tasks))
        if all(f["task"] != t for f in files)
    }
    card = {
        "name": cfg.name,
        "description": (
            f"{MODEL_TITLES[cfg.model]} on ECFP4 ({cfg.n_bits} bits), one model per task, {len(seeds)}-seed ensemble"
        ),
        "architecture": {"type": cfg.model, "config": {"n_tasks": len(prep.tasks), "constant_tasks": constant}},
        "featurizer": featurizer_spec("ecfp", n_bits=cfg.n_bits, radius=2),
        **prep.card_fields(),
        "seeds": list(seeds),
        "metrics": {"test": summarize_seeds(test), "valid": summarize_seeds(valid)},
        "command": command or f"workbench train baseline --dataset {cfg.dataset} --model {cfg.model}",
    }
    write_card(folder, card, files)
    train = prep.split.train
    return store_references(folder, [prep.mols[i] for i in train], prep.kept[train], log=lambda _msg: None)
