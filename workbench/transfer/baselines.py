"""Two cheap baselines a chemist would try first: XGBoost on ECFP4, alone and with the helper tasks' predictions.

* ``xgb``: one XGBoost classifier per target task on ECFP4 (2048 bits) of the molecules with a kept label.
* ``xgb_helpers``: the same, with one extra feature per helping task: that task's predicted probability from an
  XGBoost trained on the helper's kept labels. Training molecules get *out-of-fold* probabilities (``folds``
  folds over the training rows, seeded), so the target model never sees a helper prediction made with the
  molecule's own label; validation and test molecules get the mean over the fold models.

Both stop early on the validation molecules' target labels (as the GIN arms do), at most :data:`N_TREES` trees.
"""

from __future__ import annotations

import time

import numpy as np

from workbench.transfer.arms import ArmOutcome
from workbench.transfer.data import TransferData
from workbench.transfer.protocol import MaskedLabels

__all__ = ["BASELINE_ARMS", "HelperCache", "helper_features", "run_baseline"]

BASELINE_ARMS = ("xgb", "xgb_helpers")
N_TREES = 400
HELPER_TREES = 150
EARLY_STOP = 30

#: helper predictions by (data set, seed, helper column, helper fraction): a helper's mask depends on nothing else
HelperCache = dict[tuple[str, int, int, float], np.ndarray]


def _classifier(seed: int, n_trees: int, early: bool, jobs: int):
    import xgboost as xgb

    return xgb.XGBClassifier(
        n_estimators=n_trees,
        max_depth=6,
        learning_rate=0.05,
        subsample=0.8,
        colsample_bytree=0.5,
        tree_method="hist",
        eval_metric="auc",
        early_stopping_rounds=EARLY_STOP if early else None,
        n_jobs=jobs,
        random_state=seed,
    )


def _sparse(x: np.ndarray):
    """Fingerprints as a CSR matrix: XGBoost's hist method is about 10× faster on sparse ECFP bits than dense."""
    import scipy.sparse

    return scipy.sparse.csr_matrix(x.astype(np.float32))


def helper_features(
    data: TransferData, masked: MaskedLabels, *, folds: int = 3, jobs: int = 2, cache: HelperCache | None = None
) -> np.ndarray:
    """``(n_molecules, n_helpers)`` predicted probabilities of the helping tasks (out of fold on training rows)."""
    x = _sparse(data.fingerprints())
    train = data.train
    fold_of = np.random.default_rng([masked.seed, 99]).integers(0, folds, size=len(train))
    columns = []
    for h in masked.helper_index:
        key = (data.name, masked.seed, h, masked.helper_fraction)
        if cache is not None and key in cache:
            columns.append(cache[key])
            continue
        labels = masked.y[train, h]
        out = np.zeros(x.shape[0])
        others = np.ones(x.shape[0], dtype=bool)
        others[train] = False
        for f in range(folds):
            fit_rows = (fold_of != f) & ~np.isnan(labels)
            model = _classifier(masked.seed, HELPER_TREES, early=False, jobs=jobs)
            model.fit(x[train[fit_rows]], labels[fit_rows].astype(int))
            probs = model.predict_proba(x)[:, 1]  # every molecule (a fast pass)
            own = train[fold_of == f]
            out[own] = probs[own]
            out[others] += probs[others] / folds
        if cache is not None:
            cache[key] = out
        columns.append(out)
    return np.stack(columns, axis=1) if columns else np.zeros((x.shape[0], 0))


def run_baseline(
    arm: str,
    data: TransferData,
    masked: MaskedLabels,
    *,
    train_idx: np.ndarray | None = None,
    jobs: int = 2,
    cache: HelperCache | None = None,
) -> ArmOutcome:
    """Fit one XGBoost per target task and predict the validation and test molecules."""
    if arm not in BASELINE_ARMS:
        raise ValueError(f"unknown baseline '{arm}' (one of {', '.join(BASELINE_ARMS)})")
    started = time.perf_counter()
    train = np.asarray(data.train if train_idx is None else train_idx)
    x = _sparse(data.fingerprints())
    if arm == "xgb_helpers":
        helpers = helper_features(data, masked, jobs=jobs, cache=cache).astype(np.float32)
        x = _sparse(np.hstack([data.fingerprints().astype(np.float32), helpers]))
    valid_parts, test_parts, rounds = [], [], []
    for column in masked.target_index:
        rows = train[~np.isnan(masked.y[train, column])]
        valid_rows = data.valid[~np.isnan(data.y[data.valid, column])]
        model = _classifier(masked.seed, N_TREES, early=True, jobs=jobs)
        model.fit(
            x[rows], masked.y[rows, column].astype(int),
            eval_set=[(x[valid_rows], data.y[valid_rows, column].astype(int))], verbose=False,
        )  # fmt: skip
        valid_parts.append(model.predict_proba(x[data.valid])[:, 1])
        test_parts.append(model.predict_proba(x[data.test])[:, 1])
        rounds.append(int(getattr(model, "best_iteration", N_TREES - 1) or 0) + 1)
    return ArmOutcome(
        arm,
        masked.targets,
        np.stack(valid_parts, axis=1),
        np.stack(test_parts, axis=1),
        best_epochs=rounds,
        epochs_run=rounds,
        seconds=time.perf_counter() - started,
        extras={"trees": rounds},
    )
