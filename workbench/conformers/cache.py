"""An on-disk cache of conformer ensembles (one SQLite file)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path

from workbench.conformers.ensemble import ConformerEnsemble
from workbench.conformers.files import ensemble_from_bytes, ensemble_to_bytes

__all__ = ["ConformerCache"]


def _cache_key(smiles: str, settings: dict) -> str:
    text = smiles + "|" + json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class ConformerCache:
    """An on-disk store of ensembles in one SQLite file, keyed on canonical SMILES and settings.

    Each entry is a compressed :func:`ensemble_to_bytes` blob (about 1 KB per conformer of a
    drug-sized molecule), so thousands of molecules fit in a few tens of MB and are computed once.
    Ensembles and reproducible errors are stored; timeouts are not (they depend on the machine).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS ensembles "
                "(key TEXT PRIMARY KEY, smiles TEXT NOT NULL, settings TEXT NOT NULL, data BLOB NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, smiles: str, settings: dict) -> ConformerEnsemble | None:
        """The stored ensemble for a canonical SMILES and settings, or ``None``."""
        with self._connect() as db:
            row = db.execute("SELECT data FROM ensembles WHERE key = ?", (_cache_key(smiles, settings),)).fetchone()
        return ensemble_from_bytes(row[0]) if row else None

    def put(self, ensemble: ConformerEnsemble) -> bool:
        """Store an ensemble (skipped for unparsable inputs and timeouts); returns whether it was stored."""
        if not ensemble.smiles or ensemble.error.startswith(("timed out", "unexpected error")):
            return False
        self.put_many([ensemble])
        return True

    def put_many(self, ensembles: Sequence[ConformerEnsemble]) -> None:
        rows = [
            (
                _cache_key(e.smiles, e.settings),
                e.smiles,
                json.dumps(e.settings, sort_keys=True),
                ensemble_to_bytes(e),
            )
            for e in ensembles
            if e.smiles and not e.error.startswith(("timed out", "unexpected error"))
        ]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO ensembles VALUES (?, ?, ?, ?)", rows)

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM ensembles").fetchone()[0]

    def __iter__(self) -> Iterator[ConformerEnsemble]:
        with self._connect() as db:
            for (data,) in db.execute("SELECT data FROM ensembles ORDER BY rowid"):
                yield ensemble_from_bytes(data)
