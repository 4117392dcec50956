"""The run half of "Virtual screening": the command lines, the background job, its progress and its results.

The session's job id is in ``st.session_state["screen_job"]`` and in the URL (``?screen_job=<id>``), so a page
change or a second tab with that URL finds the same run in :func:`screening_registry` (the server's, separate from
the training runs'). While it runs, a fragment polls it every second (progress bar with molecules/s and the time
left, Cancel); when it ends, the page reruns once and shows the histograms, the top hits as structures and the
downloads (Parquet, CSV, SDF).
"""

from __future__ import annotations

import secrets
from functools import partial

import pandas as pd
import streamlit as st

from workbench.app.hits import molecule_svg
from workbench.app.job_link import follow_job, linked_job
from workbench.app.render import duration_text, plain
from workbench.app.screening import (
    DRUGS,
    DRUGS_FILE,
    MOSES,
    PAGE_MAX_MOLECULES,
    USER_ERRORS,
    ScreenOutcome,
    ScreenRequest,
    run_page_screen,
)
from workbench.app.screening_input import LibraryInput
from workbench.app.training_jobs import JobRefusedError, JobRegistry, TrainingJob
from workbench.predict.inference import list_models
from workbench.retrieval import hits_to_sdf
from workbench.screen.figures import histogram_figure

__all__ = [
    "JOB_QUERY",
    "command_lines",
    "current_job",
    "job_panel",
    "screening_registry",
    "start_run",
]

JOB_QUERY = "screen_job"
JOB_KEY = "screen_job"
OWNER_KEY = "screen_owner"
#: Hits drawn as structures.
GRID_HITS = 20
#: Hits listed in the table (the downloads hold them all).
TABLE_HITS = 1_000
#: Histograms drawn at first (the others are a click away).
FIRST_HISTOGRAMS = 4


@st.cache_resource(show_spinner=False)
def screening_registry() -> JobRegistry:
    """The server process's screening runs, shared by every session."""
    return JobRegistry(noun="screening run")


def _owner() -> str:
    return st.session_state.setdefault(OWNER_KEY, secrets.token_hex(8))


def current_job() -> TrainingJob | None:
    """The run a ``?screen_job=`` link names (a second tab), else this session's; the URL kept in step."""
    return linked_job(
        screening_registry(),
        JOB_KEY,
        JOB_QUERY,
        "The screening run of this link is no longer on the server (runs are kept for two hours); run it again.",
    )


def command_lines(request: ScreenRequest) -> None:
    """Too large for the page: the command line, and its Ray variant."""
    what = "MOSES" if request.library == MOSES else request.filename
    st.info(
        plain(
            f"{what} holds {request.molecules:,} molecules, more than the {PAGE_MAX_MOLECULES:,} this page screens. "
            "Run it on the command line: chunks are streamed through the models, a killed run continues with "
            "--resume, and the hits are written as Parquet."
        )
    )
    st.markdown("**On this machine** (worker processes)")
    st.code(request.command(), language="bash", wrap_lines=True)
    st.markdown("**With Ray** (every CPU of this machine; on a Ray cluster add `--ray-address auto`)")
    st.code(request.command("ray"), language="bash", wrap_lines=True)


def reproduce(request: ScreenRequest, library: LibraryInput) -> None:
    """The command line that writes the same hits."""
    with st.expander("Reproduce on the command line"):
        st.code(request.command(), language="bash", wrap_lines=True)
        where = f"in the folder holding {request.filename}" if request.library != DRUGS else "beside the file below"
        st.caption(plain(f"Run it {where}; add --engine ray to run it with Ray."))
        if request.library == DRUGS and library.data is not None:
            st.download_button("Download " + DRUGS_FILE, library.data, DRUGS_FILE, "text/csv", key="screen_drugs_csv")


def start_run(request: ScreenRequest, library: LibraryInput) -> None:
    """Start the screen in the background as this session's run and rerun the page; a refusal is one error."""
    assert library.data is not None
    what = "the approved drugs" if request.library == DRUGS else request.filename
    label = f"{what} with {', '.join(request.models) or 'no model'}"
    work = partial(run_page_screen, request, library.data, list_models())
    try:
        job = screening_registry().start(work, owner=_owner(), label=label, request=request, user_errors=USER_ERRORS)
    except JobRefusedError as exc:
        st.error(plain(str(exc)))
        return
    st.session_state[JOB_KEY] = job.id
    st.query_params[JOB_QUERY] = job.id
    st.rerun()


