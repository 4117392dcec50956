"""Where data files are looked for and where downloads are cached."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["cache_dir", "data_dir", "search_dirs"]


def data_dir() -> Path:
    """The folder named by ``WORKBENCH_DATA_DIR`` (default ``~/.cache/workbench/data``)."""
    value = os.environ.get("WORKBENCH_DATA_DIR")
    return Path(value).expanduser() if value else Path.home() / ".cache" / "workbench" / "data"


def cache_dir() -> Path:
    """Writable folder for downloads (``WORKBENCH_CACHE_DIR``, default ``~/.cache/workbench/data``)."""
    value = os.environ.get("WORKBENCH_CACHE_DIR")
    return Path(value).expanduser() if value else Path.home() / ".cache" / "workbench" / "data"


def search_dirs(subfolder: str) -> list[Path]:
    """Folders searched, in order, for a file of the given collection (e.g. ``moleculenet``)."""
    dirs = [data_dir() / subfolder, data_dir(), cache_dir() / subfolder]
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique
