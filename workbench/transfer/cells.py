"""One benchmark cell of the task-transfer lab: data set × target set × arm × label fraction × seed (× init).

:func:`run_cell` masks the labels (:func:`~workbench.transfer.protocol.mask_labels`), trains the arm and returns
one flat row: the mean test ROC-AUC over the target tasks, each target's test and validation ROC-AUC (JSON),
what the mask kept, and the cost (seconds, training molecules × epochs). The GIN networks of a cell live in
``<run_root>/<dataset>/<init>/<target set>/f<fraction>/seed<k>/e<epochs>/<network>``, so an interrupted cell
resumes from its last epoch and arm (e) reuses arm (b)'s network of the same seed.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from workbench.train.metrics import roc_auc
from workbench.transfer.arms import ARMS, GIN_ARMS, ArmOutcome, TrainSettings, run_gin_arm
from workbench.transfer.baselines import BASELINE_ARMS, HelperCache, run_baseline
from workbench.transfer.data import TransferData
from workbench.transfer.protocol import MaskedLabels, mask_labels, target_tasks

__all__ = ["CellKey", "run_arm", "run_cell", "target_scores"]


@dataclass(frozen=True)
class CellKey:
    """What identifies a cell (with the settings' epochs): a finished key is never run again."""

    dataset: str
    target_set: str
    arm: str
    fraction: float
    seed: int
    init: str = "none"  # "none" (from scratch) or the encoder's name

    def folder(self, epochs: int) -> Path:
        """The cell group's run folder, relative to the run root (shared by the arms of one seed)."""
        return Path(self.dataset, self.init, self.target_set, f"f{self.fraction:g}", f"seed{self.seed}", f"e{epochs}")


def run_arm(
    arm: str,
    data: TransferData,
    masked: MaskedLabels,
    settings: TrainSettings,
    *,
    train_idx: np.ndarray | None = None,
    run_dir: Path | None = None,
    cache: HelperCache | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> ArmOutcome:
    """Train any arm (GIN or XGBoost) on the masked labels."""
    if arm in GIN_ARMS:
        return run_gin_arm(arm, data, masked, settings, train_idx=train_idx, run_dir=run_dir, progress=progress)
    if arm in BASELINE_ARMS:
        return run_baseline(arm, data, masked, train_idx=train_idx, jobs=max(1, torch.get_num_threads()), cache=cache)
    raise ValueError(f"unknown arm '{arm}' (one of {', '.join(ARMS)})")


def target_scores(outcome: ArmOutcome, data: TransferData, part: str = "test") -> dict[str, float]:
    """ROC-AUC of each target task on the full labels of ``part`` (``test`` or ``valid``)."""
    rows = data.test if part == "test" else data.valid
    probs = outcome.test_probs if part == "test" else outcome.valid_probs
    return {
        task: roc_auc(data.y[rows][:, [data.tasks.index(task)]], probs[:, [k]])
        for k, task in enumerate(outcome.targets)
    }


def _json(values: dict) -> str:
    return json.dumps({k: (round(float(v), 5) if isinstance(v, float | np.floating) else v) for k, v in values.items()})


def run_cell(
    key: CellKey,
    data: TransferData,
    settings: TrainSettings,
    *,
    run_root: Path | None = None,
    cache: HelperCache | None = None,
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, object]:
    """Run one cell and return its row.

    Raises:
        LabelFractionError: the fraction leaves a target without one of the classes (nothing is trained).
    """
    started = time.perf_counter()
    targets = target_tasks(data.name, data.tasks, data.y[data.train], key.target_set)
    masked = mask_labels(data.y, data.train, data.tasks, targets, key.fraction, key.seed)
    run_dir = None if run_root is None else Path(run_root) / key.folder(settings.epochs)
    outcome = run_arm(key.arm, data, masked, settings, run_dir=run_dir, cache=cache, progress=progress)
    test, valid = target_scores(outcome, data, "test"), target_scores(outcome, data, "valid")
    return {
        **asdict(key),
        "targets": "+".join(targets),
        "n_targets": len(targets),
        "roc_auc": float(np.nanmean(list(test.values()))),
        "valid_roc_auc": float(np.nanmean(list(valid.values()))),
        "task_auc": _json(test),
        "task_valid_auc": _json(valid),
        "kept_labels": _json({t: masked.kept[t] for t in targets}),
        "kept_positives": _json({t: masked.positives[t] for t in targets}),
        "helper_fraction": masked.helper_fraction,
        "epochs": settings.epochs,
        "patience": settings.patience,
        "best_epochs": json.dumps(outcome.best_epochs),
        "epochs_run": json.dumps(outcome.epochs_run),
        "molecule_epochs": outcome.molecule_epochs,
        "seconds": round(time.perf_counter() - started, 1),
        "threads": torch.get_num_threads(),
    }
