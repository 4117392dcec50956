"""Uploaded molecule files: bytes and a file name in, a table out, or one sentence saying why not.

Whole-file problems (:class:`UploadError`) come first, before any molecule is parsed: too many bytes, empty, binary, not
decodable, more rows than the caller takes (counted on the raw lines); then broken quoting that merged
lines. UTF-8 (with or without a byte-order mark) and UTF-16/32 with a mark are read; other text is read
as Windows-1252 (Latin-1) with a note. Columns are found by content (:func:`detect_smiles_column`,
:func:`detect_value_columns`), each with its counts so a page can say why and let the user change it.
Molecule files are parsed by :func:`workbench.chem.files.read_molecules`.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from rdkit import Chem, rdBase

from workbench.chem.files import MoleculeFileError, csv_problem, read_molecules

__all__ = [
    "MAX_UPLOAD_BYTES",
    "SAMPLE_CELLS",
    "CheckedUpload",
    "ColumnGuess",
    "Upload",
    "UploadError",
    "UploadLimits",
    "check_upload",
    "column_guess",
    "detect_smiles_column",
    "detect_value_columns",
    "read_upload",
    "read_upload_table",
]

#: The largest upload the app accepts; ``server.maxUploadSize`` in ``.streamlit/config.toml`` says the same in MB.
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: Filled cells per column looked at to decide what a column holds.
SAMPLE_CELLS = 50
#: Rows read to sample the columns of a CSV/TSV.
_SAMPLE_ROWS = 200
#: Cells that mean "no value" (pandas' defaults, in any case).
_MISSING = {"", "na", "n/a", "nan", "null", "none", "-nan", "#n/a", "<na>", "-"}
_FORMATS = {".csv": "csv", ".tsv": "tsv", ".smi": "smi", ".smiles": "smi", ".txt": "smi", ".sdf": "sdf", ".sd": "sdf"}
_BOMS = (  # longest first: the UTF-32 LE mark starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", ""),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


class UploadError(ValueError):
    """An uploaded file cannot be used; ``str(exc)`` is one sentence for the user."""


@dataclass(frozen=True)
class UploadLimits:
    """What a page accepts: rows and bytes, and the command line that has no such limits.

    ``command`` names the file as ``FILE``; messages put the uploaded file's name there.
    """

    max_rows: int
    command: str
    max_bytes: int = MAX_UPLOAD_BYTES


@dataclass(frozen=True)
class ColumnGuess:
    """A column and how many of its sampled cells are ``kind`` (``molecules`` or ``numbers``)."""

    column: str
    hits: int
    sampled: int
    kind: str

    @property
    def reason(self) -> str:
        """E.g. ``48 of 50 sampled cells are molecules``."""
        return f"{self.hits} of {self.sampled} sampled cells are {self.kind}"

    @property
    def qualifies(self) -> bool:
        """Most sampled cells are ``kind``."""
        return self.sampled > 0 and self.hits * 2 > self.sampled


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the whole-file checks: UTF-8 bytes, its format and its number of records."""

    name: str
    data: bytes
    format: str
    records: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Upload:
    """A read upload.

    Attributes:
        table: :func:`read_molecules`' table (``smiles`` holds the SMILES column's cells) for
            :func:`read_upload`; the CSV with pandas' column types for :func:`read_upload_table`.
        name: the file's name.
        columns: the file's columns (CSV/TSV; empty for SMI and SDF), the choices for the SMILES column.
        smiles: the SMILES column used and why (``None`` for SMI/SDF and for :func:`read_upload_table`).
        values: the numeric columns, in file order.
        notes: sentences worth showing (e.g. how the file was decoded).
    """

    table: pd.DataFrame
    name: str
    columns: tuple[str, ...] = ()
    smiles: ColumnGuess | None = None
    values: tuple[ColumnGuess, ...] = ()
    notes: tuple[str, ...] = ()


