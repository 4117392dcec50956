"""The Ray screen's read stage: one read task per library file streams the local engine's chunks as rows.

A chunk an earlier run finished with the same input rows is passed on as a marker only; an unreadable file of a
folder is a ``skip`` row, a library that cannot be read a ``fatal`` row (see :mod:`workbench.screen.ray_engine`).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.screen.library import LibraryChunk, LibraryError, file_chunks

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = ["CHUNK", "FAILED", "FATAL", "RESUMED", "SKIP", "library_datasource", "read_file"]

#: Row kinds of the stream: a chunk to screen, a chunk finished earlier, a file skipped, a library that cannot be read,
#: a chunk that failed in its actor (the message is the exception's: Ray's own errors keep only its traceback text).
CHUNK, RESUMED, SKIP, FATAL, FAILED = "chunk", "resumed", "skip", "fatal", "failed"


def _chunk_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("kind", pa.string()),
            ("source", pa.string()),
            ("index", pa.int64()),
            ("first_row", pa.int64()),
            ("chunk_id", pa.string()),
            ("digest", pa.string()),
            ("smiles", pa.list_(pa.string())),
            ("read_errors", pa.list_(pa.string())),
            ("message", pa.string()),
        ]
    )


def _row(kind: str, chunk: LibraryChunk | None = None, digest: str = "", message: str = "", data: bool = True) -> dict:
    return {
        "kind": kind,
        "source": chunk.source if chunk else "",
        "index": chunk.index if chunk else -1,
        "first_row": chunk.first_row if chunk else 0,
        "chunk_id": chunk.chunk_id if chunk else "",
        "digest": digest,
        "smiles": list(chunk.smiles) if chunk and data else [],
        "read_errors": list(chunk.read_errors) if chunk and data else [],
        "message": message,
    }


def read_file(
    file: Path, source: str, chunk_size: int, smiles_column: str | None, single: bool, done: dict[str, str]
) -> Iterator[pa.Table]:
    """A read task: one block per chunk of one file (``done``: chunk id -> input hash of finished chunks)."""
    import pyarrow as pa

    schema = _chunk_schema()
    skipped: list[str] = []
    try:
        for chunk in file_chunks(
            file, source, chunk_size=chunk_size, smiles_column=smiles_column, single=single, on_skip=skipped.append
        ):
            digest = chunk.digest()
            finished = done.get(chunk.chunk_id) == digest
            yield pa.Table.from_pylist([_row(RESUMED if finished else CHUNK, chunk, digest, data=not finished)], schema)
    except LibraryError as exc:
        yield pa.Table.from_pylist([_row(FATAL, message=str(exc))], schema)
    for message in skipped:
        yield pa.Table.from_pylist([_row(SKIP, message=message)], schema)


def library_datasource(
    files: list[tuple[Path, str]], chunk_size: int, smiles_column: str | None, single: bool, done: dict[str, str]
) -> Any:
    """A Ray Data datasource with one read task per library file, run on the driver's node (made on first use: its
    base class is Ray's)."""
    from functools import partial

    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    class _LibraryDatasource(Datasource):
        @property
        def supports_distributed_reads(self) -> bool:
            return False  # the read tasks run where the driver is: the library need not be on the other nodes

        def get_name(self) -> str:
            return "ScreeningLibrary"

        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(self, parallelism: int, **_: Any) -> list[ReadTask]:
            return [
                ReadTask(
                    partial(read_file, file, source, chunk_size, smiles_column, single, done),
                    BlockMetadata(num_rows=None, size_bytes=None, input_files=[str(file)], exec_stats=None),
                )
                for file, source in files
            ]

    return _LibraryDatasource()
