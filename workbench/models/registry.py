"""The registry: every checkpoint folder under ``WORKBENCH_MODELS_DIR`` and the shipped ``models/``."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from workbench.models.card import CARD_FILE, CheckpointError
from workbench.models.store import SHARED_FOLDER, Checkpoint, load_card

__all__ = ["SHIPPED_MODELS", "find_checkpoints", "models_dirs", "skipped_checkpoints", "user_models_dir"]

#: The checkpoints shipped with the repository (``models/`` at its root).
SHIPPED_MODELS = Path(__file__).resolve().parents[2] / "models"


def _default_user_dir() -> Path:
    """The platform's per-user data folder for models (XDG on Linux, Application Support on macOS, LOCALAPPDATA)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "workbench" / "models"


def user_models_dir() -> Path:
    """Where a user's own models are written: the first ``WORKBENCH_MODELS_DIR`` entry, else the platform default
    (``~/.local/share/workbench/models`` on Linux)."""
    entries = [p for p in os.environ.get("WORKBENCH_MODELS_DIR", "").split(os.pathsep) if p]
    return Path(entries[0]).expanduser() if entries else _default_user_dir()


def models_dirs() -> list[Path]:
    """Folders scanned for checkpoints: ``WORKBENCH_MODELS_DIR`` entries (else the user folder), then ``models/``."""
    dirs = [Path(p).expanduser() for p in os.environ.get("WORKBENCH_MODELS_DIR", "").split(os.pathsep) if p]
    if not dirs:
        dirs.append(_default_user_dir())
    dirs.append(SHIPPED_MODELS)
    return dirs


#: Folders that group checkpoints one level deeper (``models/encoders/<method>/``: pretrained encoders).
NESTED_FOLDERS = ("encoders",)


def _subfolders(folder: Path) -> list[Path]:
    """Sub-folders that may be checkpoints: not hidden, not the shared reference folder (``_shared``)."""
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and p.name != SHARED_FOLDER)


def _checkpoint_folders(root: Path) -> list[Path]:
    """The candidate checkpoint folders of ``root``: its sub-folders, grouping folders opened one level."""
    folders: list[Path] = []
    for p in _subfolders(root):
        if p.name in NESTED_FOLDERS and not (p / CARD_FILE).is_file():
            folders += _subfolders(p)
        else:
            folders.append(p)
    return folders


def _one_line(folder: Path, exc: BaseException) -> str:
    """``PATH: reason`` on one line: the card's path (or the folder's) and what is wrong."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = (lines[0] + " " + "; ".join(lines[1:])).strip() if lines else type(exc).__name__
    if isinstance(exc, CheckpointError):
        return text if text.startswith(str(folder)) else f"{folder / CARD_FILE}: {text}"
    return f"{folder / CARD_FILE}: could not be read ({type(exc).__name__}: {text})"


def find_checkpoints(dirs: Sequence[Path] | None = None) -> tuple[list[Checkpoint], list[str]]:
    """Scan folders for checkpoints; a folder or card that cannot be read never stops the others loading.

    Returns:
        The valid checkpoints (first one wins on a name clash) and one line per folder that was
        skipped: its path and one sentence saying why.
    """
    found: dict[str, Checkpoint] = {}
    problems: list[str] = []
    for root in dirs if dirs is not None else models_dirs():
        try:
            if not root.is_dir():
                continue
            folders = _checkpoint_folders(root)
        except OSError as exc:
            problems.append(f"{root}: the folder could not be read ({exc.strerror or exc})")
            continue
        for folder in folders:
            try:
                card = load_card(folder)
            except Exception as exc:
                problems.append(_one_line(folder, exc))
                continue
            if card.name in found:
                problems.append(f"{folder}: name '{card.name}' already registered from {found[card.name].path}")
                continue
            found[card.name] = Checkpoint(folder, card)
    return list(found.values()), problems


def skipped_checkpoints() -> list[str]:
    """The checkpoint folders of the registry that were skipped: ``PATH: reason``, one per line."""
    return find_checkpoints()[1]
