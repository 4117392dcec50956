"""Screening libraries: a molecule file or a folder of them, read in chunks that know where they came from.

Formats: CSV / TSV (a SMILES column), ``.smi``, SDF and Parquet, each optionally gzipped (``.csv.gz``,
``.smi.gz``, ``.sdf.gz``; Parquet compresses inside the file). CSV, ``.smi`` and SDF go through the
workbench's own chunked readers (:func:`workbench.chem.files.iter_molecule_chunks`: over-long lines and
broken quoting refused, naming the line); Parquet through pyarrow's ``iter_batches``. Every chunk is
identified by its source file and its index in that file, and carries its rows' 0-based row numbers.

In a folder, files are read in sorted order (sub-folders included, hidden ones skipped); a file that
cannot be read is reported through ``on_skip`` (a :class:`UnreadableFileWarning` by default) and skipped.
``--library moses`` is the MOSES training set (1.58 M SMILES) shipped in the PyPI package ``molsets``.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import importlib.metadata
import importlib.util
import re
import warnings
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "LIBRARY_SUFFIXES",
    "NAMED_LIBRARIES",
    "LibraryChunk",
    "LibraryError",
    "UnreadableFileWarning",
    "count_rows",
    "file_chunks",
    "iter_library",
    "library_files",
    "moses_path",
    "resolve_library",
]

#: File endings read as molecule files (each also with ``.gz``, except Parquet).
LIBRARY_SUFFIXES = (".csv", ".tsv", ".smi", ".smiles", ".sdf", ".sd", ".parquet")
#: Libraries named with ``--library`` and where they come from.
NAMED_LIBRARIES = {"moses": "the MOSES training set (1,584,663 SMILES) in the PyPI package molsets==0.3.1"}
_MOSES_FILE = ("dataset", "data", "train.csv.gz")
_MOSES_INSTALL = "pip install --no-deps molsets==0.3.1"


class LibraryError(ValueError):
    """A library (or one of its files) that cannot be read; the message names the file."""


class UnreadableFileWarning(UserWarning):
    """A file of a library folder was skipped (or read only in part); the message names it and says why."""


@dataclass(frozen=True)
class LibraryChunk:
    """Consecutive rows of one library file: their SMILES text and any reader error per row."""

    source: str  # the file's path relative to the library folder (its name for a single file)
    index: int  # 0-based chunk number within the file
    first_row: int  # 0-based row number of the first row within the file
    smiles: list[str]
    read_errors: list[str]

    def __len__(self) -> int:
        return len(self.smiles)

    @property
    def chunk_id(self) -> str:
        """A file-name-safe id, unique per (source, index): ``<name>-<hash of source>-<index>``."""
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.source)[-60:]
        tag = hashlib.sha1(self.source.encode("utf-8")).hexdigest()[:8]
        return f"{safe}-{tag}-{self.index:06d}"

    def digest(self) -> str:
        """sha256 of the chunk's input rows (their SMILES text, one per line)."""
        h = hashlib.sha256()
        for s in self.smiles:
            h.update(s.encode("utf-8", errors="surrogatepass"))
            h.update(b"\n")
        return h.hexdigest()


def moses_path() -> Path:
    """The MOSES training set file inside the installed ``molsets`` package (the package is never imported).

    Raises:
        LibraryError: molsets is not installed, or its data file is missing.
    """
    folder: Path | None = None
    try:
        spec = importlib.util.find_spec("moses")
    except (ImportError, ValueError):
        spec = None
    if spec is not None and spec.origin:
        folder = Path(spec.origin).parent
    else:
        try:
            files = importlib.metadata.files("molsets") or []
        except importlib.metadata.PackageNotFoundError:
            files = []
        for entry in files:
            if entry.name == "__init__.py" and entry.parts[:1] == ("moses",) and len(entry.parts) == 2:
                folder = Path(str(entry.locate())).parent
    if folder is None:
        raise LibraryError(f"--library moses needs the PyPI package molsets; install it with: {_MOSES_INSTALL}")
    path = folder.joinpath(*_MOSES_FILE)
    if not path.is_file():
        raise LibraryError(f"molsets is installed but {path} is missing; reinstall it with: {_MOSES_INSTALL}")
    return path


