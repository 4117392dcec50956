"""An on-disk cache of conformer ensembles (one SQLite file) that heals itself.

A file that is not an SQLite database, or a corrupt one, is moved aside (``<file>.corrupt``) with a warning
and a new cache is started; an entry that cannot be decoded is deleted and computed again. When the file
cannot be written (read-only folder or file, full disk, locked), ensembles are kept in memory for the
session and one warning says so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from workbench.cache import cache_unwritable
from workbench.conformers.ensemble import ConformerEnsemble
from workbench.conformers.files import ensemble_from_bytes, ensemble_to_bytes

__all__ = ["ConformerCache"]

log = logging.getLogger("workbench.cache")
_SKIPPED = ("timed out", "unexpected error")


def _cache_key(smiles: str, settings: dict) -> str:
    text = smiles + "|" + json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


def _unwritable(exc: BaseException) -> bool:
    """Errors of a file that cannot be written (as opposed to a file that is not a sound database)."""
    return isinstance(exc, OSError | sqlite3.OperationalError)


class ConformerCache:
    """An on-disk store of ensembles in one SQLite file, keyed on canonical SMILES and settings.

    Each entry is a compressed :func:`ensemble_to_bytes` blob (about 1 KB per conformer of a
    drug-sized molecule), so thousands of molecules fit in a few tens of MB and are computed once.
    Ensembles and reproducible errors are stored; timeouts are not (they depend on the machine).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._memory: dict[str, bytes] | None = None  # set when the file cannot be written
        self._open()

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def _open(self, retry: bool = True) -> None:
        self._disk = False  # whether entries can be read from the file
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                tables = db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()  # not a DB: fails
                if ("ensembles",) not in tables:
                    db.execute(
                        "CREATE TABLE ensembles "
                        "(key TEXT PRIMARY KEY, smiles TEXT NOT NULL, settings TEXT NOT NULL, data BLOB NOT NULL)"
                    )
                db.execute("SELECT key, data FROM ensembles LIMIT 1").fetchall()
            self._disk = True
        except (OSError, sqlite3.DatabaseError) as exc:
            if _unwritable(exc) or not retry:
                self._to_memory(exc)
            else:
                self._move_aside(exc)
                self._open(retry=False)

    def _move_aside(self, exc: BaseException) -> None:
        aside = self.path.with_name(self.path.name + ".corrupt")
        try:
            os.replace(self.path, aside)
            where = f"moved to {aside}"
        except OSError:
            self.path.unlink(missing_ok=True)
            where = "deleted"
        log.warning("The conformer cache %s is not a readable SQLite database (%s); it was %s and a new one started.",
                    self.path, exc, where)  # fmt: skip

    def _to_memory(self, exc: BaseException) -> None:
        if self._memory is None:
            self._memory = {}
            cache_unwritable(self.path, exc)

    def _recover(self, exc: BaseException) -> None:
        """A query failed: keep ensembles in memory if the file cannot be written, else start a new file."""
        if _unwritable(exc):
            self._to_memory(exc)
        else:
            self._move_aside(exc)
            self._open(retry=False)

    def get(self, smiles: str, settings: dict) -> ConformerEnsemble | None:
        """The stored ensemble for a canonical SMILES and settings, or ``None``."""
        key = _cache_key(smiles, settings)
        if self._memory is not None and key in self._memory:
            return ensemble_from_bytes(self._memory[key])
        if not self._disk:
            return None
        try:
            with self._connect() as db:
                row = db.execute("SELECT data FROM ensembles WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:
            self._recover(exc)
            return None
        if not row:
            return None
        try:
            return ensemble_from_bytes(row[0])
        except Exception as exc:
            log.warning("A conformer cache entry of %s in %s could not be read (%s); it is computed again.",
                        smiles, self.path, type(exc).__name__)  # fmt: skip
            self._delete(key)
            return None

    def _delete(self, key: str) -> None:
        try:
            with self._connect() as db:
                db.execute("DELETE FROM ensembles WHERE key = ?", (key,))
        except sqlite3.DatabaseError as exc:
            self._recover(exc)

    def put(self, ensemble: ConformerEnsemble) -> bool:
        """Store an ensemble (skipped for unparsable inputs and timeouts); returns whether it was stored."""
        if not ensemble.smiles or ensemble.error.startswith(_SKIPPED):
            return False
        self.put_many([ensemble])
        return True

    def put_many(self, ensembles: Sequence[ConformerEnsemble]) -> None:
        """Store ensembles (unparsable inputs and timeouts are skipped)."""
        rows = [
            (_cache_key(e.smiles, e.settings), e.smiles, json.dumps(e.settings, sort_keys=True), ensemble_to_bytes(e))
            for e in ensembles
            if e.smiles and not e.error.startswith(_SKIPPED)
        ]
        self._put_rows(rows)

    def _put_rows(self, rows: list[tuple[str, str, str, bytes]], retry: bool = True) -> None:
        if self._memory is None:
            try:
                with self._connect() as db:
                    db.executemany("INSERT OR REPLACE INTO ensembles VALUES (?, ?, ?, ?)", rows)
                return
            except sqlite3.DatabaseError as exc:
                if retry:
                    self._recover(exc)
                else:
                    self._to_memory(exc)
                if self._memory is None:  # a new file was started: store there
                    self._put_rows(rows, retry=False)
                    return
        self._memory.update((key, data) for key, _smiles, _settings, data in rows)

    def __len__(self) -> int:
        on_disk = 0
        if self._disk:
            try:
                with self._connect() as db:
                    on_disk = db.execute("SELECT COUNT(*) FROM ensembles").fetchone()[0]
            except sqlite3.DatabaseError as exc:
                self._recover(exc)
        return on_disk + len(self._memory or {})

    def __iter__(self) -> Iterator[ConformerEnsemble]:
        if self._disk:
            with self._connect() as db:
                for (data,) in db.execute("SELECT data FROM ensembles ORDER BY rowid"):
                    yield ensemble_from_bytes(data)
        yield from (ensemble_from_bytes(data) for data in list((self._memory or {}).values()))
