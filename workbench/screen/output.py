"""Combine a screen's chunk files into its output Parquet file, streaming, with bounded memory.

Chunks are read one at a time, in library order, and appended with a :class:`pyarrow.parquet.ParquetWriter`
to a hidden ``.NAME.PID.partial`` file beside the output, renamed over ``NAME`` only when every row is
written: a run killed at any moment never leaves a truncated output. With ``--where`` only the matching
rows are written; with ``--top N --by COLUMN`` a running top N (at most N rows plus one chunk in memory)
is kept across chunks and written at the end, best first; rows whose ``COLUMN`` is missing (NaN, an
error row) are never among the top; ties keep library order.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from workbench.screen.where import WhereExpression

__all__ = ["partial_path", "top_rows", "write_output"]


def partial_path(output: Path) -> Path:
    """The hidden file an output is written to before its rename."""
    return output.with_name(f".{output.name}.{os.getpid()}.partial")


def _filtered(table: pa.Table, where: WhereExpression | None) -> pa.Table:
    if where is None or table.num_rows == 0:
        return table
    frame = table.select(where.columns).to_pandas()
    return table.filter(pa.array(where.evaluate(frame), type=pa.bool_()))


def top_rows(table: pa.Table, by: str, n: int, *, ascending: bool = False) -> pa.Table:
    """The ``n`` rows with the largest ``by`` (smallest when ``ascending``), best first; ties in table order.

    Rows whose ``by`` is null or NaN are left out.
    """
    column = table.column(by)
    valid = pc.is_valid(column)
    if pa.types.is_floating(column.type):
        valid = pc.and_(valid, pc.invert(pc.is_nan(column)))
    table = table.filter(valid)
    if table.num_rows == 0:
        return table
    order = pc.sort_indices(table, sort_keys=[(by, "ascending" if ascending else "descending")])  # stable
    return table.take(order[:n])


def write_output(
    chunk_files: Sequence[Path],
    output: Path,
    schema: pa.Schema,
    *,
    where: WhereExpression | None = None,
    top: int | None = None,
    by: str | None = None,
    ascending: bool = False,
) -> int:
    """Write the rows of ``chunk_files`` (in order) that pass ``where``, or their top ``top`` by ``by``.

    Returns:
        The number of rows written.
    """
    output = Path(output)
    partial = partial_path(output)
    written = 0
    best = schema.empty_table() if top is not None else None
    try:
        with pq.ParquetWriter(partial, schema) as writer:
            for file in chunk_files:
                table = _filtered(pq.read_table(file).cast(schema), where)
                if best is not None:
                    assert by is not None and top is not None
                    best = top_rows(pa.concat_tables([best, table]), by, top, ascending=ascending)
                elif table.num_rows:
                    writer.write_table(table)
                    written += table.num_rows
            if best is not None:
                writer.write_table(best)
                written = best.num_rows
        os.replace(partial, output)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return written
