"""Train a model on a user's data: split, search the families, select on validation, calibrate, refit, test.

The order keeps the test molecules untouched until the end:

1. split the molecules (scaffold by default, random, or the user's own split column); an empty validation part is
   carved from training (a seeded 10 %);
2. fit every candidate of :func:`~workbench.custom.families.candidates` on train, score it on validation and
   choose the best (regression: RMSE relative to the target's spread; classification: ROC-AUC);
3. cross-fit the chosen configuration on train + validation (:data:`FOLDS` folds) for out-of-fold predictions,
   from which the Platt calibration (classification) or the conformal half-width (regression) is fitted;
4. refit the chosen configuration on train + validation (1 seed quick, 3 seeds thorough) and predict the test
   molecules once: metrics with bootstrap intervals, interval coverage, and for potencies the RMSE on activity-cliff
   molecules (MoleculeACE's rules over the whole set) against the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.custom.data import CustomDataError, UserData
from workbench.custom.families import Candidate, candidates, fit_member, predict_member
from workbench.custom.uncertainty import (
    apply_platt,
    bootstrap_ci,
    classification_metrics,
    conformal_halfwidth,
    fit_platt,
    regression_metrics,
)
from workbench.data.splits import Split, random_split, scaffold_split

__all__ = ["EFFORTS", "FOLDS", "CustomConfig", "CustomResult", "TaskModel", "TrainingCancelled", "train_custom"]

EFFORTS = ("quick", "thorough")
FOLDS = 5
Progress = Callable[[float, str], None]


class TrainingCancelled(RuntimeError):
    """The user stopped the run; nothing was written."""


@dataclass(frozen=True)
class CustomConfig:
    """What decides a run besides the data (recorded in the card)."""

    split: str = "scaffold"  # scaffold | random | column:NAME
    effort: str = "quick"
    seed: int = 0
    coverage: float = 0.9
    jobs: int = 1


@dataclass
class TaskModel:
    """The refitted models of one target and what calibrates them."""

    target: str
    classification: bool
    members: list = field(default_factory=list)  # one fitted model per seed
    seeds: list[int] = field(default_factory=list)
    platt: tuple[float, float] | None = None
    halfwidth: float | None = None


@dataclass
class CustomResult:
    """Everything a run produced: the models, the search, the test predictions and metrics."""

    data: UserData
    config: CustomConfig
    split: Split
    features: object  # FittedFeatures of the chosen candidate, fitted on train + validation
    chosen: Candidate
    search: list[dict]
    tasks: list[TaskModel]
    test_pred: np.ndarray  # (n_test, n_targets): calibrated probabilities or values
    metrics: dict[str, dict[str, float]]
    intervals: dict[str, dict[str, tuple[float, float]]]
    valid_metrics: dict[str, dict[str, float]]
    cliff_mol: np.ndarray | None = None  # per molecule, for potency data
    seconds: float = 0.0
    log: list[str] = field(default_factory=list)

    def test_table(self) -> pd.DataFrame:
        """One row per test molecule and target: observed, predicted, interval, absolute error, cliff flag."""
        rows = []
        for t, task in enumerate(self.tasks):
            for k, i in enumerate(self.split.test):
                obs = self.data.y[i, t]
                if not np.isfinite(obs):
                    continue
                pred = float(self.test_pred[k, t])
                row = {"smiles": self.data.smiles[i], "target": task.target, "observed": obs, "predicted": pred}
                if task.halfwidth is not None:
                    row |= {"lower": pred - task.halfwidth, "upper": pred + task.halfwidth}
                row["abs_error"] = abs(pred - obs)
                if self.cliff_mol is not None:
                    row["cliff_mol"] = bool(self.cliff_mol[i])
                rows.append(row)
        return pd.DataFrame(rows)


def make_user_split(data: UserData, spec: str, seed: int = 0) -> tuple[Split, list[str]]:
    """The split named by ``spec`` over the data's molecules, and notes on what was adjusted."""
    n, notes = len(data.smiles), []
    if spec == "scaffold":
        split = scaffold_split(data.smiles)
    elif spec == "random":
        split = random_split(n, seed=seed)
    elif spec.startswith("column:"):
        labels = np.array(data.split_labels or [])
        if len(labels) != n:
            raise CustomDataError(f"the split '{spec}' needs the table read with that split column")
        parts = [np.flatnonzero(labels == p) for p in ("train", "valid", "test")]
        split = Split(*parts, kind=spec, seed=None, fractions=None)
    else:
        raise CustomDataError(f"unknown split '{spec}'; use scaffold, random or column:NAME")
    if not len(split.valid):
        shuffled = np.random.default_rng(seed).permutation(split.train)
        cut = max(1, round(0.1 * len(shuffled)))
        split = Split(np.sort(shuffled[cut:]), np.sort(shuffled[:cut]), split.test, split.kind, seed, split.fractions)
        notes.append(f"no validation molecules in the split: a seeded 10 % of training ({cut}) validates")
    if len(split.train) < 10 or not len(split.test):
        raise CustomDataError(
            f"the {spec} split leaves {len(split.train)} training and {len(split.test)} test molecules; "
            "a model needs at least 10 to train on and 1 to test"
        )
    return split, notes


