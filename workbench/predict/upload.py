"""The molecules a user hands over: pasted SMILES lines, and the SMILES column of an uploaded CSV/TSV."""

from __future__ import annotations

import io

import pandas as pd

__all__ = ["TABLE_SUFFIXES", "pasted_smiles", "smiles_column_choices"]

#: Uploads whose SMILES column the user picks (SMI and SDF files have one place for SMILES).
TABLE_SUFFIXES = (".csv", ".tsv")


def pasted_smiles(text: str) -> list[str]:
    """One SMILES per non-blank line, stripped."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def smiles_column_choices(data: bytes, filename: str) -> tuple[list[str], int] | None:
    """The header of an uploaded CSV/TSV and the index of the column to offer first.

    Returns:
        ``(columns, default)`` where ``default`` is the first column named ``smiles`` in any case (else 0);
        ``None`` for other file types or a header that cannot be read.
    """
    name = filename.lower()
    if not name.endswith(TABLE_SUFFIXES):
        return None
    try:
        header = pd.read_csv(io.BytesIO(data), nrows=0, sep="\t" if name.endswith(".tsv") else ",")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        return None
    columns = [str(c) for c in header.columns]
    default = next((i for i, c in enumerate(columns) if c.lower() == "smiles"), 0)
    return columns, default