def job_panel(job: TrainingJob) -> None:
    """The run: its progress, its failure as one sentence, or its results."""
    st.divider()
    st.subheader(plain(f"Screen: {job.label}"))
    if job.running:
        follow_job(screening_registry(), job.id, "screen_cancel")
    elif job.state == "cancelled":
        st.warning("The screen was cancelled; nothing was kept.")
    elif job.state == "failed":
        st.error(plain(job.error))
    else:
        _results(job.id, job.result)


def _results(job_id: str, outcome: ScreenOutcome) -> None:
    request, hits = outcome.request, outcome.hits
    kept = f"the top {len(hits):,} by {request.by}" if request.top else f"{len(hits):,} rows"
    if request.where.strip():
        kept += " passing the filter"
    st.caption(
        plain(
            f"{outcome.molecules:,} molecules screened ({outcome.errors:,} with an error) in "
            f"{duration_text(outcome.seconds)} ({outcome.rate:,.0f} molecules/s); {kept}."
        )
    )
    _histograms(outcome)
    st.markdown("**Top hits**" if request.top else "**Hits**")
    if hits.empty:
        st.info("No molecule passed the filter.")
        return
    _grid(hits.head(GRID_HITS), _score_columns(outcome))
    st.dataframe(hits.head(TABLE_HITS), hide_index=True, key="screen_hits_table")
    if len(hits) > TABLE_HITS:
        st.caption(f"The first {TABLE_HITS:,} of {len(hits):,} hits; the downloads hold them all.")
    _downloads(job_id, outcome)


def _score_columns(outcome: ScreenOutcome) -> list[str]:
    """The columns a hit's caption shows: the ranking column first, then the filter's and the first scores."""
    return outcome.histogram_columns[:3]


def _histograms(outcome: ScreenOutcome) -> None:
    columns = outcome.histogram_columns
    if not columns:
        return
    shown = st.multiselect(
        "Histograms (grey: every molecule screened; red: the hits)",
        columns,
        default=columns[:FIRST_HISTOGRAMS],
        key="screen_histograms",
    )
    show_hits = len(outcome.hits) < outcome.molecules
    for start in range(0, len(shown), 2):
        for cell, column in zip(st.columns(2), shown[start : start + 2], strict=False):
            with cell:
                figure = histogram_figure(outcome.histograms, column, show_hits=show_hits)
                st.altair_chart(figure, key=f"screen_histogram_{column}", width="stretch")


def _grid(hits: pd.DataFrame, scores: list[str], per_row: int = 5) -> None:
    records = hits.to_dict("records")
    for start in range(0, len(records), per_row):
        cells = st.columns(per_row)
        for k, (cell, row) in enumerate(zip(cells, records[start : start + per_row], strict=False)):
            with cell:
                smiles = row.get("canonical_smiles") or ""
                if smiles:
                    st.image(molecule_svg(smiles), width=220)
                values = " · ".join(f"{plain(c)} {row[c]:.3g}" for c in scores if c in row and pd.notna(row[c]))
                problem = f" · {plain(row['error'])}" if row.get("error") else ""
                st.caption(f"**{start + k + 1}.** {values}{problem}")


@st.cache_data(show_spinner="Writing the SDF…", max_entries=4)
def _sdf(job_id: str, _hits: pd.DataFrame) -> str:
    return hits_to_sdf(_hits)


@st.cache_data(show_spinner=False, max_entries=4)
def _csv(job_id: str, _hits: pd.DataFrame) -> str:
    return _hits.to_csv(index=False)


def _downloads(job_id: str, outcome: ScreenOutcome) -> None:
    stem = "hits"
    a, b, c = st.columns(3)
    a.download_button(
        "Download Parquet", outcome.parquet, f"{stem}.parquet", "application/vnd.apache.parquet", key="screen_parquet"
    )
    b.download_button("Download CSV", _csv(job_id, outcome.hits), f"{stem}.csv", "text/csv", key="screen_csv")
    c.download_button(
        "Download SDF", _sdf(job_id, outcome.hits), f"{stem}.sdf", "chemical/x-mdl-sdfile", key="screen_sdf"
    )
