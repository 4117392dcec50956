"""A chemist's own measurements turned into a training set: labels checked, molecules standardized, duplicates merged.

Every input row is accounted for: it becomes (part of) one training molecule or a :class:`DroppedRow` with one
reason. What cannot be trained on at all is a :class:`CustomDataError` with one sentence for the user:

* fewer than :data:`MIN_LABELLED` labelled molecules, or more than half the rows unparsable;
* a target column that is missing, not numeric, constant, or (classification) holds one class only;
* a split column with values other than train / valid / test.

Duplicates (the same standardized molecule, by InChIKey) are merged: regression labels are averaged, and a group
whose labels spread more than :data:`CONFLICT_SPREAD` log units (10-fold, for log-transformed targets) or, without
a transform, more than :data:`CONFLICT_FRACTION_OF_SD` of the target's standard deviation is dropped as conflicting;
classification labels must agree, or the group is dropped as conflicting. Both are listed.
"""

from __future__ import annotations

import re
import warnings as warnings_module
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rdkit import Chem

from workbench import chem

__all__ = [
    "CONFLICT_SPREAD",
    "MIN_LABELLED",
    "TASKS",
    "TRANSFORMS",
    "CustomDataError",
    "DroppedRow",
    "UserData",
    "detect_task",
    "prepare_user_data",
    "suggest_transform",
    "task_name",
    "transform_values",
]

MIN_LABELLED = 30
MAX_UNPARSABLE = 0.5
#: A regression target spanning more orders of magnitude than this without a transform gets a warning.
MIXED_UNITS_ORDERS = 6
#: Duplicate molecules whose log-transformed labels spread more than this (10-fold) are dropped as conflicting.
CONFLICT_SPREAD = 1.0
#: Without a transform, the limit is this fraction of the target's standard deviation over the table.
CONFLICT_FRACTION_OF_SD = 0.5
TASKS = ("auto", "regression", "classification")
TRANSFORMS = ("none", "log10", "pIC50-from-nM")
SPLIT_NAMES = {"train": "train", "training": "train", "valid": "valid", "validation": "valid", "val": "valid"}
SPLIT_NAMES |= {"test": "test", "testing": "test"}
_NM_NAME = re.compile(r"(\bn\s*m\b|\[nm\]|_nm\b|\(nm\)|ic50|ec50|\bki\b|\bkd\b)", re.IGNORECASE)


class CustomDataError(ValueError):
    """The table cannot be trained on; ``str(exc)`` is one sentence for the user."""


@dataclass(frozen=True)
class DroppedRow:
    """An input row that is not part of the training set, and why (``row`` counts data rows from 0)."""

    row: int
    smiles: str
    reason: str


@dataclass
class UserData:
    """The training set made from a user's table: one entry per unique standardized molecule."""

    name: str
    sha256: str
    targets: list[str]
    task_type: str  # regression | classification
    transform: str
    units: list[str]
    smiles: list[str]
    mols: list[Chem.Mol]
    y: np.ndarray  # (n, n_targets) in transformed units, NaN = missing
    rows: list[list[int]]  # the input rows merged into each molecule
    input_rows: int
    split_labels: list[str] | None = None  # per molecule, from a user split column
    dropped: list[DroppedRow] = field(default_factory=list)
    merged: int = 0  # input rows merged into another row's molecule (duplicates averaged)
    standardized: list[tuple[int, str]] = field(default_factory=list)  # (row, what standardization changed)
    warnings: list[str] = field(default_factory=list)

    @property
    def task_names(self) -> list[str]:
        """The model's task names: each target column with its transform (:func:`task_name`)."""
        return [task_name(t, self.transform) for t in self.targets]

    def counts(self) -> dict[str, int]:
        """How many input rows went where: kept molecules, merged duplicates and each drop reason."""
        out = {"input rows": self.input_rows, "molecules": len(self.smiles), "merged duplicates": self.merged}
        for d in self.dropped:
            key = d.reason.split(":")[0].split(" (")[0]  # "duplicate with conflicting labels (rows …)" → one key
            out[key] = out.get(key, 0) + 1
        return out

    def dropped_table(self) -> pd.DataFrame:
        """The dropped rows (``row``, ``smiles``, ``reason``), in input order."""
        frame = pd.DataFrame([d.__dict__ for d in self.dropped], columns=["row", "smiles", "reason"])
        return frame.sort_values("row", kind="stable").reset_index(drop=True)


