"""What the champion search tries on each data set: model families × feature sets, fixed hyperparameters.

Every candidate is a fixed configuration (no tuning on the validation molecules, which choose between candidates):

- ``rf``: random forest, 200 trees (100 on the large sets), fully grown, ``sqrt`` / 0.33 features per split (the
  shipped baselines' forests took 10 minutes per seed on Tox21's ECFP4 here: more trees would not fit the budget);
- ``xgboost``: gradient-boosted trees, depth 6, learning rate 0.05, 600 rounds (200 on the huge sets);
- ``svm``: an RBF support-vector classifier (ranked by its decision function) or regressor, C = 5; only below
  :attr:`GridLimits.svm_train` training molecules (the kernel matrix grows with the square of the molecules);
- ``mlp``: one multi-output network over all tasks (masked loss for missing labels), 2 × 512, dropout 0.2,
  early-stopped on a seeded 10 % of the training molecules, never on the validation split; on the large and huge
  grids batches of 256, at most 30 epochs, patience 5 (:data:`MLP_LARGE`: with the full grid's batches of 64 and
  100 epochs one HIV cell took 910 s on one thread).

On the feature sets of :mod:`workbench.featurizers.feature_sets`. Data sets with more training molecules × tasks
than :attr:`GridLimits.large_labels`, or more training molecules than :attr:`GridLimits.large_train` (HIV), get a
smaller grid, and those above :attr:`GridLimits.huge_labels` or
with more tasks than :attr:`GridLimits.many_tasks` (MUV's 74,000 × 17, ToxCast's 617 tasks) only the boosters and
the multi-output MLP: the benchmark report says which grid each data set had.
"""

from __future__ import annotations

from dataclasses import dataclass

from workbench.custom.families import Candidate

__all__ = [
    "DETERMINISTIC",
    "FAMILIES",
    "FEATURES",
    "LARGE_FEATURES",
    "MLP",
    "MLP_LARGE",
    "GridLimits",
    "grid_name",
    "search_grid",
]

FAMILIES = ("rf", "xgboost", "svm", "mlp")
FEATURES = ("ecfp4", "ecfp4_counts", "maccs", "rdkit2d", "ecfp4+rdkit2d", "maccs+rdkit2d", "minimol")
LARGE_FEATURES = ("ecfp4", "ecfp4+rdkit2d", "minimol")
#: Families whose fit does not depend on the seed: one seed is run, not three.
DETERMINISTIC = frozenset({"svr", "svc"})
MLP = {"hidden": 512, "n_layers": 2, "dropout": 0.2, "lr": 1e-3, "weight_decay": 1e-5, "batch_size": 64,
       "max_epochs": 100, "patience": 10, "stop_fraction": 0.1}  # fmt: skip
#: The MLP on the large and huge grids (HIV, MUV, ToxCast): fewer, larger steps and an earlier stop.
MLP_LARGE = {**MLP, "batch_size": 256, "max_epochs": 30, "patience": 5}


@dataclass(frozen=True)
class GridLimits:
    """Where the grid narrows (the report prints them)."""

    large_labels: int = 100_000  # training molecules × tasks above which the large grid is used
    large_train: int = 20_000  # or training molecules above which it is
    huge_labels: int = 1_000_000  # above: XGBoost with fewer rounds and the multi-output MLP only
    many_tasks: int = 100  # more tasks than this: the huge grid whatever the size
    svm_train: int = 10_000  # SVMs only below this many training molecules


def grid_name(n_train: int, n_tasks: int, limits: GridLimits = GridLimits()) -> str:
    """``full``, ``large`` or ``huge``: which grid a data set of this size gets."""
    labels = n_train * n_tasks
    if n_tasks > limits.many_tasks or labels > limits.huge_labels:
        return "huge"
    return "large" if labels > limits.large_labels or n_train > limits.large_train else "full"


def _family(family: str, classification: bool, grid: str) -> Candidate | None:
    """The one configuration of ``family`` in ``grid`` (features filled in by the caller); None when not run."""
    if family == "rf":
        return None if grid == "huge" else Candidate("rf", "", {"n_estimators": 200 if grid == "full" else 100})
    if family == "xgboost":
        rounds = 200 if grid == "huge" else 600
        return Candidate("xgboost", "", {"max_depth": 6, "learning_rate": 0.05, "n_estimators": rounds})
    if family == "svm":
        return None if grid != "full" else Candidate("svc" if classification else "svr", "", {"C": 5.0})
    if family == "mlp":
        return Candidate("mlp", "", dict(MLP if grid == "full" else MLP_LARGE))
    raise ValueError(f"unknown family '{family}' (known: {', '.join(FAMILIES)})")


def search_grid(
    task_type: str,
    n_train: int,
    n_tasks: int,
    *,
    families: tuple[str, ...] = FAMILIES,
    features: tuple[str, ...] | None = None,
    limits: GridLimits = GridLimits(),
) -> list[Candidate]:
    """The candidates of one data set, feature set by feature set (``features`` overrides the grid's sets)."""
    grid = grid_name(n_train, n_tasks, limits)
    if features is None:
        features = FEATURES if grid == "full" else LARGE_FEATURES
    out = []
    for feature_set in features:
        for family in families:
            base = _family(family, task_type == "classification", grid)
            if base is not None and not (base.family in DETERMINISTIC and n_train > limits.svm_train):
                out.append(Candidate(base.family, feature_set, base.params))
    return out
