"""A small live comparison for the Task transfer page: a few arms on one target task, a few epochs, a sample.

:func:`check_setup` answers in one sentence whether a data set, target and label fraction can be used (a data
set with one task, or a fraction that leaves the target without a positive training label, cannot);
:func:`run_live` masks the labels as the benchmark does, trains the chosen arms on a seeded sample of the
training molecules (every molecule that keeps a target label, then others up to ``max_train``) and scores them
on the full validation and test labels; :func:`predict_molecule` gives a molecule's target probability under
each arm trained. The benchmark (``workbench bench transfer``) is the full-size version.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.transfer.arms import ARMS, TrainSettings, run_gin_arm
from workbench.transfer.cells import target_scores
from workbench.transfer.data import cached_transfer_data
from workbench.transfer.protocol import MaskedLabels, TransferSetupError, check_tasks, display_name, mask_labels

__all__ = [
    "LIVE_ARMS",
    "USER_ERRORS",
    "LiveCancelled",
    "LiveRequest",
    "LiveResult",
    "check_setup",
    "predict_molecule",
    "run_live",
]

#: Arms the page can train live (the GIN arms that need no second stage).
LIVE_ARMS = ("single", "mtl", "kt")
#: Errors that mean bad input (one sentence for the user), not a bug.
USER_ERRORS = (TransferSetupError,)


class LiveCancelled(RuntimeError):
    """The user cancelled the live run."""


@dataclass(frozen=True)
class LiveRequest:
    """The page's choices for one live comparison."""

    dataset: str
    target: str
    fraction: float
    arms: tuple[str, ...] = ("single", "mtl")
    epochs: int = 3
    max_train: int = 1500
    seed: int = 0
    init: str | None = None  # an encoder folder, or None: from scratch

    def label(self) -> str:
        return f"{', '.join(self.arms)} on {self.dataset} {self.target} at {self.fraction * 100:g} % labels"

    def command(self) -> str:
        """The benchmark command that runs this target (at full size, all arms and seeds)."""
        return (
            f"workbench bench transfer --datasets {self.dataset} --target-sets '{self.target}' "
            f"--fractions {self.fraction:g} --sweep-arms {' '.join(self.arms)}"
        )


@dataclass
class LiveResult:
    """What the live run measured, and its trained arms (for predictions)."""

    request: LiveRequest
    scores: pd.DataFrame  # arm, what, test ROC-AUC, validation ROC-AUC, epochs, seconds
    kept: int
    positives: int
    train_molecules: int
    predictors: dict[str, Callable] = field(default_factory=dict, repr=False)
    dependency: pd.DataFrame | None = None  # arm (d): weight of each source task for the target


def check_setup(dataset: str, target: str | None, fraction: float, seed: int = 0) -> MaskedLabels:
    """The masked labels of a target at a fraction; raises :class:`TransferSetupError` with one sentence if unusable."""
    from workbench.data.prepared import load_named_dataset

    table = load_named_dataset(dataset)
    check_tasks(table.name, table.tasks, table.task_type)
    data = cached_transfer_data(dataset)
    if target not in data.tasks:
        raise TransferSetupError(f"{display_name(dataset)} has no task named '{target}'")
    return mask_labels(data.y, data.train, data.tasks, (target,), fraction, seed)


def _sample(masked: MaskedLabels, train: np.ndarray, max_train: int, seed: int) -> np.ndarray:
    """Every training row that keeps a target label, then other labelled rows (seeded) up to ``max_train``."""
    column = masked.target_index[0]
    target_rows = train[~np.isnan(masked.y[train, column])]
    labelled = train[~np.isnan(masked.y[train]).all(axis=1)]
    others = np.setdiff1d(labelled, target_rows)
    room = max(0, max_train - len(target_rows))
    picked = np.random.default_rng(seed).permutation(others)[:room]
    return np.sort(np.concatenate([target_rows, picked]))


def run_live(
    request: LiveRequest, progress: Callable[[float, str], None], should_stop: Callable[[], bool]
) -> LiveResult:
    """Train the request's arms and score them on the target's full validation and test labels.

    Raises:
        TransferSetupError: the data set, target or fraction cannot be used.
        LiveCancelled: ``should_stop`` answered True (checked after every epoch).
    """
    unknown = [a for a in request.arms if a not in LIVE_ARMS]
    if unknown or not request.arms:
        raise TransferSetupError(f"choose the arms among {', '.join(LIVE_ARMS)}")
    progress(0.0, f"loading {request.dataset}")
    masked = check_setup(request.dataset, request.target, request.fraction, request.seed)
    data = cached_transfer_data(request.dataset)
    rows = _sample(masked, data.train, request.max_train, request.seed)
    settings = TrainSettings(epochs=request.epochs, patience=request.epochs, init=request.init)
    result = LiveResult(
        request, pd.DataFrame(), masked.kept[request.target], masked.positives[request.target], len(rows)
    )
    records = []
    for k, arm in enumerate(request.arms):

        def step(fraction: float, message: str, k: int = k, arm: str = arm) -> None:
            if should_stop():
                raise LiveCancelled("cancelled")
            progress((k + fraction) / len(request.arms), f"{arm}: {message}")

        step(0.0, "starting")
        started = time.perf_counter()
        outcome = run_gin_arm(arm, data, masked, settings, train_idx=rows, progress=step)
        test, valid = target_scores(outcome, data, "test"), target_scores(outcome, data, "valid")
        records.append(
            {
                "arm": arm,
                "what": ARMS[arm],
                "test ROC-AUC": test[request.target],
                "validation ROC-AUC": valid[request.target],
                "epochs": int(sum(outcome.epochs_run)),
                "seconds": round(time.perf_counter() - started, 1),
            }
        )
        result.predictors[arm] = outcome.predict
        if "dependency" in outcome.extras:
            beta = np.asarray(outcome.extras["dependency"])[masked.target_index[0]]
            result.dependency = pd.DataFrame({"source": data.tasks, "weight": beta}).query("source != @request.target")
    result.scores = pd.DataFrame(records)
    progress(1.0, "done")
    return result


def predict_molecule(result: LiveResult, smiles: str) -> tuple[pd.DataFrame, str]:
    """The target probability of one molecule under each arm trained; ``(table, error)`` (error: one sentence)."""
    from workbench.chem import parse_one
    from workbench.featurizers import FeaturizationError, mol_to_graph

    parsed = parse_one(smiles, inchikey=False)
    if not parsed.ok:
        return pd.DataFrame(), f"Cannot use this input — {parsed.error}"
    try:
        graph = mol_to_graph(parsed.mol)
    except FeaturizationError as exc:
        return pd.DataFrame(), f"This molecule cannot be turned into a graph: {exc}"
    rows = [
        {"arm": arm, "what": ARMS[arm], f"P({result.request.target})": float(predict([graph])[0, 0])}
        for arm, predict in result.predictors.items()
        if predict is not None
    ]
    return pd.DataFrame(rows), ""