def resolve_library(path: str | Path | None = None, name: str | None = None) -> Path:
    """The library to read: a named one (``moses``) or a path that exists; exactly one of the two."""
    if (path is None) == (name is None):
        raise LibraryError("give a library file or folder, or --library NAME (not both)")
    if name is not None:
        if name != "moses":
            raise LibraryError(f"unknown library '{name}'; named libraries: {', '.join(NAMED_LIBRARIES)}")
        return moses_path()
    p = Path(path)  # type: ignore[arg-type]
    if not p.exists():
        raise LibraryError(f"{p} does not exist")
    return p


def _kind(path: Path) -> str | None:
    """``csv``, ``smi``, ``sdf`` or ``parquet`` by the file's ending, else None."""
    name = path.name.lower()
    name = name[:-3] if name.endswith(".gz") else name
    if name.endswith(".parquet"):
        return None if path.name.lower().endswith(".gz") else "parquet"
    for suffix, kind in ((".csv", "csv"), (".tsv", "csv"), (".smi", "smi"), (".smiles", "smi")):
        if name.endswith(suffix):
            return kind
    return "sdf" if name.endswith((".sdf", ".sd")) else None


def library_files(path: str | Path) -> list[tuple[Path, str]]:
    """``(file, source name)`` pairs: the file itself, or every non-hidden file under a folder, sorted."""
    root = Path(path)
    if root.is_file():
        return [(root, root.name)]
    if not root.is_dir():
        raise LibraryError(f"{root} does not exist")
    found = []
    for file in sorted(root.rglob("*")):
        rel = file.relative_to(root)
        if file.is_file() and not any(part.startswith(".") for part in rel.parts):
            found.append((file, rel.as_posix()))
    return found


def count_rows(path: str | Path) -> int | None:
    """About how many rows the library holds (line or record count; Parquet metadata), or None if unknown.

    Reads each text file once without parsing (gzip: decompressing), which is fast next to prediction.
    """
    total = 0
    try:
        for file, _ in library_files(path):
            kind = _kind(file)
            if kind == "parquet":
                import pyarrow.parquet as pq

                total += pq.ParquetFile(file).metadata.num_rows
            elif kind is not None:
                marker = b"$$$$" if kind == "sdf" else b"\n"
                opener = gzip.open if file.name.lower().endswith(".gz") else open
                with opener(file, "rb") as handle:
                    count = sum(block.count(marker) for block in iter(lambda h=handle: h.read(1 << 20), b""))
                total += max(0, count - (1 if kind == "csv" else 0))
    except Exception:  # only an estimate for the progress bar: an unreadable file is reported when read
        return None
    return total


def _text_chunks(file: Path, kind: str, chunk_size: int, smiles_column: str | None) -> Iterator[tuple[list, list]]:
    """``(smiles, read_errors)`` lists per chunk of a CSV, ``.smi`` or SDF file (gzipped or not)."""
    from workbench.chem.files import iter_molecule_chunks

    gzipped = file.name.lower().endswith(".gz")
    if gzipped and kind != "csv":  # the chem readers take .csv.gz; feed them the decompressed stream
        from workbench.chem.files import _chunks

        frames = _chunks(functools.partial(gzip.open, file, "rb"), str(file)[:-3], chunk_size, smiles_column)
    else:
        frames = iter_molecule_chunks(file, chunk_size=chunk_size, smiles_column=smiles_column)
    for frame in frames:
        if "smiles" not in frame.columns:
            continue
        smiles = frame["smiles"].fillna("").astype(str).tolist()
        if "read_error" in frame.columns:
            errors = frame["read_error"].fillna("").astype(str).tolist()
        else:
            errors = [""] * len(smiles)
        yield smiles, errors


