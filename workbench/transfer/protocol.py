"""The label-masking protocol of the task-transfer lab: scarce target labels next to plentiful helper labels.

Wu et al. ("Chemical property prediction via graph knowledge transfer") train *target* tasks on a seeded 10 % of
their labels and *helping* tasks on 90 %. Here only the **training** labels are masked: validation and test keep
every label, so each arm is stopped early and scored on the same full labels. Within a task the kept labels are
the first ``round(fraction × n)`` rows of a permutation seeded by (seed, task index), so a smaller fraction keeps
a subset of a larger one (5 % ⊂ 10 % ⊂ 25 %), and a task's mask does not depend on which other tasks are targets.

Targets: the paper's pairs (:data:`PAPER_TARGETS`) and random partitions with 25 % of the tasks as targets
(:func:`random_partition`, drawn among tasks with enough of both classes that a 10 % fraction keeps some).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = [
    "HELPER_FRACTION",
    "PAPER_AUC",
    "PAPER_TARGETS",
    "TARGET_SETS",
    "LabelFractionError",
    "MaskedLabels",
    "TransferSetupError",
    "check_tasks",
    "display_name",
    "kept_rows",
    "mask_labels",
    "random_partition",
    "target_tasks",
]

#: Fraction of their training labels the helping tasks keep.
HELPER_FRACTION = 0.9
#: The target pairs of Wu et al.
PAPER_TARGETS: dict[str, tuple[str, ...]] = {
    "tox21": ("SR-ARE", "SR-MMP"),
    "sider": ("Investigations", "Vascular disorders"),
}
#: Wu et al.'s mean test ROC-AUC over each pair at 10 % target labels (their Table: single-task GCN,
#: multi-task GCN, their knowledge-transfer model); quoted, not run here.
PAPER_AUC: dict[str, dict[str, float]] = {
    "tox21": {"single-task GCN": 0.678, "multi-task": 0.730, "transfer model": 0.776},
    "sider": {"single-task GCN": 0.594, "multi-task": 0.632, "transfer model": 0.657},
}
#: Target sets of the benchmark: the paper's pair and three random partitions.
TARGET_SETS = ("paper", "random0", "random1", "random2")
#: Share of the tasks that are targets in a random partition.
RANDOM_SHARE = 0.25
#: A task is drawn as a random target only when 10 % of its training labels keep this many of each class
#: (in expectation), so that the seeded draw almost never leaves it one class.
MIN_EXPECTED_PER_CLASS = 10


#: How the data sets are written in messages.
DISPLAY_NAMES = {"tox21": "Tox21", "sider": "SIDER", "clintox": "ClinTox", "toxcast": "ToxCast", "bbbp": "BBBP",
                 "bace": "BACE", "hiv": "HIV", "muv": "MUV"}  # fmt: skip


def display_name(dataset: str) -> str:
    """``tox21`` → ``Tox21`` (other names as given)."""
    return DISPLAY_NAMES.get(dataset.lower(), dataset)


class TransferSetupError(ValueError):
    """A data set, target or label fraction the protocol cannot use; ``str(exc)`` says why, in one sentence."""


class LabelFractionError(TransferSetupError):
    """A label fraction that leaves a target task without a positive or without a negative training label."""


def check_tasks(dataset: str, tasks: Sequence[str], task_type: str = "classification") -> None:
    """Refuse a data set transfer cannot work on: regression, or a single task (no helper to learn from)."""
    dataset = display_name(dataset)
    if task_type != "classification":
        raise TransferSetupError(
            f"{dataset} is a regression data set; the task-transfer lab compares classifiers (ROC-AUC)."
        )
    if len(tasks) < 2:
        raise TransferSetupError(
            f"{dataset} has one task ({', '.join(tasks) or 'none'}): transfer needs a target task and at least one "
            "helping task measured on the same molecules. Choose a data set with several assays, such as Tox21 or "
            "SIDER."
        )


def target_tasks(dataset: str, tasks: Sequence[str], y_train: np.ndarray, target_set: str) -> tuple[str, ...]:
    """The target tasks of ``target_set`` (``paper``, ``random<k>`` or task names joined by ``+``)."""
    key = dataset.lower()
    if target_set == "paper":
        if key not in PAPER_TARGETS:
            raise TransferSetupError(f"the paper has no target pair on {display_name(dataset)} (only Tox21 and SIDER)")
        return PAPER_TARGETS[key]
    if target_set.startswith("random") and target_set[6:].isdigit():
        return random_partition(tasks, y_train, int(target_set[6:]))
    names = tuple(target_set.split("+"))
    unknown = [n for n in names if n not in tasks]
    if unknown:
        raise TransferSetupError(f"{display_name(dataset)} has no task named {', '.join(repr(n) for n in unknown)}")
    if len(names) == len(tasks):
        raise TransferSetupError("every task is a target: leave at least one helping task")
    return names


def random_partition(tasks: Sequence[str], y_train: np.ndarray, k: int, share: float = RANDOM_SHARE) -> tuple[str, ...]:
    """Random partition ``k``: ``round(share × tasks)`` targets drawn with a fixed seed among the eligible tasks.

    Eligible: 10 % of the task's training labels hold at least :data:`MIN_EXPECTED_PER_CLASS` positives and as many
    negatives on average. The draw depends only on ``k`` and the data, not on the cell's seed.
    """
    labelled = ~np.isnan(y_train)
    pos = np.nansum(y_train, axis=0)
    neg = labelled.sum(axis=0) - pos
    eligible = [t for t, (p, n) in enumerate(zip(pos, neg, strict=True)) if min(p, n) * 0.1 >= MIN_EXPECTED_PER_CLASS]
    n_targets = max(1, round(share * len(tasks)))
    if len(eligible) < n_targets or len(tasks) - n_targets < 1:
        raise TransferSetupError(f"too few tasks with enough labels of both classes for a random partition ({k})")
    rng = np.random.default_rng(1000 + k)
    chosen = sorted(rng.choice(eligible, size=n_targets, replace=False).tolist())
    return tuple(tasks[t] for t in chosen)


def kept_rows(labelled_rows: np.ndarray, fraction: float, seed: int, task_index: int) -> np.ndarray:
    """The ``round(fraction × n)`` labelled rows a task keeps: a prefix of a permutation seeded by (seed, task)."""
    order = np.random.default_rng([seed, task_index]).permutation(np.asarray(labelled_rows))
    return np.sort(order[: round(fraction * len(order))])


@dataclass(frozen=True)
class MaskedLabels:
    """Labels after masking: ``y`` is a copy of the data set's labels with masked training labels set to NaN."""

    y: np.ndarray  # (n, tasks) float32, NaN = missing
    tasks: tuple[str, ...]
    targets: tuple[str, ...]
    fraction: float
    helper_fraction: float
    seed: int
    kept: dict[str, int]  # training labels kept per task
    positives: dict[str, int]  # positive training labels kept per task

    @property
    def target_index(self) -> list[int]:
        """Column of each target task."""
        return [self.tasks.index(t) for t in self.targets]

    @property
    def helper_index(self) -> list[int]:
        """Column of each helping task."""
        return [i for i, t in enumerate(self.tasks) if t not in self.targets]


