"""Read molecule files (CSV, SMILES, SDF) into a table with one row per record."""

from __future__ import annotations

import io
from pathlib import Path

import pandas as pd
from rdkit import Chem, rdBase

__all__ = ["MoleculeFileError", "read_molecules", "read_sdf", "read_smi"]


class MoleculeFileError(ValueError):
    """The file as a whole cannot be read (wrong type, no SMILES column, ...)."""


def read_smi(text: str) -> pd.DataFrame:
    """A ``.smi`` file: one ``SMILES [name]`` per line; blank lines and ``#`` comments skipped.

    This is the only reader that splits a line at whitespace: a CSV cell or a SMILES given
    directly must hold one SMILES and nothing else (see :func:`workbench.chem.text_problem`).
    """
    smiles, names = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        parts = stripped.split(maxsplit=1)
        if parts[0].lower() == "smiles" and not smiles:  # header line
            continue
        smiles.append(parts[0])
        names.append(parts[1] if len(parts) > 1 else "")
    return pd.DataFrame({"smiles": smiles, "name": names})


def read_sdf(data: bytes) -> pd.DataFrame:
    """An SDF file: SMILES of each record, its title as ``name`` and its properties.

    A record RDKit cannot read becomes a row with an empty ``smiles`` and a
    ``read_error`` saying which record it was.
    """
    supplier = Chem.ForwardSDMolSupplier(io.BytesIO(data), sanitize=True, removeHs=True)
    rows = []
    with rdBase.BlockLogs():
        for k, mol in enumerate(supplier, start=1):
            if mol is None:
                rows.append({"smiles": "", "name": "", "read_error": f"SDF record {k} could not be read"})
                continue
            row = {"smiles": Chem.MolToSmiles(mol), "name": mol.GetProp("_Name") if mol.HasProp("_Name") else ""}
            row.update(mol.GetPropsAsDict(includePrivate=False, includeComputed=False))
            row["read_error"] = ""
            rows.append(row)
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=["smiles", "name", "read_error"])
    return frame


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
        MoleculeFileError: unknown format or no SMILES column.
    """
    if isinstance(source, bytes):
        data, name = source, filename or ""
    else:
        data, name = Path(source).read_bytes(), filename or str(source)
    suffix = "".join(Path(name).suffixes[-2:]).lower()
    if suffix.endswith((".sdf", ".sd", ".mol")):
        return read_sdf(data)
    if suffix.endswith((".smi", ".smiles", ".txt")):
        return read_smi(data.decode("utf-8", errors="replace"))
    if suffix.endswith((".csv", ".tsv", ".csv.gz")):
        sep = "\t" if ".tsv" in suffix else ","
        compression = "gzip" if suffix.endswith(".gz") else None
        try:
            frame = pd.read_csv(
                io.BytesIO(data),
                sep=sep,
                compression=compression,
                dtype=str,
                keep_default_na=False,
                skip_blank_lines=False,
            )
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise MoleculeFileError(f"{Path(name).name} is not a readable CSV file: {exc}") from exc
        column = smiles_column or _guess_smiles_column(frame.columns)
        if column is None or column not in frame.columns:
            raise MoleculeFileError(
                f"{Path(name).name} has no SMILES column"
                + (f" named '{smiles_column}'" if smiles_column else "")
                + f"; its columns are: {', '.join(map(str, frame.columns))}"
            )
        if column != "smiles":
            frame = frame.rename(
                columns={column: "smiles", **({"smiles": "smiles_original"} if "smiles" in frame.columns else {})}
            )
        return frame
    raise MoleculeFileError(f"cannot read '{Path(name).name}': use .csv (with a smiles column), .smi or .sdf")


def _guess_smiles_column(columns: pd.Index) -> str | None:
    lowered = {str(c).lower(): str(c) for c in columns}
    for candidate in ("smiles", "canonical_smiles", "mol", "molecule"):
        if candidate in lowered:
            return lowered[candidate]
    return None
