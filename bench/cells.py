"""Resumable benchmark cells: one CSV row per finished cell, appended atomically (a stopped run resumes after it)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["append_cell", "read_cells", "report_head"]


def read_cells(path: Path) -> pd.DataFrame:
    """The finished cells of ``path`` (an empty frame when there are none)."""
    import pandas as pd

    return pd.read_csv(path) if path.is_file() else pd.DataFrame()


def append_cell(row: dict, path: Path) -> None:
    """Add one finished cell: the whole file is rewritten under a temporary name and renamed into place.

    Runs started side by side (one cell per CPU) append to the same file: the read, rewrite and rename happen under
    an exclusive lock on ``<file>.lock``, so no process rewrites the file from a copy that misses another's row.
    """
    import fcntl
    import os

    import pandas as pd

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        frame = pd.concat([read_cells(path), pd.DataFrame([row])], ignore_index=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        frame.to_csv(tmp, index=False)
        tmp.replace(path)


def report_head(title: str, command: str, machine: str) -> list[str]:
    """The first lines of a cell report: its title, the command that wrote it and the machine."""
    return [f"# {title}", "", f"Command: `{command}`", "", f"Machine: {machine}", ""]
