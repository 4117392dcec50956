"""Shared pieces of the streaming batch verbs: argument checks before any work, chunk -> output writing.

A verb reads its input in chunks (:func:`workbench.chem.files.iter_molecule_chunks`), processes one
chunk, appends its rows to the output and forgets it, so peak memory is bounded by ``--chunk-size``.
Output files are written to a hidden ``.NAME.PID.partial`` file in the output folder and renamed
over ``NAME`` only when every row is written: an interrupted run (even ``kill -9``) never leaves a
partial ``NAME`` behind. Ctrl-C and ``kill`` (SIGTERM) also delete the hidden ``.partial`` file
(exit status 130 / 143); only ``kill -9`` leaves it, and the next run does not read it.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "ChunkWriter",
    "RowCounts",
    "UsageError",
    "add_chunk_option",
    "check_at_least",
    "check_common",
    "check_input",
    "check_output",
    "chunks_or_empty",
    "map_large_blocks",
    "note_stop_signal",
    "read_errors_first",
    "release_freed_memory",
    "stop_signal",
    "user_part",
]

#: Rows read, processed and written at a time; bounds the memory of every streaming verb.
DEFAULT_CHUNK_SIZE = 5_000


class UsageError(ValueError):
    """An argument that cannot work (missing input, output folder absent, batch size < 1); exit code 2."""


def add_chunk_option(parser: argparse.ArgumentParser, default: int = DEFAULT_CHUNK_SIZE) -> None:
    """The ``--chunk-size`` option shared by the streaming verbs."""
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=default,
        help=f"rows read, processed and written at a time; bounds memory (default {default:,})",
    )


def check_at_least(option: str, value: int | float, minimum: int | float = 1) -> None:
    """Refuse ``option`` below ``minimum``."""
    if value < minimum:
        raise UsageError(f"{option} must be at least {minimum}, not {value}")


def check_input(path: str, *, stdin: bool = False) -> None:
    """Refuse an input that is missing, a folder or unreadable (``-`` is stdin where ``stdin`` allows it)."""
    if stdin and path == "-":
        return
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"{path} is a folder; give a molecule file (.csv, .smi or .sdf)")
    if not p.is_file():
        raise UsageError(f"{path} does not exist")
    if not os.access(p, os.R_OK):
        raise UsageError(f"{path} cannot be read (permission denied)")


def check_output(path: str | None) -> None:
    """Refuse an output whose folder is missing or not writable, or that names a folder (None = stdout)."""
    if path is None or path == "-":
        return
    p = Path(path)
    if p.is_dir():
        raise UsageError(f"the output {path} is a folder; give a file name")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"the output folder {folder} does not exist; create it first")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UsageError(f"the output folder {folder} is not writable")


def check_common(args: argparse.Namespace, *, stdin: bool = False) -> None:
    """The checks every streaming verb makes (input, output and ``--chunk-size``), then :func:`map_large_blocks`."""
    check_input(args.input, stdin=stdin)
    check_output(getattr(args, "output", None))
    check_at_least("--chunk-size", args.chunk_size)
    map_large_blocks()


def chunks_or_empty(chunks: Iterable[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    """The chunks, or one empty frame when there are none (so an empty input still gets a header)."""
    import pandas as pd

    empty = True
    for chunk in chunks:
        empty = False
        yield chunk
    if empty:
        yield pd.DataFrame(columns=["smiles", "name", "read_error"])


def read_errors_first(result: pd.DataFrame, chunk: pd.DataFrame) -> pd.DataFrame:
    """``result`` with the reader's ``read_error`` (a broken SDF record, a bad .smi line) as its ``error``."""
    if "read_error" in chunk.columns:
        read = chunk["read_error"].fillna("").astype(str).tolist()
        result = result.copy()
        result["error"] = [r or e for r, e in zip(read, result["error"].tolist(), strict=True)]
    return result


def user_part(chunk: pd.DataFrame) -> pd.DataFrame:
    """The user's own columns of a chunk (everything but ``smiles`` and ``read_error``)."""
    return chunk.drop(columns=[c for c in ("smiles", "read_error") if c in chunk.columns]).reset_index(drop=True)


@dataclass
class RowCounts:
    """Rows written, rows with an error, rows changed by standardization."""

    rows: int = 0
    errors: int = 0
    warned: int = 0

    def add(self, frame: pd.DataFrame) -> None:
        self.rows += len(frame)
        if "error" in frame.columns:
            self.errors += int((frame["error"].fillna("").astype(str) != "").sum())
        if "warnings" in frame.columns:
            self.warned += int((frame["warnings"].fillna("").astype(str) != "").sum())


def release_freed_memory() -> bool:
    """Hand memory freed by the last chunk back to the system (glibc ``malloc_trim``); False where unavailable.

    Without it glibc keeps the freed arenas of each chunk's RDKit molecules and tensors, and the peak
    creeps up over a long file (``workbench predict`` with one GIN: ~0.93 GB after 65,000 rows, 1.13 GB
    at 100,000 before this and atom-bounded batches).
    """
    libc = _libc()
    if not libc:
        return False
    libc.malloc_trim(0)
    return True


_LIBC: object = None

