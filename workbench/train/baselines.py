"""Fingerprint baselines: random forest, XGBoost and SVR on ECFP4 (``workbench train baseline``).

One model per task (labels may be missing) and per seed; saved without pickle: XGBoost models as XGBoost's
gzip JSON, random forests and SVRs as their arrays in safetensors (:mod:`workbench.models.builders.flat_trees`,
:mod:`workbench.models.builders.flat_svr`). Before a model is written, the stored form's predictions on the
training molecules are checked against the library's own (:data:`STORED_TOLERANCE`).
"""

from __future__ import annotations

import gzip
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.svm import SVR

from workbench.data.prepared import Prepared, prepare
from workbench.featurizers import ecfp_batch, featurizer_spec
from workbench.models import write_card
from workbench.models.builders.flat_svr import FlatSVR
from workbench.models.builders.flat_trees import FlatBooster, FlatTrees, UnsupportedTrees
from workbench.predict.references import store_references
from workbench.train.metrics import regression_metrics, roc_auc, summarize_seeds

__all__ = ["BaselineConfig", "fit_predict", "save_member", "train_baseline"]

log = logging.getLogger("workbench.train")
N_BITS = 2048
#: Largest difference allowed between the stored form's prediction and the library's (float32 sums in boosters).
STORED_TOLERANCE = 1e-5
#: About this many training molecules (evenly spaced) take part in that check.
CHECK_ROWS = 2000
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


def _library_predict(model, x: np.ndarray, kind: str = "") -> np.ndarray:
    if kind == "svc":  # stored as its decision function (the builder maps it through a logistic)
        return model.decision_function(x)
    return model.predict_proba(x)[:, 1] if hasattr(model, "predict_proba") else model.predict(x)


def _stored_predict(model, kind: str, raw: bytes | None) -> tuple[dict[str, np.ndarray] | None, object]:
    """The arrays to store (``None`` for boosters) and a predictor of the stored form."""
    if kind == "xgboost":
        try:
            return None, FlatBooster.from_json(json.loads(raw)).predict
        except UnsupportedTrees:
            return None, None  # loaded through XGBoost itself
    svm = kind in ("svr", "svc")
    flat = FlatSVR.from_sklearn(model) if svm else FlatTrees.from_sklearn(model)
    tensors = flat.tensors()
    stored = FlatSVR.from_tensors(tensors) if svm else FlatTrees.from_tensors(tensors)
    return tensors, (stored.predict if svm else stored.mean)


def save_member(model, kind: str, folder: Path, stem: str, x: np.ndarray, tolerance: float = STORED_TOLERANCE) -> dict:
    """Write one model and return its weight entry; refuses when the stored form predicts more than ``tolerance``
    away (continuous inputs such as standardized descriptors or embeddings round at float32 in an SVR's products:
    pass a looser tolerance for them)."""
    raw = bytes(model.get_booster().save_raw(raw_format="json")) if kind == "xgboost" else None
    tensors, stored = _stored_predict(model, kind, raw)
    if stored is not None and len(x):
        sample = x[:: max(1, len(x) // CHECK_ROWS)]
        gap = float(np.abs(stored(sample) - _library_predict(model, sample, kind)).max())
        if gap > tolerance:
            raise RuntimeError(f"{stem}: the stored form predicts up to {gap:.2g} away from the fitted model")
    if kind == "xgboost":
        # XGBoost's JSON model format, gzip-compressed (about 6x smaller; multi-task sets have many models)
        path = folder / f"{stem}.json.gz"
        path.write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
        return {"file": path.name, "format": "xgboost-json"}
    from safetensors.numpy import save_file

    path = folder / f"{stem}.safetensors"
    save_file(tensors, str(path))
    return {"file": path.name, "format": "safetensors"}


def save_shared_svms(
    models: dict[int, object], kind: str, folder: Path, stem: str, x: np.ndarray, tolerance: float = STORED_TOLERANCE
) -> list[dict]:
    """Write the SVMs of one seed's tasks with one shared matrix of support vectors (:func:`share_support`): the
    matrix as ``<stem>_support.safetensors`` (role ``support``) and each task's arrays as ``<stem>_task<t>``;
    returns the weight entries (``task`` set for the tasks' files). Refuses, as :func:`save_member` does, when a
    stored task predicts more than ``tolerance`` away from its fitted model."""
    from safetensors.numpy import save_file

    from workbench.models.builders.flat_svr import share_support

    tasks = sorted(models)
    shared, arrays = share_support([FlatSVR.from_sklearn(models[t]) for t in tasks])
    sample = x[:: max(1, len(x) // CHECK_ROWS)]
    entries = []
    path = folder / f"{stem}_support.safetensors"
    save_file({"support": shared}, str(path))
    entries.append({"file": path.name, "format": "safetensors", "task": None, "role": "support"})
    for t, tensors in zip(tasks, arrays, strict=True):
        if len(sample):
            stored = FlatSVR.from_tensors(tensors, shared).predict(sample)
            gap = float(np.abs(stored - _library_predict(models[t], sample, kind)).max())
            if gap > tolerance:
                raise RuntimeError(f"{stem}_task{t}: the stored form predicts up to {gap:.2g} from the fitted model")
        path = folder / f"{stem}_task{t}.safetensors"
        save_file(tensors, str(path))
        entries.append({"file": path.name, "format": "safetensors", "task": t})
    return entries


def train_baseline(cfg: BaselineConfig, *, models_dir: str | Path = "models", command: str = "") -> dict:
    """Train ``cfg.seeds`` baselines, write ``models/<name>/`` and return the card."""
    prep = prepare(cfg.dataset, cfg.split)
    x = ecfp_batch(prep.mols, n_bits=cfg.n_bits).astype(np.float32)
    folder = Path(models_dir) / cfg.name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        if old.name.endswith((".json", ".json.gz", ".skops", ".safetensors")):
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
            entry = save_member(model, cfg.model, folder, f"seed{seed}_task{t}", x)
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
