"""The upload widget every page uses: file uploader, checks, the SMILES column found by content, errors as one sentence.

Limits per page (rows; bytes are :data:`workbench.chem.uploads.MAX_UPLOAD_BYTES`, the same as
``server.maxUploadSize``), each with the command line that has none:

* Property prediction: :data:`workbench.predict.table.MAX_ROWS`, what ``prediction_table`` accepts.
* Text retrieval libraries and screening: every molecule is parsed and featurized before any is
  embedded, so memory grows with the rows (issue 12: 331,000 rows took the server to 20 GB, about
  60 KB a row); 10,000 rows is about 0.6 GB, the size the upload embedding cache is planned for
  (``retrieval.library.UPLOAD_CACHE_BYTES``).
* Activity cliffs: all pairs are compared (three similarities for each of n × n cells, computed
  1,024 rows at a time); 5,000 molecules is 25 million cells, 1.9 times the 13.4 million of the
  largest MoleculeACE target (CHEMBL234_Ki, 3,657 molecules; measured on a shared 2-core machine:
  65 s and a 0.96 GB peak with pairs listed down to similarity 0.7); time grows with n².
* Train on your data: 10,000 rows, as for prediction; descriptors, the search and the cross-fitting grow with
  the rows (quick effort on 631 molecules takes about a minute on a shared 2-core machine).
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from workbench.app.render import plain
from workbench.chem.uploads import Upload, UploadError, UploadLimits, read_upload, read_upload_table
from workbench.predict.table import MAX_ROWS

__all__ = [
    "CLIFF_LIMITS",
    "LIBRARY_LIMITS",
    "MOLECULE_TYPES",
    "PREDICT_LIMITS",
    "TRAIN_LIMITS",
    "molecule_upload",
    "read_molecule_file",
    "table_upload",
]

PREDICT_LIMITS = UploadLimits(max_rows=MAX_ROWS, command="workbench predict FILE -o predictions.csv")
LIBRARY_LIMITS = UploadLimits(max_rows=10_000, command='workbench search "TEXT" --library FILE -k 100 -o hits.csv')
CLIFF_LIMITS = UploadLimits(max_rows=5_000, command="workbench cliffs FILE -o pairs.csv")
TRAIN_LIMITS = UploadLimits(max_rows=10_000, command="workbench train custom FILE --target COLUMN")
#: File types a molecule upload takes.
MOLECULE_TYPES = ("csv", "tsv", "smi", "txt", "sdf")


@st.cache_data(show_spinner="Reading the file…", max_entries=8)
def _read(data: bytes, name: str, limits: UploadLimits, column: str | None) -> Upload:
    return read_upload(data, name, limits, column)


@st.cache_data(show_spinner="Reading the file…", max_entries=8)
def _read_table(data: bytes, name: str, limits: UploadLimits) -> Upload:
    return read_upload_table(data, name, limits)


def _smiles_column(upload: Upload, file_id: str, key: str) -> str:
    """The SMILES column picker, reset to the detected column whenever a new file arrives."""
    column_key, file_key = f"{key}_column", f"{key}_column_file"
    if st.session_state.get(file_key) != file_id or st.session_state.get(column_key) not in upload.columns:
        st.session_state[column_key] = upload.smiles.column
        st.session_state[file_key] = file_id
    return st.selectbox(
        "SMILES column",
        upload.columns,
        key=column_key,
        help="Found by content: the column where most sampled cells parse as molecules.",
    )


def molecule_upload(
    label: str, *, key: str, limits: UploadLimits, types: Sequence[str] = MOLECULE_TYPES
) -> Upload | None:
    """Render an uploader for a molecule file; return the read upload, or ``None`` (nothing, or an error shown).

    For a CSV/TSV the SMILES column is chosen in a select box (``{key}_column``) that starts at the
    column found by content, with the reason as a caption.
    """
    file = st.file_uploader(label, type=list(types), key=key)
    if file is None:
        return None
    data = file.getvalue()
    return read_molecule_file(
        data, file.name, key=key, limits=limits, file_id=f"{file.file_id}:{file.name}:{len(data)}"
    )


def read_molecule_file(data: bytes, name: str, *, key: str, limits: UploadLimits, file_id: str) -> Upload | None:
    """Read a molecule file's bytes (an upload, or an example a page made) as :func:`molecule_upload` does.

    ``file_id`` names this file: a new one resets the SMILES column picker (``{key}_column``) to its detected column.
    """
    try:
        upload = _read(data, name, limits, None)
        if upload.columns and upload.smiles is not None:
            detected = upload.smiles.column
            column = _smiles_column(upload, file_id, key)
            if column != detected:
                upload = _read(data, name, limits, column)
            guess = upload.smiles
            caption = f"SMILES column: {guess.column} ({guess.reason})"
            if guess.qualifies:
                st.caption(plain(f"{caption}; {len(upload.table):,} rows."))
            else:
                st.warning(plain(f"{caption}: most rows will fail; choose the column that holds SMILES."))
        else:
            st.caption(plain(f"{len(upload.table):,} molecules read from {upload.name}."))
    except UploadError as exc:
        st.error(plain(str(exc)))
        return None
    for note in upload.notes:
        st.warning(plain(note))
    return upload


def table_upload(label: str, *, key: str, limits: UploadLimits, types: Sequence[str] = ("csv",)) -> Upload | None:
    """Render an uploader for a CSV read with pandas' column types; the page picks the columns itself."""
    file = st.file_uploader(label, type=list(types), key=key)
    if file is None:
        return None
    try:
        upload = _read_table(file.getvalue(), file.name, limits)
    except UploadError as exc:
        st.error(plain(str(exc)))
        return None
    for note in upload.notes:
        st.warning(plain(note))
    return upload
