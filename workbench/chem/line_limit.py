"""A byte stream that refuses over-long lines, so a damaged file cannot make a chunk of rows huge.

The chunked readers bound memory by rows; a row is only small when its line is. A "molecule file" whose
lines run to megabytes (a binary dump with few line breaks, a SMILES column pasted with a whole document)
would otherwise be read a chunk of rows at a time into gigabytes: a 1 GB CSV of 1,000 one-megabyte cells
took 4.8 GB. :class:`LineLimitedReader` passes the bytes through and raises :class:`LineTooLongError`,
naming the line, as soon as a line passes the limit.
"""

from __future__ import annotations

import io
from typing import IO

__all__ = ["MAX_LINE_BYTES", "LineLimitedReader", "LineTooLongError", "limit_lines"]

#: Longest line a molecule file may have: far above any SMILES (5,000 characters at most) with its columns.
MAX_LINE_BYTES = 100_000


class LineTooLongError(ValueError):
    """A line is longer than the limit; the message names the line."""


class LineLimitedReader(io.RawIOBase):
    """Reads ``raw`` unchanged; raises :class:`LineTooLongError` once a line exceeds ``limit`` bytes."""

    def __init__(self, raw: IO[bytes], limit: int = MAX_LINE_BYTES) -> None:
        self._raw, self._limit = raw, limit
        self._run = 0  # bytes of the current line seen so far
        self._line = 1  # the current line's number

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        if not data:
            return 0
        self._check(data)
        buffer[: len(data)] = data
        return len(data)

    def _check(self, data: bytes) -> None:
        parts = data.split(b"\n")
        for k, part in enumerate(parts):
            length = self._run + len(part) if k == 0 else len(part)
            if length > self._limit:
                raise LineTooLongError(
                    f"line {self._line + k} is longer than {self._limit:,} bytes; a molecule file's lines are "
                    "far shorter (is this the right file?)"
                )
        self._run = self._run + len(parts[0]) if len(parts) == 1 else len(parts[-1])
        self._line += len(parts) - 1


def limit_lines(raw: IO[bytes], limit: int = MAX_LINE_BYTES) -> io.BufferedReader:
    """``raw`` behind a buffer that refuses lines longer than ``limit`` bytes."""
    return io.BufferedReader(LineLimitedReader(raw, limit), buffer_size=1 << 16)