def _fraction_text(fraction: float) -> str:
    return f"{fraction * 100:g} %"


def mask_labels(
    y: np.ndarray,
    train_idx: np.ndarray,
    tasks: Sequence[str],
    targets: Sequence[str],
    fraction: float,
    seed: int,
    *,
    helper_fraction: float = HELPER_FRACTION,
) -> MaskedLabels:
    """Keep a seeded ``fraction`` of each target's training labels and ``helper_fraction`` of each helper's.

    Rows outside ``train_idx`` (validation, test) keep every label.

    Raises:
        LabelFractionError: a target would keep no positive or no negative training label.
        TransferSetupError: a fraction outside (0, 1], or a target that is not a task.
    """
    tasks = tuple(tasks)
    for name, value in (("label fraction", fraction), ("helper fraction", helper_fraction)):
        if not 0 < value <= 1:
            raise TransferSetupError(f"the {name} must be above 0 and at most 100 %, not {value:g}")
    unknown = [t for t in targets if t not in tasks]
    if unknown:
        raise TransferSetupError(f"no task named {', '.join(repr(t) for t in unknown)}")
    train_idx = np.asarray(train_idx)
    out = np.array(y, dtype=np.float32, copy=True)
    kept, positives = {}, {}
    for t, task in enumerate(tasks):
        column = out[train_idx, t]
        labelled = train_idx[~np.isnan(column)]
        keep = kept_rows(labelled, fraction if task in targets else helper_fraction, seed, t)
        drop = np.setdiff1d(labelled, keep, assume_unique=True)
        out[drop, t] = np.nan
        values = out[keep, t]
        kept[task], positives[task] = len(keep), int(np.sum(values == 1))
        if task in targets and (positives[task] == 0 or positives[task] == len(keep)):
            missing = "positive" if positives[task] == 0 else "negative"
            raise LabelFractionError(
                f"At a {_fraction_text(fraction)} label fraction, target '{task}' keeps {len(keep):,} of its "
                f"{len(labelled):,} training labels and none of them is {missing}: a classifier cannot learn from one "
                "class. Choose a larger label fraction or another target."
            )
    return MaskedLabels(out, tasks, tuple(targets), fraction, helper_fraction, seed, kept, positives)
