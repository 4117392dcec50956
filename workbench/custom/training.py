"""Train a model on a user's data: split, search the families, select, calibrate, refit, test.

The order keeps the test molecules untouched until the end:

1. split the molecules (scaffold by default, random, or the user's own split column); an empty validation part is
   carved from training (a seeded 10 %);
2. fit every candidate of :func:`~workbench.custom.families.candidates` on train and score it on validation
   (regression: RMSE relative to the target's spread; classification: ROC-AUC);
3. cross-fit on train + validation (:data:`FOLDS` folds) for out-of-fold predictions. Quick: the candidate best on
   validation is chosen and cross-fitted. Thorough: the best candidate of each of the :data:`TOP_K` best
   (family, features) pairs on validation is cross-fitted, and the choice among them and the means of the best two
   and three is made on the out-of-fold score over all of train + validation (five times the molecules the
   validation part holds, so a lucky validation score decides less). The chosen model's out-of-fold predictions
   fit the Platt calibration (classification) or the conformal half-width (regression);
4. refit the chosen model on train + validation (one candidate: 1 seed quick, 3 seeds thorough; a mean of
   candidates: 1 seed each) and predict the test molecules once: metrics with bootstrap intervals, interval
   coverage, and for potencies the RMSE on activity-cliff molecules (MoleculeACE's rules over the whole set)
   against the rest.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.custom.data import CustomDataError, UserData
from workbench.custom.evaluation import cliff_molecules, selection_score, test_metrics, valid_metrics
from workbench.custom.families import GRAPH_FEATURES, Candidate, Chosen, candidates, fit_member, predict_member
from workbench.custom.uncertainty import apply_platt, conformal_halfwidth, fit_platt
from workbench.data.splits import Split, random_split, scaffold_split

__all__ = [
    "EFFORTS",
    "FOLDS",
    "TOP_K",
    "CustomConfig",
    "CustomResult",
    "TaskModel",
    "TrainingCancelled",
    "train_custom",
]

EFFORTS = ("quick", "thorough")
FOLDS = 5
TOP_K = 3
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
    members: list = field(default_factory=list)  # one fitted model per component and seed
    seeds: list[int] = field(default_factory=list)
    components: list[int] = field(default_factory=list)  # each member's index in Chosen.components
    platt: tuple[float, float] | None = None
    halfwidth: float | None = None


@dataclass
class CustomResult:
    """Everything a run produced: the models, the search, the test predictions and metrics."""

    data: UserData
    config: CustomConfig
    split: Split
    features: list  # per chosen component: its FittedFeatures fitted on train + validation (None for graphs)
    chosen: Chosen
    search: list[dict]
    ensembles: list[dict]  # thorough: the means of the best candidates and their out-of-fold scores
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


def _fit_predict(
    data: UserData, cand: Candidate, x, fit_rows: np.ndarray, seed: int, jobs: int, check=None
) -> tuple[list, np.ndarray]:
    """Fit one model per target on ``fit_rows`` and predict every molecule."""
    classification = data.task_type == "classification"
    models, pred = [], np.full((len(x), data.y.shape[1]), np.nan)
    for t in range(data.y.shape[1]):
        rows = fit_rows[np.isfinite(data.y[fit_rows, t])]
        if cand.family == "gin":  # the graph rows stay whole: labels outside the fit rows are masked instead
            y = np.full(len(x), np.nan)
            y[rows] = data.y[rows, t]
            model = fit_member(cand, x, y, classification, seed, jobs, check=check)
        else:
            model = fit_member(cand, x[rows], data.y[rows, t], classification, seed, jobs)
        models.append(model)
        pred[:, t] = predict_member(model, x)
    return models, pred


def _features(name: str, mols, fit_rows: np.ndarray):
    """``(fitted, x, noted)``: the feature set fitted on ``fit_rows``, every molecule's rows, how many were noted."""
    if name == GRAPH_FEATURES:
        from workbench.custom.gin_member import graph_rows

        x, errors = graph_rows(mols)
        return None, x, sum(bool(e) for e in errors)
    from workbench.featurizers.feature_sets import fit_features

    fitted = fit_features(name, [mols[i] for i in fit_rows])
    x, notes = fitted.transform(mols)
    return fitted, x, sum(bool(n) for n in notes)