def _format(name: str) -> str:
    lowered = name.lower()
    if lowered.endswith((".gz", ".zip", ".xlsx", ".xls")):
        raise UploadError(f"{name} is compressed or a workbook; save it as an uncompressed .csv, .smi or .sdf file.")
    fmt = _FORMATS.get(Path(lowered).suffix)
    if fmt is None:
        raise UploadError(f"{name} is not a molecule file this page reads; use .csv, .tsv, .smi or .sdf.")
    return fmt


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le``/``-be`` when every other byte of ``head`` is NUL (UTF-16 text without a mark)."""
    even, odd = head[0::2], head[1::2]
    if len(head) >= 4 and odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if len(head) >= 4 and even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _binary(name: str) -> UploadError:
    return UploadError(f"{name} is not a text file (it holds binary data); upload a CSV, SMILES or SDF file.")


def _decode(data: bytes, name: str) -> tuple[bytes, tuple[str, ...]]:
    """The upload as UTF-8 bytes, and a note when it was converted from a guess."""
    if data.startswith(b"PK\x03\x04"):
        raise UploadError(f"{name} is a ZIP archive or an Excel workbook, not text; save it as CSV and upload that.")
    if data.startswith(b"\x1f\x8b"):
        raise UploadError(f"{name} is gzip-compressed; unpack it and upload the text file.")
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError as exc:
                raise UploadError(
                    f"{name} starts with a {label or 'UTF-8'} mark but is not valid {label or 'UTF-8'} text."
                ) from exc
            return text.encode("utf-8"), ()  # UTF-16/32 with a mark is unambiguous: nothing to warn about
    head = data[:65536]
    if b"\x00" in head:
        codec = _utf16_without_bom(head)
        if codec is None:
            raise _binary(name)
        try:
            return data.decode(codec).encode("utf-8"), (f"{name} has no byte-order mark; it was read as UTF-16.",)
        except UnicodeDecodeError as exc:
            raise _binary(name) from exc
    try:
        text, notes = data.decode("utf-8"), ()
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")
        notes = (f"{name} is not UTF-8; it was read as Windows-1252 (Latin-1): check accented names.",)
    sample = text[:65536]
    controls = sum(1 for c in sample if ord(c) < 32 and c not in "\t\n\r\f\v")
    if controls > max(2, len(sample) // 100):
        raise _binary(name)
    return (data if not notes else text.encode("utf-8")), notes


def _count_records(data: bytes, fmt: str) -> int:
    """Records of a UTF-8 file, counted on the raw lines (no parsing): constant memory."""
    if b"\n" not in data and b"\r" in data:  # classic Mac line ends
        data = data.replace(b"\r", b"\n")
    if fmt == "sdf":
        ends = sum(1 for _ in re.finditer(rb"^\$\$\$\$", data, re.MULTILINE))
        return ends + (1 if data.rstrip().rsplit(b"\n", 1)[-1].strip() not in (b"$$$$", b"") else 0)
    if fmt == "smi":
        lines = sum(1 for _ in re.finditer(rb"^[ \t]*[^\s#]", data, re.MULTILINE))
        header = re.match(rb"(?:[ \t]*(?:#[^\n]*)?\n)*[ \t]*smiles\b", data, re.IGNORECASE) is not None
        return lines - header
    return max(sum(1 for _ in re.finditer(rb"^[ \t]*\S", data, re.MULTILINE)) - 1, 0)


def _sized(count: float, unit: str) -> str:
    return f"{count:,.1f} {unit}".replace(".0 ", " ")


def check_upload(data: bytes, filename: str, limits: UploadLimits) -> CheckedUpload:
    """Whole-file checks, in order: bytes, format, empty, binary, encoding, row count (raw lines).

    Raises:
        UploadError: one sentence naming the problem (and, for limits, the command line to use instead).
    """
    name = Path(filename or "upload").name
    command = f"`{limits.command.replace('FILE', name)}`"
    if len(data) > limits.max_bytes:
        raise UploadError(
            f"{name} is {_sized(len(data) / 2**20, 'MB')}, more than the {_sized(limits.max_bytes / 2**20, 'MB')} "
            f"this page takes; run {command} on the command line instead."
        )
    fmt = _format(name)
    if not data:
        raise UploadError(f"{name} is empty (0 bytes).")
    utf8, notes = _decode(data, name)
    if not utf8.strip():
        raise UploadError(f"{name} holds only blank lines.")
    records = _count_records(utf8, fmt)
    if records == 0:
        raise UploadError(
            f"{name} has a header line but no rows." if fmt in ("csv", "tsv") else f"{name} holds no molecules."
        )
    if records > limits.max_rows:
        raise UploadError(
            f"{name} has {records:,} rows, more than the {limits.max_rows:,} this page takes at once; split it, "
            f"or run {command} on the command line for all of them."
        )
    return CheckedUpload(name, utf8, fmt, records, notes)


def _cells(values: pd.Series) -> list[str]:
    cells: list[str] = []
    for value in values:
        text = "" if value is None or (isinstance(value, float) and value != value) else str(value).strip()
        if text.lower() not in _MISSING:
            cells.append(text)
            if len(cells) == SAMPLE_CELLS:
                break
    return cells


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def column_guess(frame: pd.DataFrame, column: str, kind: str = "molecules") -> ColumnGuess:
    """How many of the first :data:`SAMPLE_CELLS` filled cells of ``column`` are ``molecules`` or ``numbers``."""
    cells = _cells(frame[column])
    if kind == "numbers":
        return ColumnGuess(str(column), sum(_is_number(c) for c in cells), len(cells), kind)
    with rdBase.BlockLogs():
        hits = sum(not _is_number(c) and Chem.MolFromSmiles(c) is not None for c in cells)
    return ColumnGuess(str(column), hits, len(cells), "molecules")


def detect_smiles_column(frame: pd.DataFrame) -> ColumnGuess | None:
    """The column where most sampled cells parse as molecules (one named ``smiles`` first), else ``None``.

    Among several that qualify, a column named ``smiles`` (any case) wins, then the highest share
    of molecules, then the leftmost.
    """
    guesses = [column_guess(frame, c) for c in frame.columns if frame[c].dtype.kind not in "biufc"]
    found = [g for g in guesses if g.qualifies]
    if not found:
        return None
    named = [g for g in found if g.column.lower() == "smiles"]
    return named[0] if named else max(found, key=lambda g: g.hits / g.sampled)  # max keeps the first of ties


def detect_value_columns(frame: pd.DataFrame, exclude: tuple[str, ...] = ()) -> list[ColumnGuess]:
    """Columns (other than ``exclude``) where most sampled filled cells are numbers, in table order."""
    guesses = [column_guess(frame, c, "numbers") for c in frame.columns if str(c) not in exclude]
    return [g for g in guesses if g.qualifies]


def _sentence(text: str) -> str:
    text = text.strip()
    return text + ("" if text.endswith((".", "!", "?")) else ".")


def _check_rows(checked: CheckedUpload, rows: int) -> None:
    """Broken quoting merges lines: fewer rows parsed than the file has non-blank data lines."""
    if rows < checked.records:
        raise UploadError(
            f'{checked.name} has {checked.records:,} data lines but only {rows:,} rows could be read: a quote (") '
            "that is not closed merges lines; fix the quoting and upload it again."
        )


def _check_header(checked: CheckedUpload, frame: pd.DataFrame) -> pd.DataFrame:
    """pandas turns the first columns into an index when data lines have more fields than the header."""
    if not isinstance(frame.index, pd.RangeIndex):
        raise UploadError(
            f"{checked.name}: the data lines have more fields than the header line (a stray comma?); "
            "fix the file and upload it again."
        )
    return frame


def _sample(checked: CheckedUpload) -> pd.DataFrame:
    try:
        sample = pd.read_csv(
            io.BytesIO(checked.data),
            sep="\t" if checked.format == "tsv" else ",",
            dtype=str,
            keep_default_na=False,
            nrows=_SAMPLE_ROWS,
        )
    except pd.errors.ParserError as exc:
        raise UploadError(_sentence(csv_problem(exc, checked.name))) from exc
    return _check_header(checked, sample)


def read_upload(data: bytes, filename: str, limits: UploadLimits, smiles_column: str | None = None) -> Upload:
    """Check an uploaded molecule file and read it, its SMILES column found by content unless named.

    Raises:
        UploadError: the file as a whole cannot be used (see :func:`check_upload`), no column holds
            SMILES, the named column is missing, or the CSV's quoting is broken.
    """
    checked = check_upload(data, filename, limits)
    name, guess, columns = checked.name, None, ()
    if checked.format in ("csv", "tsv"):
        sample = _sample(checked)
        columns = tuple(str(c) for c in sample.columns)
        if smiles_column is None:
            guess = detect_smiles_column(sample)
            if guess is None:
                raise UploadError(
                    f"No column of {name} holds SMILES: in none of its columns ({', '.join(columns)}) do most "
                    "sampled cells parse as molecules."
                )
        elif smiles_column not in columns:
            raise UploadError(f"{name} has no column '{smiles_column}'; its columns are: {', '.join(columns)}.")
        else:
            guess = column_guess(sample, smiles_column)
    try:
        table = read_molecules(checked.data, filename=name, smiles_column=guess.column if guess else None)
    except MoleculeFileError as exc:
        raise UploadError(_sentence(str(exc))) from exc
    if checked.format in ("csv", "tsv"):
        _check_rows(checked, len(table))
    elif table.empty:
        raise UploadError(f"{name} holds no molecules.")
    others = tuple(c for c in table.columns if c in ("smiles", "read_error"))
    values = tuple(detect_value_columns(table, exclude=others))
    return Upload(table, name, columns, guess, values, checked.notes)


def read_upload_table(data: bytes, filename: str, limits: UploadLimits) -> Upload:
    """Check an uploaded CSV/TSV and read it with pandas' column types (for pages with their own column rules).

    Raises:
        UploadError: the file as a whole cannot be used (see :func:`check_upload`), it is not a CSV/TSV,
            or its quoting is broken.
    """
    checked = check_upload(data, filename, limits)
    if checked.format not in ("csv", "tsv"):
        raise UploadError(f"{checked.name} is not a CSV file; this page reads a CSV with a header line.")
    try:
        table = pd.read_csv(io.BytesIO(checked.data), sep="\t" if checked.format == "tsv" else ",")
    except pd.errors.ParserError as exc:
        raise UploadError(_sentence(csv_problem(exc, checked.name))) from exc
    _check_rows(checked, len(_check_header(checked, table)))
    columns = tuple(str(c) for c in table.columns)
    return Upload(table, checked.name, columns, None, tuple(detect_value_columns(table)), checked.notes)