#: glibc's ``mallopt`` parameter number of the mmap threshold (``M_MMAP_THRESHOLD`` in malloc.h).
_M_MMAP_THRESHOLD = -3
#: Allocations at least this large are mapped on their own and unmapped when freed.
LARGE_BLOCK_BYTES = 16 << 20


def _libc() -> object:
    global _LIBC
    if _LIBC is None:
        try:
            import ctypes

            _LIBC = ctypes.CDLL("libc.so.6")
            _LIBC.malloc_trim.argtypes = [ctypes.c_size_t]
            _LIBC.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        except (OSError, AttributeError):
            _LIBC = False
    return _LIBC


def map_large_blocks(threshold: int = LARGE_BLOCK_BYTES) -> bool:
    """Give every allocation of ``threshold`` bytes or more its own mapping (glibc ``mallopt``); False elsewhere.

    glibc raises its mmap threshold each time a large block is freed (up to 32 MiB), after which a batch's
    largest tensors are carved out of the heap, where freed space fragments and stays resident. A fixed
    threshold keeps them mapped, so they go back to the system when freed. Measured on one GIN over the
    41,127 HIV molecules in chunks of 1,000 (one thread): peak 875 MB without, 668 MB at 1 MiB but 60 %
    slower (each mapping's pages are faulted in afresh), 826 MB at 16 MiB (the default) at the same speed.
    """
    libc = _libc()
    return bool(libc) and bool(libc.mallopt(_M_MMAP_THRESHOLD, threshold))


#: The stop signal (SIGINT, SIGTERM) received while a verb runs, if any. A handler's exception can be lost: raised
#: while Python runs a ``__del__`` or a callback, it is printed as "Exception ignored" and the run goes on. So the
#: handlers also note the signal here, and :class:`ChunkWriter` stops at the next chunk.
_STOP: dict[str, int | None] = {"signal": None}


def note_stop_signal(signum: int | None) -> None:
    """Record a stop signal (``None`` clears it: a new run)."""
    _STOP["signal"] = signum


def stop_signal() -> int | None:
    """The stop signal noted since the run began, if any."""
    return _STOP["signal"]


def _stop_if_signalled() -> None:
    """Raise what the noted stop signal's handler raised (KeyboardInterrupt, or SystemExit(143) for SIGTERM)."""
    if stop_signal() == signal.SIGTERM:
        raise SystemExit(128 + signal.SIGTERM)
    if stop_signal() is not None:
        raise KeyboardInterrupt


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    """SIGTERM while writing: unwind (so the ``.partial`` file is deleted) and exit with 128 + 15."""
    note_stop_signal(signum)
    raise SystemExit(128 + signal.SIGTERM)


@dataclass
class ChunkWriter:
    """Append chunks to one output (a file, renamed into place on success, or stdout when ``path`` is None).

    CSV: the header comes from the first chunk; later chunks are written with the same columns in the
    same order (a column first seen later is left out and named once on stderr).
    """

    path: str | None
    counts: RowCounts = field(default_factory=RowCounts)
    columns: list[str] | None = None
    _handle: IO[str] | None = None
    _partial: Path | None = None
    _left_out: set[str] = field(default_factory=set)
    _previous_sigterm: object = None

    def __enter__(self) -> ChunkWriter:
        if self.path is None or self.path == "-":
            self._handle = sys.stdout
        else:
            target = Path(self.path)
            self._partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
            self._handle = self._partial.open("x", newline="", encoding="utf-8")
            if threading.current_thread() is threading.main_thread():
                self._previous_sigterm = signal.signal(signal.SIGTERM, _exit_on_sigterm)
        return self

    def write_csv(self, frame: pd.DataFrame) -> None:
        """Append a chunk's rows; the first chunk's columns decide the header."""
        _stop_if_signalled()
        if self.columns is None:
            self.columns = [str(c) for c in frame.columns]
            header = True
        else:
            header = False
            extra = [str(c) for c in frame.columns if str(c) not in self.columns and str(c) not in self._left_out]
            if extra:
                self._left_out.update(extra)
                print(
                    f"columns first seen after the first chunk were left out: {', '.join(extra)} "
                    "(use a larger --chunk-size to keep them)",
                    file=sys.stderr,
                )
            frame = frame.reindex(columns=self.columns)
        frame.to_csv(self._handle, index=False, header=header)
        self.counts.add(frame)
        release_freed_memory()

    def write_text(self, text: str) -> None:
        """Append text as it is (SDF blocks)."""
        _stop_if_signalled()
        assert self._handle is not None
        self._handle.write(text)

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        if self._handle is sys.stdout:
            sys.stdout.flush()
            return
        assert self._handle is not None and self._partial is not None
        if self._previous_sigterm is not None:
            signal.signal(signal.SIGTERM, self._previous_sigterm)
        self._handle.close()
        if kind is None and stop_signal() is None:
            os.replace(self._partial, Path(str(self.path)))
            return
        self._partial.unlink(missing_ok=True)
        # a stop signal whose exception was lost after the last chunk (or that a reader took for the end of its
        # input) must not commit a possibly truncated output as if the run had finished
        if kind is None:
            _stop_if_signalled()
