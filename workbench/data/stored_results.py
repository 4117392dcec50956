"""Benchmark results committed under ``bench/results/`` (CSV cells), read for pages and reports."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["read_stored_cells"]


def read_stored_cells(path: Path) -> pd.DataFrame:
    """The cells of a benchmark's CSV file; an empty frame when the file is missing or has no rows."""
    if not path.is_file():
        return pd.DataFrame()
    try:
        return pd.read_csv(path)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
