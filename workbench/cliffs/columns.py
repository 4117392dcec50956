"""A potency table (CSV of SMILES and potencies): reading it and choosing its SMILES and potency columns.

The app page and ``workbench cliffs`` use the same rule (:func:`detect_columns`):

* the SMILES column is found by content: a text column where most of the first
  :data:`SAMPLE_ROWS` filled cells parse as molecules (when several do, the one named
  ``smiles`` in any case; otherwise the choice is ambiguous and must be named);
* the potency column is MoleculeACE's ``exp_mean [nM]`` when present, else the only numeric
  column that is not an identifier (``id``, ``*_id``, ``index``, ``Unnamed: 0``, a running
  0..n-1 / 1..n count), not a 0/1 flag (holding both 0 and 1 and nothing else) and not
  MoleculeACE's derived ``y`` / ``cliff_mol``
  (those two are used only when nothing else is numeric). Several candidates, or none, is an
  error: the SMILES column is never taken for the potency.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase

from workbench.data.moleculeace import POTENCY_COLUMN

__all__ = [
    "SAMPLE_ROWS",
    "ColumnChoice",
    "ColumnError",
    "ColumnMenu",
    "cliff_input",
    "column_menu",
    "detect_columns",
    "numeric_columns",
    "read_potency_csv",
    "smiles_columns",
]

#: Cells per column parsed to decide whether it holds SMILES.
SAMPLE_ROWS = 200
#: MoleculeACE columns derived from the potency; a potency only when nothing else is numeric.
DERIVED_COLUMNS = ("y", "cliff_mol")
_ID_NAME = re.compile(r"^(id|idx|index|no|#|row)$|[_\s.-](id|idx|index)$|^unnamed: \d+$", re.IGNORECASE)


class ColumnError(ValueError):
    """The table has no usable (or no unambiguous) SMILES or potency column.

    ``field`` is ``"smiles"`` or ``"potency"``: the column the caller should name (``None`` when the
    file itself cannot be read).
    """

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class ColumnChoice:
    """The columns to use and, in words, why (``note``)."""

    smiles: str
    potency: str
    note: str


@dataclass(frozen=True)
class ColumnMenu:
    """Options and defaults for the app's column pickers; ``message`` explains a default it could not make."""

    smiles_options: list[str]
    smiles_index: int
    potency_options: list[str]
    potency_index: int
    message: str


