"""What the "Train on your data" page decides and runs, without drawing anything.

The page's choices become a :class:`TrainRequest`; :meth:`TrainRequest.command` is the ``workbench train custom``
command line that makes the same model (the card records it), and :func:`run_training` calls the same library
functions as that command (``prepare_user_data``, then ``train_custom`` with the same :class:`CustomConfig`), so
the same file, split and seed give the same test metrics on the page and on the command line. The example is a
MoleculeACE target exported as a CSV (:func:`example_file`).
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.chem.uploads import Upload, UploadError
from workbench.custom.checkpoint import ModelNameError, check_model_name
from workbench.custom.data import SPLIT_NAMES, CustomDataError, prepare_user_data
from workbench.custom.training import CustomConfig, CustomResult, train_custom

__all__ = [
    "EXAMPLE_TARGET",
    "USER_ERRORS",
    "TrainRequest",
    "cliff_pairs",
    "cliff_summary",
    "column_values",
    "default_model_name",
    "example_file",
    "run_training",
    "split_options",
    "target_options",
    "worst_predicted",
]

#: The example data set: a MoleculeACE target small enough to train on in about a minute here (631 molecules).
EXAMPLE_TARGET = "CHEMBL2047_EC50"
#: Errors that mean bad input (one sentence for the user), not a bug.
USER_ERRORS = (CustomDataError, UploadError, ModelNameError)
_OTHER = ("smiles", "read_error")


def example_file(target: str = EXAMPLE_TARGET) -> tuple[bytes, str]:
    """A MoleculeACE target as a CSV a user could have uploaded: ``smiles``, ``exp_mean [nM]``, ``split``.

    Raises:
        DataUnavailableError: the MoleculeACE package is not installed.
    """
    from workbench.data import load_moleculeace
    from workbench.data.moleculeace import POTENCY_COLUMN

    frame = load_moleculeace(target).frame
    return frame[["smiles", POTENCY_COLUMN, "split"]].to_csv(index=False).encode(), f"{target}.csv"


def _stem_name(filename: str) -> str:
    """The CLI's default model name: the file's stem, lowercase, other characters as ``_``."""
    stem = Path(filename).name.split(".")[0]
    return re.sub(r"[^a-z0-9_.-]+", "_", stem.lower()).strip("._-")[:64] or "my_model"


def default_model_name(filename: str, models_dir: Path | None = None) -> str:
    """The file's stem as the CLI names a model, with ``_2``, ``_3``… when that name is taken."""
    base = _stem_name(filename)
    for k in range(1, 100):
        name = base if k == 1 else f"{base[:60]}_{k}"
        try:
            check_model_name(name, models_dir)
        except ModelNameError:
            continue
        return name
    return base


def target_options(upload: Upload) -> list[str]:
    """Columns that can be targets: the numeric guesses first (file order), then the rest."""
    columns = [str(c) for c in upload.table.columns if c not in _OTHER]
    numeric = [g.column for g in upload.values if g.column in columns]
    return numeric + [c for c in columns if c not in numeric]


def column_values(table: pd.DataFrame, column: str) -> np.ndarray:
    """A column's numbers (NaN where a cell is empty or text)."""
    return pd.to_numeric(table[column], errors="coerce").to_numpy(dtype=np.float64)


def split_options(table: pd.DataFrame, exclude: tuple[str, ...] = ()) -> list[str]:
    """``scaffold``, ``random`` and ``column:NAME`` for every column holding only train / valid / test."""
    options = ["scaffold", "random"]
    for column in table.columns:
        if column in _OTHER or column in exclude or table[column].dtype.kind in "biufc":
            continue
        values = set(table[column].astype("string").str.strip().str.lower().fillna(""))
        if values and values <= set(SPLIT_NAMES) and "test" in values:
            options.append(f"column:{column}")
    return options


@dataclass(frozen=True)
class TrainRequest:
    """The page's choices for one run (what the CLI's arguments say)."""

    filename: str
    sha256: str
    targets: tuple[str, ...]
    smiles_column: str | None = None  # CSV / TSV only
    task: str = "auto"
    transform: str = "none"
    split: str = "scaffold"
    effort: str = "quick"
    seed: int = 0
    name: str = ""
    coverage: float = 0.9

    @property
    def split_column(self) -> str | None:
        """The column a ``column:NAME`` split reads."""
        return self.split.split(":", 1)[1] if self.split.startswith("column:") else None

    def config(self) -> CustomConfig:
        """The training configuration, as ``workbench train custom`` builds it (one CPU worker)."""
        return CustomConfig(self.split, self.effort, self.seed, self.coverage, 1)

    def command(self, name: str | None = None) -> str:
        """``workbench train custom`` with these choices, in the CLI's own order (the card records it)."""
        parts = ["workbench", "train", "custom", self.filename]
        for target in self.targets:
            parts += ["--target", target]
        parts += ["--task", self.task, "--transform", self.transform, "--split", self.split, "--effort", self.effort]
        parts += ["--seed", str(self.seed), "--coverage", str(self.coverage), "--name", name or self.name]
        if self.smiles_column:
            parts += ["--smiles-column", self.smiles_column]
        return shlex.join(parts)


def run_training(
    request: TrainRequest,
    table: pd.DataFrame,
    progress: Callable[[float, str], None],
    should_stop: Callable[[], bool],
) -> CustomResult:
    """Check and standardize ``table`` (a read upload), then train: what ``workbench train custom`` does.

    Raises:
        CustomDataError: the table or the split cannot be trained on.
        TrainingCancelled: ``should_stop`` answered True.
    """
    progress(0.0, f"checking and standardizing {len(table):,} rows")
    data = prepare_user_data(
        table,
        list(request.targets),
        task=request.task,
        transform=request.transform,
        split_column=request.split_column,
        name=request.filename,
        sha256=request.sha256,
    )
    return train_custom(data, request.config(), progress=progress, should_stop=should_stop)


def worst_predicted(result: CustomResult, k: int = 10) -> pd.DataFrame:
    """The ``k`` test rows with the largest absolute error (every target), largest first."""
    table = result.test_table()
    if table.empty:
        return table
    return table.sort_values("abs_error", ascending=False, kind="stable").head(k).reset_index(drop=True)


def cliff_summary(result: CustomResult) -> dict[str, float] | None:
    """For potency data: cliff molecules in the set and the test set, RMSE on them and on the rest."""
    if result.cliff_mol is None:
        return None
    metrics = next(iter(result.metrics.values()))
    return {
        "cliff molecules": int(np.sum(result.cliff_mol)),
        "molecules": len(result.cliff_mol),
        "test cliff molecules": int(metrics.get("cliff_molecules", 0)),
        "test molecules": int(metrics.get("molecules", 0)),
        "rmse_cliff": float(metrics.get("rmse_cliff", np.nan)),
        "rmse_non_cliff": float(metrics.get("rmse_non_cliff", np.nan)),
    }


def cliff_pairs(result: CustomResult) -> pd.DataFrame:
    """The activity-cliff pairs of the uploaded set (MoleculeACE's rules), highest SALI first."""
    from workbench.cliffs.rules import find_cliffs

    data = result.data
    y = data.y[:, 0]
    nm = 10 ** (9.0 - y) if data.transform == "pIC50-from-nM" else 10**y  # fold changes are unit-free
    pairs = find_cliffs(data.smiles, nm, unit="nM").cliffs
    return pairs.sort_values("sali", ascending=False, kind="stable").reset_index(drop=True)
