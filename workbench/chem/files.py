"""Read molecule files (CSV, SMILES, SDF) into tables with one row per record, whole or in chunks.

:func:`iter_molecule_chunks` streams a file in frames of at most ``chunk_size`` rows (the CLI's
bounded-memory path); :func:`read_molecules` reads a whole file or upload and returns the same rows
in the same order. Every frame has a ``smiles`` column with the input strings; ``.smi`` and SDF
frames also have ``read_error`` (empty, or why the line or record could not be read).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from gzip import BadGzipFile, GzipFile
from pathlib import Path
from typing import IO

import pandas as pd
from rdkit import Chem, rdBase

from workbench.chem.line_limit import LineTooLongError, limit_lines

__all__ = [
    "MoleculeFileError",
    "csv_problem",
    "iter_molecule_chunks",
    "iter_smi_chunks",
    "read_molecules",
    "read_sdf",
    "read_smi",
    "smi_line",
]

#: Rows per frame when :func:`read_molecules` reads a file through the chunked readers.
_WHOLE = 50_000
_SMILES_CHARS = re.compile(r"[A-Za-z0-9]")


class MoleculeFileError(ValueError):
    """The file as a whole cannot be read (wrong type, no SMILES column, broken quoting, ...)."""


def smi_line(line: str, number: int) -> tuple[str, str, str] | None:
    """One line of a ``.smi`` file as ``(smiles, name, read_error)``; ``None`` for blank and ``#`` lines.

    The line is ``SMILES`` or ``SMILES <whitespace> NAME``; the name is the rest of the line and may
    hold spaces (``c1ccccc1 benzene ring``). A name must hold at least one letter or digit and its
    round and square brackets must balance: anything else after the SMILES (``CCO (((``) means a
    SMILES was broken by a space, and the line becomes a row whose ``read_error`` says so.
    """
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    parts = stripped.split(maxsplit=1)
    if len(parts) == 1:
        return parts[0], "", ""
    smiles, name = parts
    if _SMILES_CHARS.search(name) and _balanced(name):
        return smiles, name, ""
    return (
        stripped,
        "",
        f"line {number}: '{_short(name)}' after the SMILES '{_short(smiles)}' is not a name (a name holds a letter "
        "or digit and balanced brackets); a SMILES must not contain spaces.",
    )


def _balanced(text: str) -> bool:
    stack: list[str] = []
    for char in text:
        if char in "([":
            stack.append(")" if char == "(" else "]")
        elif char in ")]" and (not stack or stack.pop() != char):
            return False
    return not stack


def _short(text: str, width: int = 40) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _smi_chunks(handle: IO[str], chunk_size: int) -> Iterator[pd.DataFrame]:
    rows: list[tuple[str, str, str]] = []
    first = True
    for number, line in enumerate(handle, start=1):
        row = smi_line(line, number)
        if row is None:
            continue
        if first and row[0].lower() == "smiles" and not row[2]:  # header line
            first = False
            continue
        first = False
        rows.append(row)
        if len(rows) == chunk_size:
            yield pd.DataFrame(rows, columns=["smiles", "name", "read_error"])
            rows = []
    if rows:
        yield pd.DataFrame(rows, columns=["smiles", "name", "read_error"])


def iter_smi_chunks(handle: IO[str], *, chunk_size: int) -> Iterator[pd.DataFrame]:
    """``.smi`` lines from an open text handle (a file, stdin) in frames of at most ``chunk_size`` rows."""
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    return _smi_chunks(handle, chunk_size)


def read_smi(text: str) -> pd.DataFrame:
    """A ``.smi`` file's text: ``smiles``, ``name``, ``read_error`` per ``SMILES [name]`` line (:func:`smi_line`).

    Blank lines and ``#`` comments are skipped, a first line ``smiles ...`` is a header. This is the
    only reader that splits a line at whitespace: a CSV cell or a SMILES given directly must hold one
    SMILES and nothing else (see :func:`workbench.chem.text_problem`).
    """
    frames = list(_smi_chunks(io.StringIO(text), _WHOLE))
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["smiles", "name", "read_error"])


def _sdf_records(handle: IO[bytes]) -> Iterator[bytes]:
    """The raw records of an SDF, each up to and including its ``$$$$`` line."""
    lines: list[bytes] = []
    for line in handle:
        lines.append(line)
        if line.startswith(b"$$$$"):
            yield b"".join(lines)
            lines = []
    if any(line.strip() for line in lines):
        yield b"".join(lines)


def _sdf_row(record: bytes, number: int) -> dict[str, object]:
    with rdBase.BlockLogs():
        try:
            mol = next(Chem.ForwardSDMolSupplier(io.BytesIO(record), sanitize=True, removeHs=True))
        except Exception:  # RDKit raises several types on garbage
            mol = None
    if mol is None:
        title = record.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip()
        named = f" ('{_short(title)}')" if title else ""
        return {"smiles": "", "name": title, "read_error": f"SDF record {number}{named} could not be read"}
    row: dict[str, object] = {
        "smiles": Chem.MolToSmiles(mol),
        "name": mol.GetProp("_Name") if mol.HasProp("_Name") else "",
    }
    row.update(mol.GetPropsAsDict(includePrivate=False, includeComputed=False))
    row["read_error"] = ""
    return row


def _sdf_chunks(handle: IO[bytes], chunk_size: int) -> Iterator[pd.DataFrame]:
    rows: list[dict[str, object]] = []
    for number, record in enumerate(_sdf_records(handle), start=1):
        rows.append(_sdf_row(record, number))
        if len(rows) == chunk_size:
            yield pd.DataFrame(rows)
            rows = []
    if rows:
        yield pd.DataFrame(rows)


def read_sdf(data: bytes) -> pd.DataFrame:
    """An SDF file: SMILES of each record, its title as ``name`` and its properties.

    A record RDKit cannot read becomes a row with an empty ``smiles``, its title as ``name`` and a
    ``read_error`` saying which record it was.
    """
    frames = list(_sdf_chunks(io.BytesIO(data), _WHOLE))
    if not frames:
        return pd.DataFrame(columns=["smiles", "name", "read_error"])
    return pd.concat(frames, ignore_index=True)


def _csv_chunks(
    opener: Callable[[], IO[bytes]], name: str, *, tsv: bool, gzip: bool, chunk_size: int, smiles_column: str | None
) -> Iterator[pd.DataFrame]:
    """CSV/TSV in frames; a stray or unclosed quote that would swallow records is refused, naming its line."""
    line, records = 2, 0  # the next data row's line (the header is line 1) and the rows read so far
    rename: dict[str, str] | None = None
    with opener() as raw:
        handle = limit_lines(GzipFile(fileobj=raw) if gzip else raw)
        try:
            reader = pd.read_csv(
                handle,
                sep="\t" if tsv else ",",
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
                chunksize=chunk_size,
            )
            for frame in reader:
                if rename is None:
                    rename = _smiles_rename(frame.columns, smiles_column, name)
                line += _swallowed_records(frame, line, "\t" if tsv else ",", name)
                records += len(frame)
                yield frame.rename(columns=rename)
            if rename is None:  # a header and no rows: still check the columns, and say which they are
                with opener() as again:
                    header = pd.read_csv(again, sep="\t" if tsv else ",", compression="gzip" if gzip else None, nrows=0)
                yield header.rename(columns=_smiles_rename(header.columns, smiles_column, name)).astype(str)
        except (pd.errors.ParserError, UnicodeDecodeError, EOFError, BadGzipFile, OSError) as exc:
            raise MoleculeFileError(csv_problem(exc, name, line - records)) from exc
        except pd.errors.EmptyDataError as exc:
            raise MoleculeFileError(f"{name} is empty: a CSV needs a header line with a smiles column") from exc


def csv_problem(exc: Exception, name: str, offset: int = 2) -> str:
    """pandas' complaint about a CSV in one sentence, naming the file's line.

    ``offset`` turns pandas' record number (0 = the header) into a line number: 2 for a whole file
    read at once, more for a chunk that starts further down.
    """
    text = str(exc)
    match = re.search(r"EOF inside string starting at row (\d+)", text)
    if match:  # pandas counts records from 0 at the header: record N is data row N - 1
        line = int(match.group(1)) - 1 + offset
        return f'{name}, line {line}: a quote (") opens a field that is never closed'
    match = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if match:
        expected, at, saw = match.groups()
        return f"{name}, line {at}: {saw} fields where the header has {expected} (a stray comma or quote?)"
    detail = text.strip().splitlines()[0] if text.strip() else "no detail"
    return f"{name} is not a readable CSV file ({detail})"


def _swallowed_records(frame: pd.DataFrame, first_line: int, sep: str, name: str) -> int:
    """Lines the frame spans; refuse a quoted cell whose later lines look like whole records.

    A quoted cell may hold a line break (it is then an error row of its own), but when a line inside
    it holds as many separators as a record, a stray quote has swallowed the records after it: the file
    is refused, naming the line, rather than losing those rows silently. With a single column the two
    cannot be told apart, and the cell is kept.
    """
    extra = pd.Series(0, index=frame.index)
    for column in frame.columns:
        cells = frame[column]
        broken = cells.str.contains("\n", regex=False, na=False)
        if not broken.any():
            continue
        extra = extra + cells.str.count("\n").fillna(0).astype(int)
        needed = len(frame.columns) - 1
        for position in broken.to_numpy().nonzero()[0]:
            later = str(cells.iloc[position]).split("\n")[1:]
            if needed and any(part.count(sep) >= needed for part in later):
                line = first_line + position + int(extra.iloc[:position].sum())
                raise MoleculeFileError(
                    f"{name}, line {line}: a quote in column '{column}' opens a field that runs over "
                    f"{len(later)} line break(s) and swallows what look like whole records "
                    f"('{_short(later[0])}'); close or remove the stray quote"
                )
    for column in frame.columns:
        if "\n" in str(column):
            raise MoleculeFileError(f"{name}, line 1: a quoted column name runs over a line break (a stray quote?)")
    return len(frame) + int(extra.sum())


def _smiles_rename(columns: pd.Index, smiles_column: str | None, name: str) -> dict[str, str]:
    column = smiles_column or _guess_smiles_column(columns)
    if column is None or column not in columns:
        raise MoleculeFileError(
            f"{name} has no SMILES column"
            + (f" named '{smiles_column}'" if smiles_column else "")
            + f"; its columns are: {', '.join(map(str, columns))}"
        )
    if column == "smiles":
        return {}
    return {column: "smiles", **({"smiles": "smiles_original"} if "smiles" in columns else {})}


def _format(name: str) -> str:
    suffix = "".join(Path(name).suffixes[-2:]).lower()
    if suffix.endswith((".sdf", ".sd", ".mol")):
        return "sdf"
    if suffix.endswith((".smi", ".smiles", ".txt")):
        return "smi"
    if suffix.endswith((".csv", ".tsv", ".csv.gz", ".tsv.gz")):
        return "tsv" if ".tsv" in suffix else "csv"
    raise MoleculeFileError(f"cannot read '{Path(name).name}': use .csv (with a smiles column), .smi or .sdf")


def _chunks(
    opener: Callable[[], IO[bytes]], name: str, chunk_size: int, smiles_column: str | None
) -> Iterator[pd.DataFrame]:
    kind = _format(name)
    shown = Path(name).name
    try:
        if kind == "sdf":
            with opener() as raw:
                yield from _sdf_chunks(limit_lines(raw), chunk_size)
        elif kind == "smi":
            with opener() as raw, io.TextIOWrapper(limit_lines(raw), encoding="utf-8", errors="replace") as handle:
                yield from _smi_chunks(handle, chunk_size)
        else:
            yield from _csv_chunks(
                opener,
                shown,
                tsv=kind == "tsv",
                gzip=name.lower().endswith(".gz"),
                chunk_size=chunk_size,
                smiles_column=smiles_column,
            )
    except LineTooLongError as exc:  # raised from inside the parsers' reads
        raise MoleculeFileError(f"{shown}, {exc}") from None


def iter_molecule_chunks(
    path: str | Path, *, chunk_size: int, smiles_column: str | None = None
) -> Iterator[pd.DataFrame]:
    """Stream a molecule file in frames of at most ``chunk_size`` rows, in file order.

    The rows are those of :func:`read_molecules` (``smiles`` plus the file's other columns; for
    ``.smi`` and SDF a ``read_error`` column); peak memory is bounded by ``chunk_size``.

    Raises:
        MoleculeFileError: unknown format, no SMILES column, or broken CSV quoting (naming the line);
            raised when the problem is reached, so frames before it may already have been yielded.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    path = Path(path)
    _format(path.name)  # refuse an unknown format before opening anything
    yield from _chunks(lambda: path.open("rb"), str(path), chunk_size, smiles_column)


def read_molecules(
    source: str | Path | bytes, *, filename: str | None = None, smiles_column: str | None = None
) -> pd.DataFrame:
    """Read a molecule file into a frame whose ``smiles`` column holds the input strings.

    Args:
        source: a path, or the file's bytes (uploads) together with ``filename``.
        filename: decides the format by its suffix when ``source`` is bytes.
        smiles_column: for CSV/TSV, the column holding SMILES (default: one named
            ``smiles`` in any case, else ``SMILES``/``mol``/``canonical_smiles``).

    Raises:
        MoleculeFileError: unknown format, no SMILES column, or broken CSV quoting.
    """
    if isinstance(source, bytes):
        data, name = source, filename or ""
        frames = list(_chunks(lambda: io.BytesIO(data), name, _WHOLE, smiles_column))
    else:
        name = filename or str(source)
        path = Path(source)
        frames = list(_chunks(lambda: path.open("rb"), name, _WHOLE, smiles_column))
    if not frames:  # an SDF or .smi without records
        return pd.DataFrame(columns=["smiles", "name", "read_error"])
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _guess_smiles_column(columns: pd.Index) -> str | None:
    lowered = {str(c).lower(): str(c) for c in columns}
    for candidate in ("smiles", "canonical_smiles", "mol", "molecule"):
        if candidate in lowered:
            return lowered[candidate]
    return None