def read_potency_csv(source: bytes | str | Path) -> pd.DataFrame:
    """Read a CSV (its bytes, e.g. an upload, or a path) into a frame.

    Raises:
        ColumnError: not a readable CSV, or no rows.
    """
    try:
        table = pd.read_csv(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ColumnError(f"not a readable CSV file: {exc}") from exc
    if table.empty:
        raise ColumnError("the CSV file has no rows")
    return table


def _is_text(values: pd.Series) -> bool:
    return values.dtype.kind in "OSU" or pd.api.types.is_string_dtype(values.dtype)


def _parse_fraction(values: pd.Series) -> float:
    cells = [str(v).strip() for v in values.dropna().head(SAMPLE_ROWS)]
    cells = [c for c in cells if c]
    if not cells:
        return 0.0
    with rdBase.BlockLogs():
        return sum(Chem.MolFromSmiles(c) is not None for c in cells) / len(cells)


def smiles_columns(table: pd.DataFrame) -> list[str]:
    """Text columns where more than half of the first :data:`SAMPLE_ROWS` filled cells parse as molecules."""
    return [str(c) for c in table.columns if _is_text(table[c]) and _parse_fraction(table[c]) > 0.5]


def numeric_columns(table: pd.DataFrame, exclude: str | None = None) -> list[str]:
    """Integer and floating-point columns (not booleans), in table order, other than ``exclude``."""
    return [str(c) for c in table.columns if c != exclude and table[c].dtype.kind in "fi"]


def _is_identifier(table: pd.DataFrame, column: str) -> bool:
    if _ID_NAME.search(column.strip()):
        return True
    values = table[column]
    if values.dtype.kind != "i" or len(values) < 3:
        return False
    return bool((values.to_numpy() == np.arange(len(values)) + values.iloc[0]).all() and values.iloc[0] in (0, 1))


def _is_flag(values: pd.Series) -> bool:
    return set(values.dropna().unique().tolist()) == {0, 1}


def _pick_smiles(table: pd.DataFrame) -> tuple[str, str]:
    found = smiles_columns(table)
    if len(found) == 1:
        return found[0], f"SMILES column '{found[0]}' (the only column whose cells parse as molecules)"
    named = [c for c in found if c.lower() == "smiles"]
    if len(named) == 1:
        return named[0], f"SMILES column '{named[0]}' (by name; {', '.join(found)} all parse as molecules)"
    if not found:
        raise ColumnError(
            f"no column holds SMILES (no column where most cells parse as molecules); columns: "
            f"{', '.join(map(str, table.columns))}",
            "smiles",
        )
    raise ColumnError(f"several columns hold SMILES ({', '.join(found)})", "smiles")


def _potency_candidates(table: pd.DataFrame, numeric: list[str]) -> list[str]:
    plain = [c for c in numeric if not _is_identifier(table, c) and not _is_flag(table[c])]
    return [c for c in plain if c not in DERIVED_COLUMNS] or plain


def _pick_potency(table: pd.DataFrame, smiles: str) -> tuple[str, str]:
    numeric = numeric_columns(table, exclude=smiles)
    if POTENCY_COLUMN in numeric:
        return POTENCY_COLUMN, f"potency column '{POTENCY_COLUMN}' (MoleculeACE's)"
    if not numeric:
        raise ColumnError(
            f"no numeric column to use as the potency; columns: {', '.join(map(str, table.columns))}", "potency"
        )
    candidates = _potency_candidates(table, numeric)
    if len(candidates) == 1:
        skipped = [c for c in numeric if c != candidates[0]]
        why = f"; not {', '.join(skipped)}" if skipped else ""
        return candidates[0], f"potency column '{candidates[0]}' (the only numeric potency-like column{why})"
    if not candidates:
        raise ColumnError(
            f"no numeric column looks like a potency ({', '.join(numeric)} look like identifiers or 0/1 flags)",
            "potency",
        )
    raise ColumnError(f"several numeric columns could be the potency ({', '.join(candidates)})", "potency")


def detect_columns(table: pd.DataFrame, smiles: str | None = None, potency: str | None = None) -> ColumnChoice:
    """The SMILES and potency columns of ``table``: the ones named, else found by the module's rule.

    Raises:
        ColumnError: a named column is missing (or the potency holds no number, or is the SMILES
            column), or the rule finds no column or several.
    """
    if smiles is not None:
        if smiles not in table.columns:
            raise ColumnError(f"no column '{smiles}'; columns: {', '.join(map(str, table.columns))}", "smiles")
        smiles_note = f"SMILES column '{smiles}' (as named)"
    else:
        smiles, smiles_note = _pick_smiles(table)
    if potency is not None:
        if potency not in table.columns:
            raise ColumnError(f"no column '{potency}'; columns: {', '.join(map(str, table.columns))}", "potency")
        if potency == smiles:
            raise ColumnError(f"'{potency}' is the SMILES column, not a potency", "potency")
        if pd.to_numeric(table[potency], errors="coerce").isna().all():
            raise ColumnError(f"column '{potency}' holds no numbers", "potency")
        potency_note = f"potency column '{potency}' (as named)"
    else:
        potency, potency_note = _pick_potency(table, smiles)
    return ColumnChoice(smiles, potency, f"{smiles_note}; {potency_note}")


def column_menu(table: pd.DataFrame, smiles: str | None = None) -> ColumnMenu:
    """Column pickers for an uploaded table: every column for the SMILES, numeric ones for the potency.

    Defaults follow :func:`detect_columns` (with ``smiles`` as chosen, when given); where the rule
    cannot decide, the default is the first column it considered (the first text column for the
    SMILES) and ``message`` (a sentence) says why.

    Raises:
        ColumnError: no numeric column other than the SMILES column.
    """
    columns = [str(c) for c in table.columns]
    message = ""
    if smiles is None:
        try:
            smiles = _pick_smiles(table)[0]
        except ColumnError as exc:
            smiles = next((c for c in columns if _is_text(table[c])), columns[0])
            message = str(exc)
    numeric = numeric_columns(table, exclude=smiles)
    if not numeric:
        raise ColumnError(f"no numeric column to use as the potency; columns: {', '.join(columns)}", "potency")
    try:
        potency = detect_columns(table, smiles=smiles).potency
    except ColumnError as exc:
        potency, message = (_potency_candidates(table, numeric) or numeric)[0], message or str(exc)
    if message:
        message = f"{message[:1].upper()}{message[1:]}: choose the columns above."
    return ColumnMenu(columns, columns.index(smiles), numeric, numeric.index(potency), message)


def cliff_input(table: pd.DataFrame, smiles: str, potency: str) -> pd.DataFrame:
    """``smiles`` (text) and ``potency`` (numbers; unreadable cells NaN) columns, plus ``split`` when present."""
    frame = pd.DataFrame(
        {"smiles": table[smiles].astype(str), "potency": pd.to_numeric(table[potency], errors="coerce")}
    )
    if "split" in table.columns:
        frame["split"] = table["split"]
    return frame.reset_index(drop=True)