def _numbers(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Float values (NaN where empty or not a number) and a mask of the cells that are text, not numbers."""
    text = values.astype("string").str.strip()
    empty = text.isna() | (text == "") | text.str.lower().isin(["nan", "na", "n/a", "none", "null", "-"])
    number = pd.to_numeric(text.where(~empty), errors="coerce").to_numpy(dtype=np.float64)
    not_number = (~empty.to_numpy()) & np.isnan(number)
    return number, not_number


def detect_task(values: Sequence[float] | np.ndarray) -> str:
    """``classification`` when every label is 0 or 1 (both present or not), else ``regression``."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return "classification" if len(v) and np.isin(v, (0.0, 1.0)).all() else "regression"


def suggest_transform(column: str, values: Sequence[float] | np.ndarray) -> tuple[str, str]:
    """A transform for a target column and why: potencies in nM become pIC50, wide positive ranges log10."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if not len(v) or detect_task(v) == "classification":
        return "none", "0 / 1 labels: a classification, no transform" if len(v) else "no values"
    if (v <= 0).any():
        return "none", "the values are not all positive (no logarithm)"
    if _NM_NAME.search(column):
        return "pIC50-from-nM", f"'{column}' looks like a potency in nM: models learn -log10(molar) (pIC50) better"
    if v.max() / v.min() > 1e3:
        return "log10", f"the values span {np.log10(v.max() / v.min()):.1f} orders of magnitude"
    return "none", "the values span less than 3 orders of magnitude"


def transform_values(values: np.ndarray, transform: str) -> np.ndarray:
    """Apply a target transform; values it cannot take (not positive for the logarithms) become NaN."""
    if transform not in TRANSFORMS:
        raise CustomDataError(f"unknown transform '{transform}'; choose one of {', '.join(TRANSFORMS)}")
    v = np.asarray(values, dtype=np.float64)
    if transform == "none":
        return v.copy()
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.where(v > 0, np.log10(np.where(v > 0, v, 1.0)), np.nan)
    return logged if transform == "log10" else 9.0 - logged


def _units(column: str, transform: str) -> str:
    return {"none": "", "log10": "log10 units", "pIC50-from-nM": "-log10 M"}[transform]


def task_name(column: str, transform: str) -> str:
    """The name a model's task gets: the column, or the transform applied to it (``pIC50(IC50 nM)``)."""
    return {"none": column, "log10": f"log10({column})", "pIC50-from-nM": f"pIC50({column})"}[transform]


def _labels(
    frame: pd.DataFrame, targets: Sequence[str], task: str, transform: str
) -> tuple[np.ndarray, str, dict[int, str], list[str]]:
    """The label matrix, the task type, per-row drop reasons and warnings."""
    missing = [t for t in targets if t not in frame.columns]
    if missing:
        columns = ", ".join(str(c) for c in frame.columns if c != "smiles")
        raise CustomDataError(f"The table has no column {', '.join(map(repr, missing))}; its columns are: {columns}.")
    if not targets:
        raise CustomDataError("Name at least one target column (the measured values to learn).")
    reasons: dict[int, str] = {}
    warnings: list[str] = []
    columns = []
    for target in targets:
        values, text = _numbers(frame[target])
        filled = int(np.isfinite(values).sum() + text.sum())
        if filled and text.sum() * 2 > filled:
            example = frame[target][text].astype(str).iloc[0]
            raise CustomDataError(
                f"Target column '{target}' is not numeric: {int(text.sum())} of {filled} filled cells are text "
                f"(e.g. '{example[:30]}'). Use numbers, or 0 / 1 for two classes."
            )
        for i in np.flatnonzero(text):
            reasons.setdefault(int(i), f"label not a number: '{str(frame[target].iloc[i])[:30]}' in '{target}'")
        columns.append(values)
    raw = np.column_stack(columns)
    task_type = (
        task if task != "auto" else ("classification" if detect_task(raw.ravel()) == "classification" else "regression")
    )
    if task_type == "classification":
        bad = np.isfinite(raw) & ~np.isin(raw, (0.0, 1.0))
        if bad.any():
            raise CustomDataError(
                f"Classification needs labels 0 and 1; '{targets[int(np.argwhere(bad)[0][1])]}' holds "
                f"{raw[bad][0]:g}. Choose --task regression, or recode the column."
            )
        if transform != "none":
            raise CustomDataError("A transform applies to measured values, not to 0 / 1 classes.")
        return raw, task_type, reasons, warnings
    for t, target in enumerate(targets):
        positive = raw[:, t][np.isfinite(raw[:, t]) & (raw[:, t] > 0)]
        if transform == "none" and len(positive) > 1 and positive.max() / positive.min() > 10**MIXED_UNITS_ORDERS:
            warnings.append(
                f"'{target}' spans {np.log10(positive.max() / positive.min()):.1f} orders of magnitude: labels in "
                "mixed units, or a potency that should be transformed (--transform pIC50-from-nM or log10)?"
            )
        if transform != "none":
            for i in np.flatnonzero(np.isfinite(raw[:, t]) & (raw[:, t] <= 0)):
                reasons.setdefault(int(i), f"label not positive: {raw[i, t]:g} in '{target}' cannot take {transform}")
    y = np.column_stack([transform_values(raw[:, t], transform) for t in range(len(targets))])
    return y, task_type, reasons, warnings


def _split_labels(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame.columns:
        raise CustomDataError(f"The table has no split column '{column}'.")
    text = frame[column].astype("string").str.strip().str.lower().fillna("")
    unknown = sorted(set(text) - set(SPLIT_NAMES))
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:5])
        raise CustomDataError(
            f"Split column '{column}' holds {shown}; use train, valid (or validation) and test in each row."
        )
    return [SPLIT_NAMES[v] for v in text]


