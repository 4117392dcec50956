"""Cache files that heal themselves: atomic writes, validated reads, rebuilt when unreadable.

A cache entry is a file that can always be made again. :func:`read_or_rebuild` reads it (after checking
the sha256 and size recorded beside it, ``<file>.sha256``); on any failure to read it logs a warning,
deletes the entry and builds it again. Entries are written atomically (:func:`atomic_write`: a temporary
file in the same folder, then ``os.replace``), so a crash never leaves half a file under the real name.
When the cache folder cannot be written (read-only, full), values are kept in memory for the session and
one warning says so. :func:`prune` bounds a folder of entries by age and total size.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "MEMORY_ENTRIES",
    "atomic_write",
    "cache_unwritable",
    "discard",
    "prune",
    "read_or_rebuild",
    "reset",
    "sidecar_ok",
    "write_entry",
]

T = TypeVar("T")
log = logging.getLogger("workbench.cache")

#: Entries kept in memory per process when their cache folder cannot be written (least recently used dropped).
MEMORY_ENTRIES = 64
SIDECAR = ".sha256"

_LOCK = threading.Lock()
_MEMORY: OrderedDict[str, Any] = OrderedDict()
_UNWRITABLE: set[str] = set()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_write(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp)`` on a temporary file in ``path``'s folder, then move it to ``path`` in one step.

    The temporary name ends with ``path``'s suffix (numpy and safetensors writers look at it); it is
    removed when ``write`` fails. Raises whatever ``write`` or the file system raises (``OSError`` when
    the folder is read-only or full).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_entry(path: str | Path, write: Callable[[Path], object]) -> Path:
    """Write a cache entry atomically and record its sha256 and size beside it (``<file>.sha256``)."""
    path = atomic_write(path, write)
    record = f"{_sha256(path)} {path.stat().st_size}\n"
    atomic_write(path.with_name(path.name + SIDECAR), lambda tmp: tmp.write_text(record))
    return path


def sidecar_ok(path: str | Path) -> bool:
    """Whether ``path`` matches the sha256 and size recorded beside it (``True`` when nothing is recorded)."""
    path = Path(path)
    sidecar = path.with_name(path.name + SIDECAR)
    if not sidecar.is_file():
        return True
    fields = sidecar.read_text(errors="replace").split()
    if not fields:
        return False
    if len(fields) > 1 and fields[1].isdigit() and int(fields[1]) != path.stat().st_size:
        return False
    return fields[0] == _sha256(path)


def discard(path: str | Path) -> None:
    """Delete a cache entry and its sidecar (nothing when they are gone or cannot be deleted)."""
    path = Path(path)
    for p in (path, path.with_name(path.name + SIDECAR)):
        with contextlib.suppress(OSError):
            p.unlink(missing_ok=True)


def cache_unwritable(root: str | Path, exc: BaseException) -> None:
    """Note that the cache folder ``root`` cannot be written; the first time in this process, warn once."""
    key = str(root)
    with _LOCK:
        first = not _UNWRITABLE
        _UNWRITABLE.add(key)
    if first:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        log.warning(
            "The cache folder %s cannot be written (%s): results are kept in memory for this session.", root, reason
        )


def reset() -> None:
    """Forget the values kept in memory and the folders noted as unwritable (e.g. after fixing permissions)."""
    with _LOCK:
        _MEMORY.clear()
        _UNWRITABLE.clear()


def _remember(key: str, value: Any) -> None:
    with _LOCK:
        _MEMORY[key] = value
        _MEMORY.move_to_end(key)
        while len(_MEMORY) > MEMORY_ENTRIES:
            _MEMORY.popitem(last=False)


def read_or_rebuild(
    path: str | Path,
    read: Callable[[Path], T],
    build: Callable[[], T],
    write: Callable[[Path, T], object],
    *,
    root: str | Path | None = None,
) -> T:
    """The cached value at ``path``: read it, or build it and store it.

    Args:
        path: the cache entry.
        read: reads an entry; any exception it raises (or a sidecar mismatch) means the entry is bad:
            a warning is logged, the entry deleted and rebuilt.
        build: makes the value.
        write: ``write(tmp_path, value)`` writes the value to a file (made atomic here).
        root: the cache folder named in the one warning when it cannot be written (default: the entry's folder).
    """
    path = Path(path)
    key = str(path)
    with _LOCK:
        if key in _MEMORY:
            return _MEMORY[key]
    if path.is_file():
        try:
            if not sidecar_ok(path):
                raise ValueError("it does not match the sha256 recorded when it was written")
            value = read(path)
        except Exception as exc:
            log.warning("The cache file %s could not be read (%s); it is deleted and rebuilt.", path, _reason(exc))
            discard(path)
        else:
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used: kept longest by prune()
            return value
    value = build()
    folder = str(root if root is not None else path.parent)
    if folder in _UNWRITABLE:
        _remember(key, value)
        return value
    try:
        write_entry(path, lambda tmp: write(tmp, value))
    except OSError as exc:
        cache_unwritable(folder, exc)
        _remember(key, value)
    return value


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def prune(folder: str | Path, *, max_bytes: int, max_age_s: float, pattern: str = "*") -> list[Path]:
    """Delete entries of ``folder`` older than ``max_age_s``, then the least recently used over ``max_bytes``.

    The most recently used entry is always kept.

    Returns:
        The deleted entries (their sidecars go with them).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    now = time.time()
    entries = []
    for p in folder.glob(pattern):
        if p.is_file() and not p.name.endswith(SIDECAR) and not p.name.startswith("."):
            try:
                st = p.stat()
            except OSError:
                continue
            entries.append((st.st_mtime, st.st_size, p))
    entries.sort(reverse=True)  # newest first
    removed, total = [], 0
    for i, (mtime, size, p) in enumerate(entries):
        total += size
        if now - mtime > max_age_s or (i > 0 and total > max_bytes):
            discard(p)
            removed.append(p)
    return removed