def _score(data: UserData, rows: np.ndarray, pred: np.ndarray) -> float:
    """Higher is better: mean ROC-AUC (classification) or minus RMSE over the target's spread (regression)."""
    scores, pred = [], pred[rows]
    for t in range(data.y.shape[1]):
        y = data.y[rows, t]
        ok = np.isfinite(y)
        if not ok.any():
            continue
        if data.task_type == "classification":
            m = classification_metrics(y[ok], pred[ok, t])
            scores.append(m["roc_auc"] if np.isfinite(m["roc_auc"]) else -m["brier"])
        else:
            spread = np.nanstd(data.y[:, t]) or 1.0
            scores.append(-regression_metrics(y[ok], pred[ok, t])["rmse"] / spread)
    return float(np.mean(scores)) if scores else float("nan")


def _fit_predict(
    data: UserData, cand: Candidate, x: np.ndarray, fit_rows: np.ndarray, seed: int, jobs: int
) -> tuple[list, np.ndarray]:
    """Fit one model per target on ``fit_rows`` and predict every molecule."""
    classification = data.task_type == "classification"
    models, pred = [], np.full((len(x), data.y.shape[1]), np.nan)
    for t in range(data.y.shape[1]):
        rows = fit_rows[np.isfinite(data.y[fit_rows, t])]
        model = fit_member(cand, x[rows], data.y[rows, t], classification, seed, jobs)
        models.append(model)
        pred[:, t] = predict_member(model, x)
    return models, pred


def _features(name: str, mols, fit_rows: np.ndarray):
    from workbench.featurizers.feature_sets import fit_features

    fitted = fit_features(name, [mols[i] for i in fit_rows])
    x, notes = fitted.transform(mols)
    return fitted, x, sum(bool(n) for n in notes)


def _cliffs(data: UserData) -> np.ndarray | None:
    """Cliff molecules by MoleculeACE's rules when the single target is a (log) potency."""
    if data.task_type != "regression" or len(data.targets) != 1 or data.transform == "none":
        return None
    from workbench.cliffs.rules import find_cliffs

    y = data.y[:, 0]
    nm = 10 ** (9.0 - y) if data.transform == "pIC50-from-nM" else 10**y  # fold changes are unit-free
    return find_cliffs(data.smiles, nm, unit="nM").cliff_mol


