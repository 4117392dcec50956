"""RDKit 2D descriptor rows kept on disk for a reference set that every saved model featurizes again.

Saving a model on descriptors predicts the 2,628 approved drugs for its percentile reference
(:func:`workbench.predict.percentiles.compute_reference`), and their RDKit 2D rows took about 44 s of that on
one core, in every new process. Inside :func:`descriptor_rows_on_disk`, :func:`~workbench.featurizers.descriptors.
rdkit2d_raw` reads the rows it would compute from a file in the given folder and, when the block ends, adds the
rows it had to compute. A row depends only on the canonical SMILES, the descriptor list and the RDKit version, so
one file per list and version (``rdkit2d-<key>.npz``, with a sha256 sidecar) holds rows of any molecule; a
file that is unreadable, altered or for another list is ignored and written again. Outside the block nothing is
read or written.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import threading
import zipfile
from collections.abc import Iterator, Sequence
from contextvars import ContextVar
from pathlib import Path

import numpy as np
import rdkit

from workbench.cache import cache_unwritable, discard, sidecar_ok, write_entry

__all__ = ["ROWS_FOLDER", "ROWS_VERSION", "active_store", "descriptor_rows_on_disk", "rows_file"]

#: Bump when a descriptor function of :mod:`workbench.featurizers.descriptors` changes its values.
ROWS_VERSION = "1"
#: The folder of the workbench cache (``WORKBENCH_CACHE_DIR``, :func:`workbench.data.paths.cache_dir`) that holds the
#: rows: the approved-drug reference and the champion search keep theirs there.
ROWS_FOLDER = "descriptor_rows"
log = logging.getLogger("workbench.featurizers")
_ACTIVE: ContextVar[_Store | None] = ContextVar("descriptor_rows_on_disk", default=None)
_WRITE_LOCK = threading.Lock()


def rows_file(folder: str | Path, names: Sequence[str]) -> Path:
    """The file that holds rows for this descriptor list under this RDKit in ``folder``."""
    key = json.dumps([ROWS_VERSION, rdkit.__version__, list(names)])
    return Path(folder) / f"rdkit2d-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def _read(path: Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    """Rows by canonical SMILES from ``path``; empty (and the file deleted) when it is missing or not valid."""
    if not path.is_file():
        return {}
    try:
        if not sidecar_ok(path):
            raise ValueError("it does not match its recorded sha256")
        with np.load(path, allow_pickle=False) as data:
            stored_names = tuple(str(n) for n in data["names"])
            smiles = [str(s) for s in data["smiles"]]
            rows = np.asarray(data["rows"], dtype=np.float64)
        if stored_names != names or rows.shape != (len(smiles), len(names)):
            raise ValueError("its descriptor list or shape differs")
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        log.warning("descriptor rows in %s ignored and made again: %s", path, exc)
        discard(path)
        return {}
    return dict(zip(smiles, rows, strict=True))


class _Store:
    """The rows of one block: read once per descriptor list, new ones collected until the block ends."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._read: dict[tuple[str, ...], dict[str, np.ndarray]] = {}
        self._new: dict[tuple[str, ...], dict[str, np.ndarray]] = {}
        self._lock = threading.Lock()

    def rows(self, names: tuple[str, ...]) -> dict[str, np.ndarray]:
        """Stored rows for this descriptor list (read from disk on first use)."""
        with self._lock:
            if names not in self._read:
                self._read[names] = _read(rows_file(self.folder, names), names)
            return self._read[names]

    def remember(self, names: tuple[str, ...], smiles: str, row: np.ndarray) -> None:
        """Keep a newly computed row for writing when the block ends (and for the rest of the block: a second pass
        over more molecules than the in-memory cache holds, e.g. HIV's training and then all molecules, reads it)."""
        with self._lock:
            self._new.setdefault(names, {})[smiles] = row
            self._read.setdefault(names, {})[smiles] = row

    def flush(self) -> int:
        """Merge the new rows into their files; returns how many rows were added."""
        added = 0
        for names, new in self._new.items():
            path = rows_file(self.folder, names)
            with _WRITE_LOCK:
                merged = {**_read(path, names), **new}
                smiles = np.array(list(merged), dtype=str)
                rows = np.stack(list(merged.values())) if merged else np.zeros((0, len(names)))
                arrays = {"names": np.array(names, dtype=str), "smiles": smiles, "rows": rows}
                try:
                    self.folder.mkdir(parents=True, exist_ok=True)
                    write_entry(path, lambda tmp, a=arrays: np.savez_compressed(tmp, **a))
                except OSError as exc:  # a read-only or full cache: the rows are recomputed next time
                    cache_unwritable(self.folder, exc)
                    continue
            added += len(new)
        self._new.clear()
        return added


def active_store() -> _Store | None:
    """The store of the enclosing :func:`descriptor_rows_on_disk` block in this thread, if any."""
    return _ACTIVE.get()


@contextlib.contextmanager
def descriptor_rows_on_disk(folder: str | Path) -> Iterator[None]:
    """Within the block, RDKit 2D rows are read from and (at its end) added to files in ``folder``."""
    store = _Store(Path(folder))
    token = _ACTIVE.set(store)
    try:
        yield
    finally:
        _ACTIVE.reset(token)
        store.flush()