def _merge(
    keys: list[str], y: np.ndarray, usable: list[int], task_type: str, transform: str
) -> tuple[dict[str, list[int]], list[tuple[list[int], str]]]:
    """Group usable rows by molecule key; return the kept groups and the conflicting ones with a reason."""
    limits = [CONFLICT_SPREAD] * y.shape[1]
    if transform == "none" and task_type == "regression":  # labels in their own units: relative to their spread
        limits = [CONFLICT_FRACTION_OF_SD * float(np.nanstd(y[usable, t])) for t in range(y.shape[1])]
    groups: dict[str, list[int]] = {}
    for i in usable:
        groups.setdefault(keys[i], []).append(i)
    conflicts: list[tuple[list[int], str]] = []
    for key, rows in list(groups.items()):
        if len(rows) < 2:
            continue
        values = y[rows]
        for t in range(y.shape[1]):
            col = values[:, t][np.isfinite(values[:, t])]
            if len(col) < 2:
                continue
            spread = float(col.max() - col.min())
            if (task_type == "classification" and spread > 0) or (task_type == "regression" and spread > limits[t]):
                what = "disagree" if task_type == "classification" else f"spread {spread:.3g} > {limits[t]:.3g}"
                conflicts.append(
                    (rows, f"duplicate with conflicting labels ({what}; rows {', '.join(map(str, rows))})")
                )
                del groups[key]
                break
    return groups, conflicts