def train_custom(
    data: UserData,
    config: CustomConfig = CustomConfig(),
    *,
    progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> CustomResult:
    """Run the whole protocol of the module docstring on ``data``.

    Raises:
        CustomDataError: the split cannot be made or leaves too little to train or test.
        TrainingCancelled: ``should_stop`` returned True between two fits.
    """
    started = time.perf_counter()
    log: list[str] = []
    split, notes = make_user_split(data, config.split, config.seed)
    log += notes
    grid = candidates(data.task_type, config.effort)
    seeds = [config.seed] if config.effort == "quick" else [config.seed, config.seed + 1, config.seed + 2]
    total = len(grid) + FOLDS + len(seeds) + 2  # + the split and the choice
    done = 0

    def step(message: str) -> None:
        nonlocal done
        if should_stop is not None and should_stop():
            raise TrainingCancelled("training was cancelled")
        log.append(message)
        if progress is not None:
            progress(done / total, message)
        done += 1

    step(f"split ({split.kind}): {len(split.train)} train, {len(split.valid)} validation, {len(split.test)} test")
    features: dict[str, np.ndarray] = {}
    search, valid_preds = [], []
    for cand in grid:
        if cand.features not in features:
            _, features[cand.features], noted = _features(cand.features, data.mols, split.train)
            if noted:
                log.append(f"{cand.features}: {noted} molecule(s) had features imputed (see the feature set's notes)")
        t0 = time.perf_counter()
        _, pred = _fit_predict(data, cand, features[cand.features], split.train, config.seed, config.jobs)
        score = _score(data, split.valid, pred)
        valid_preds.append(pred[split.valid])
        search.append(
            {**cand.to_json(), "label": cand.label, "valid_score": score, "seconds": time.perf_counter() - t0}
        )
        step(f"{cand.label}: validation score {score:.4f}")
    scores = [s["valid_score"] if np.isfinite(s["valid_score"]) else -np.inf for s in search]
    best = int(np.argmax(scores))
    chosen = grid[best]
    search[best]["chosen"] = True
    fit_rows = np.sort(np.concatenate([split.train, split.valid]))
    fitted, x, _ = _features(chosen.features, data.mols, fit_rows)
    step(f"chosen: {chosen.label}; cross-fitting {FOLDS} folds on train + validation for calibration")
    oof = np.full(data.y.shape, np.nan)
    folds = np.random.default_rng(config.seed).permutation(len(fit_rows)) % FOLDS
    for f in range(FOLDS):
        _, pred = _fit_predict(data, chosen, x, fit_rows[folds != f], config.seed, config.jobs)
        oof[fit_rows[folds == f]] = pred[fit_rows[folds == f]]
        step(f"fold {f + 1} of {FOLDS}")
    tasks = []
    classification = data.task_type == "classification"
    for t, target in enumerate(data.task_names):
        ok = fit_rows[np.isfinite(data.y[fit_rows, t])]
        task = TaskModel(target, classification)
        if classification:
            task.platt = fit_platt(oof[ok, t], data.y[ok, t])
        else:
            task.halfwidth = conformal_halfwidth(oof[ok, t] - data.y[ok, t], config.coverage)
        tasks.append(task)
    member_seeds = seeds[:1] if chosen.family == "svr" else seeds  # SVR is deterministic
    test_raw = []
    for seed in member_seeds:
        models, pred = _fit_predict(data, chosen, x, fit_rows, seed, config.jobs)
        for task, model in zip(tasks, models, strict=True):
            task.members.append(model)
            task.seeds.append(seed)
        test_raw.append(pred)
        step(f"refit on train + validation, seed {seed}")
    for pred in test_raw:  # each member calibrated, then averaged: as the tabular builder predicts
        for t, task in enumerate(tasks):
            if task.platt is not None:
                pred[:, t] = apply_platt(pred[:, t], *task.platt)
    calibrated = np.mean(test_raw, axis=0)
    cliff_mol = _cliffs(data)
    metrics, intervals = _test_metrics(data, split, calibrated, tasks, cliff_mol, config.seed)
    valid_metrics = _valid_metrics(data, split, valid_preds[best])
    log.append("done")
    if progress is not None:
        progress(1.0, "done")
    return CustomResult(
        data=data,
        config=config,
        split=split,
        features=fitted,
        chosen=chosen,
        search=search,
        tasks=tasks,
        test_pred=calibrated[split.test],
        metrics=metrics,
        intervals=intervals,
        valid_metrics=valid_metrics,
        cliff_mol=cliff_mol,
        seconds=time.perf_counter() - started,
        log=log,
    )


def _valid_metrics(data: UserData, split: Split, pred: np.ndarray) -> dict[str, dict[str, float]]:
    """The chosen candidate's validation metrics (fitted on train only; validation chose it, so optimistic)."""
    out = {}
    for t, target in enumerate(data.task_names):
        ok = np.isfinite(data.y[split.valid, t])
        y, p = data.y[split.valid, t][ok], pred[ok, t]
        if data.task_type == "classification":
            out[target] = classification_metrics(y, p)
        else:
            out[target] = regression_metrics(y, p)
    return out


def _test_metrics(
    data: UserData, split: Split, pred: np.ndarray, tasks: list[TaskModel], cliff_mol: np.ndarray | None, seed: int
) -> tuple[dict, dict]:
    metrics: dict[str, dict[str, float]] = {}
    intervals: dict[str, dict[str, tuple[float, float]]] = {}
    for t, task in enumerate(tasks):
        rows = split.test[np.isfinite(data.y[split.test, t])]
        y, p = data.y[rows, t], pred[rows, t]
        if task.classification:
            m = classification_metrics(y, p)
            ci = {
                k: bootstrap_ci(lambda a, b, k=k: classification_metrics(a, b)[k], y, p, seed=seed)
                for k in ("roc_auc", "pr_auc")
            }
        else:
            m = regression_metrics(y, p, task.halfwidth)
            m["interval_halfwidth"] = float(task.halfwidth)
            rmse = lambda a, b: float(np.sqrt(np.mean((a - b) ** 2)))  # noqa: E731
            ci = {"rmse": bootstrap_ci(rmse, y, p, seed=seed)}
            if cliff_mol is not None:
                cliff = cliff_mol[rows]
                m["rmse_cliff"] = rmse(y[cliff], p[cliff]) if cliff.any() else float("nan")
                m["rmse_non_cliff"] = rmse(y[~cliff], p[~cliff]) if (~cliff).any() else float("nan")
                m["cliff_molecules"] = float(cliff.sum())
        m["molecules"] = float(len(rows))
        metrics[task.target] = m
        intervals[task.target] = ci
    return metrics, intervals