def _mean(preds: list[np.ndarray]) -> np.ndarray:
    """The members' mean, ignoring a member without a prediction for a molecule (NaN)."""
    stacked = np.stack(preds)
    count = np.isfinite(stacked).sum(axis=0)
    total = np.nansum(stacked, axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _shortlist(grid: list[Candidate], search: list[dict], k: int) -> list[int]:
    """The best candidate of each of the ``k`` best (family, features) pairs on validation, best first."""
    order = sorted(
        range(len(grid)), key=lambda i: -search[i]["valid_score"] if np.isfinite(search[i]["valid_score"]) else np.inf
    )
    kept, seen = [], set()
    for i in order:
        key = (grid[i].family, grid[i].features)
        if key not in seen and np.isfinite(search[i]["valid_score"]):
            kept.append(i)
            seen.add(key)
    return kept[:k] or order[:1]


def _choose(options: list[tuple[int, ...]], scores: list[float]) -> tuple[int, ...]:
    """The option with the best out-of-fold score (the first on a tie: a single candidate before a mean)."""
    return options[int(np.nanargmax(scores))]


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
        TrainingCancelled: ``should_stop`` returned True between two fits (or two of a GIN's epochs).
    """
    started = time.perf_counter()
    log: list[str] = []
    split, notes = make_user_split(data, config.split, config.seed)
    log += notes
    thorough = config.effort == "thorough"
    encoder = None
    if thorough:
        from workbench.custom.gin_member import default_encoder

        encoder = default_encoder()
        if encoder is None:
            log.append("no pretrained encoder is registered: the GIN family is left out of the search")
    grid = candidates(data.task_type, config.effort, encoder=encoder)
    seeds = [config.seed, config.seed + 1, config.seed + 2] if thorough else [config.seed]
    n_cv = min(TOP_K, len(grid)) if thorough else 1
    total = len(grid) + n_cv * FOLDS + len(seeds) * (n_cv if thorough else 1) + 2
    done = 0

    def check() -> None:
        if should_stop is not None and should_stop():
            raise TrainingCancelled("training was cancelled")

    def step(message: str) -> None:
        nonlocal done
        check()
        log.append(message)
        if progress is not None:
            progress(min(done / total, 0.99), message)
        done += 1

    step(f"split ({split.kind}): {len(split.train)} train, {len(split.valid)} validation, {len(split.test)} test")
    features: dict[str, object] = {}
    search, valid_preds = [], []
    for cand in grid:
        if cand.features not in features:
            _, features[cand.features], noted = _features(cand.features, data.mols, split.train)
            if noted:
                log.append(f"{cand.features}: {noted} molecule(s) had features imputed or no graph (see its notes)")
        t0 = time.perf_counter()
        _, pred = _fit_predict(data, cand, features[cand.features], split.train, config.seed, config.jobs, check)
        score = selection_score(data, split.valid, pred)
        valid_preds.append(pred[split.valid])
        search.append(
            {**cand.to_json(), "label": cand.label, "valid_score": score, "seconds": time.perf_counter() - t0}
        )
        step(f"{cand.label}: validation score {score:.4f}")
    fit_rows = np.sort(np.concatenate([split.train, split.valid]))
    fitted_features: dict[str, object] = {}
    x_fit: dict[str, object] = {}
    folds = np.random.default_rng(config.seed).permutation(len(fit_rows)) % FOLDS
    shortlist = _shortlist(grid, search, n_cv)
    oof: dict[int, np.ndarray] = {}
    for i in shortlist:
        cand = grid[i]
        if cand.features not in x_fit:
            fitted_features[cand.features], x_fit[cand.features], _ = _features(cand.features, data.mols, fit_rows)
        oof[i] = np.full(data.y.shape, np.nan)
        for f in range(FOLDS):
            _, pred = _fit_predict(
                data, cand, x_fit[cand.features], fit_rows[folds != f], config.seed, config.jobs, check
            )
            oof[i][fit_rows[folds == f]] = pred[fit_rows[folds == f]]
            step(f"{cand.label}: cross-fit fold {f + 1} of {FOLDS}")
        search[i]["cv_score"] = selection_score(data, fit_rows, oof[i])
    options = [(i,) for i in shortlist]
    if thorough:
        options += [tuple(shortlist[:n]) for n in (2, 3) if len(shortlist) >= n]
    option_scores = [selection_score(data, fit_rows, _mean([oof[i] for i in opt])) for opt in options]
    best = _choose(options, option_scores) if thorough else options[0]
    chosen = Chosen(tuple(grid[i] for i in best))
    for i in best:
        search[i]["chosen"] = True
    ensembles = [
        {"components": [grid[i].label for i in opt], "cv_score": sc, "chosen": opt == best}
        for opt, sc in zip(options, option_scores, strict=True)
        if len(opt) > 1
    ]
    how = (
        f"out-of-fold score {option_scores[options.index(best)]:.4f} over train + validation"
        if thorough
        else "validation"
    )
    step(f"chosen on {how}: {chosen.label}")
    chosen_oof = _mean([oof[i] for i in best])
    tasks = []
    classification = data.task_type == "classification"
    for t, target in enumerate(data.task_names):
        ok = fit_rows[np.isfinite(data.y[fit_rows, t]) & np.isfinite(chosen_oof[fit_rows, t])]
        task = TaskModel(target, classification)
        if classification:
            task.platt = fit_platt(chosen_oof[ok, t], data.y[ok, t])
        else:
            task.halfwidth = conformal_halfwidth(chosen_oof[ok, t] - data.y[ok, t], config.coverage)
        tasks.append(task)
    test_raw = []
    for c, cand in enumerate(chosen.components):
        deterministic = cand.family == "svr"
        member_seeds = seeds[:1] if deterministic or not chosen.single else seeds
        for seed in member_seeds:
            models, pred = _fit_predict(data, cand, x_fit[cand.features], fit_rows, seed, config.jobs, check)
            for task, model in zip(tasks, models, strict=True):
                task.members.append(model)
                task.seeds.append(seed)
                task.components.append(c)
            test_raw.append(pred)
            step(f"refit {cand.label} on train + validation, seed {seed}")
    for pred in test_raw:  # each member calibrated, then averaged: as the tabular builder predicts
        for t, task in enumerate(tasks):
            if task.platt is not None:
                pred[:, t] = apply_platt(pred[:, t], *task.platt)
    calibrated = _mean(test_raw)
    cliff_mol = cliff_molecules(data)
    metrics, intervals = test_metrics(data, split, calibrated, tasks, cliff_mol, config.seed)
    valid = valid_metrics(data, split, _mean([valid_preds[i] for i in best]))
    log.append("done")
    if progress is not None:
        progress(1.0, "done")
    return CustomResult(
        data=data,
        config=config,
        split=split,
        features=[fitted_features[c.features] for c in chosen.components],
        chosen=chosen,
        search=search,
        ensembles=ensembles,
        tasks=tasks,
        test_pred=calibrated[split.test],
        metrics=metrics,
        intervals=intervals,
        valid_metrics=valid,
        cliff_mol=cliff_mol,
        seconds=time.perf_counter() - started,
        log=log,
    )