def prepare_user_data(
    frame: pd.DataFrame,
    targets: Sequence[str],
    *,
    task: str = "auto",
    transform: str = "none",
    split_column: str | None = None,
    name: str = "table",
    sha256: str = "",
) -> UserData:
    """Check a table (a ``smiles`` column plus target columns) and build the training set from it.

    Raises:
        CustomDataError: the table cannot be trained on (see the module docstring).
    """
    if task not in TASKS:
        raise CustomDataError(f"unknown task '{task}'; choose one of {', '.join(TASKS)}")
    if "smiles" not in frame.columns:
        raise CustomDataError("The table has no SMILES column.")
    targets = list(dict.fromkeys(targets))
    y, task_type, reasons, warnings = _labels(frame, targets, task, transform)
    splits = _split_labels(frame, split_column) if split_column else None
    parsed = chem.parse_many(frame["smiles"].astype("string").fillna("").tolist(), metal_complexes="error")
    read_errors = frame["read_error"].fillna("").astype(str).tolist() if "read_error" in frame else [""] * len(frame)
    unparsable = 0
    for i, p in enumerate(parsed):
        if read_errors[i] or p.mol is None or p.error:
            unparsable += 1
            reasons[i] = f"not a usable molecule: {read_errors[i] or p.error or 'unparsable'}"
    if len(frame) and unparsable > MAX_UNPARSABLE * len(frame):
        raise CustomDataError(
            f"{unparsable:,} of {len(frame):,} rows are not molecules (more than half): is '{name}' the right "
            "file, and the right SMILES column?"
        )
    for i in range(len(frame)):
        if i not in reasons and not np.isfinite(y[i]).any():
            reasons[i] = "missing label"
    keys = [p.inchikey or p.smiles for p in parsed]
    usable = [i for i in range(len(frame)) if i not in reasons]
    groups, conflicts = _merge(keys, y, usable, task_type, transform)
    dropped = [DroppedRow(i, str(frame["smiles"].iloc[i]), r) for i, r in reasons.items()]
    for rows, reason in conflicts:
        dropped += [DroppedRow(i, str(frame["smiles"].iloc[i]), reason) for i in rows]
    order = sorted(groups.values(), key=lambda rows: rows[0])
    with warnings_module.catch_warnings():  # a target missing in every row of a group stays NaN
        warnings_module.simplefilter("ignore", RuntimeWarning)
        merged_y = np.array([np.nanmean(y[rows], axis=0) for rows in order]).reshape(len(order), len(targets))
    labels = None
    if splits is not None:
        labels = [splits[rows[0]] for rows in order]
        mixed = sum(len({splits[i] for i in rows}) > 1 for rows in order)
        if mixed:
            warnings.append(
                f"{mixed} duplicate molecule(s) had rows in different splits: the first row's split was used"
            )
    data = UserData(
        name=name,
        sha256=sha256,
        targets=targets,
        task_type=task_type,
        transform=transform,
        units=[_units(t, transform) for t in targets],
        smiles=[parsed[rows[0]].smiles for rows in order],
        mols=[parsed[rows[0]].mol for rows in order],
        y=merged_y,
        rows=order,
        input_rows=len(frame),
        split_labels=labels,
        dropped=dropped,
        merged=sum(len(rows) - 1 for rows in order),
        standardized=[(i, parsed[i].warnings and "; ".join(parsed[i].warnings)) for i in usable if parsed[i].warnings],
        warnings=warnings,
    )
    _check_trainable(data)
    return data


def _check_trainable(data: UserData) -> None:
    n = len(data.smiles)
    if n < MIN_LABELLED:
        raise CustomDataError(
            f"Only {n} labelled molecule(s) are left (of {data.input_rows:,} rows); a model needs at least "
            f"{MIN_LABELLED} to be trained and tested honestly."
        )
    for t, target in enumerate(data.targets):
        col = data.y[:, t][np.isfinite(data.y[:, t])]
        if data.task_type == "classification" and len(np.unique(col)) < 2:
            raise CustomDataError(f"'{target}' holds one class only ({col[0]:g}): a classifier needs both 0 and 1.")
        if data.task_type == "regression" and np.ptp(col) == 0:
            raise CustomDataError(f"'{target}' is constant ({col[0]:g}): there is nothing to learn.")