def _parquet_column(schema_names: list[str], smiles_column: str | None, name: str) -> str:
    if smiles_column:
        if smiles_column not in schema_names:
            raise LibraryError(f"{name} has no column '{smiles_column}'; its columns are: {', '.join(schema_names)}")
        return smiles_column
    lowered = {c.lower(): c for c in schema_names}
    for candidate in ("smiles", "canonical_smiles", "mol", "molecule"):
        if candidate in lowered:
            return lowered[candidate]
    raise LibraryError(f"{name} has no SMILES column; its columns are: {', '.join(schema_names)}")


def _parquet_chunks(file: Path, chunk_size: int, smiles_column: str | None) -> Iterator[tuple[list, list]]:
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(file)
    column = _parquet_column(parquet.schema_arrow.names, smiles_column, file.name)
    for batch in parquet.iter_batches(batch_size=chunk_size, columns=[column]):
        smiles = ["" if s is None else str(s) for s in batch.column(0).to_pylist()]
        yield smiles, [""] * len(smiles)


def _file_chunks(file: Path, chunk_size: int, smiles_column: str | None) -> Iterator[tuple[list, list]]:
    kind = _kind(file)
    if kind is None:
        endings = ", ".join(LIBRARY_SUFFIXES)
        raise LibraryError(f"{file.name} is not a molecule file (read: {endings}, each optionally .gz)")
    if kind == "parquet":
        return _parquet_chunks(file, chunk_size, smiles_column)
    return _text_chunks(file, kind, chunk_size, smiles_column)


#: What a reader raises on a damaged or foreign file (besides ValueError, which covers the chem readers and pyarrow).
_READ_ERRORS = (ValueError, OSError, EOFError, UnicodeDecodeError, zlib.error, gzip.BadGzipFile)


def _warn(message: str) -> None:
    warnings.warn(message, UnreadableFileWarning, stacklevel=3)


def file_chunks(
    file: Path,
    source: str,
    *,
    chunk_size: int,
    smiles_column: str | None = None,
    single: bool = False,
    on_skip: Callable[[str], None] | None = None,
) -> Iterator[LibraryChunk]:
    """One library file's chunks (``source`` is its name in the library), in order.

    A read error ends the file: raised as a :class:`LibraryError` when the file is the whole library
    (``single``), else reported through ``on_skip`` (a :class:`UnreadableFileWarning` by default) in one
    sentence naming the file and how many rows were read before it.
    """
    row = index = 0
    try:
        for smiles, errors in _file_chunks(file, chunk_size, smiles_column):
            if not smiles:
                continue
            yield LibraryChunk(source, index, row, smiles, errors)
            row += len(smiles)
            index += 1
    except _READ_ERRORS as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if single:
            raise LibraryError(reason if source in reason else f"{source}: {reason}") from exc
        where = f"after {row:,} rows " if row else ""
        (on_skip or _warn)(f"skipped {source} {where}(cannot be read: {reason})")


def iter_library(
    path: str | Path,
    *,
    chunk_size: int,
    smiles_column: str | None = None,
    on_skip: Callable[[str], None] | None = None,
) -> Iterator[LibraryChunk]:
    """Stream a library file or folder in chunks of at most ``chunk_size`` rows, file by file, in order.

    Args:
        path: a molecule file, or a folder of them.
        chunk_size: rows per chunk (bounds memory).
        smiles_column: the SMILES column of CSV and Parquet files (default: ``smiles`` in any case, ...).
        on_skip: told, in one sentence naming the file, about each file of a folder skipped or cut short
            (default: an :class:`UnreadableFileWarning`).

    Raises:
        LibraryError: the path is missing, or it is a single file that cannot be read.
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
    root = Path(path)
    files = library_files(root)
    single = root.is_file()
    for file, source in files:
        yield from file_chunks(
            file, source, chunk_size=chunk_size, smiles_column=smiles_column, single=single, on_skip=on_skip
        )
