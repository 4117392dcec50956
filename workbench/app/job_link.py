"""The background job a page shows and follows: the one a link names (``?job=ID``), else this session's own.

Shared by the pages that run server-side jobs (Train on your data, Virtual screening, Task transfer): the URL is
kept in step with the job shown, so it can be copied into another tab, and a fragment polls the running job (its
progress bar and a Cancel button) until it ends, then reruns the page once.
"""

from __future__ import annotations

import streamlit as st

from workbench.app.render import duration_text, plain
from workbench.app.training_jobs import JobRegistry, TrainingJob

__all__ = ["POLL_S", "follow_job", "job_progress", "linked_job"]

#: Seconds between two looks at a running job.
POLL_S = 1.0


def linked_job(registry: JobRegistry, session_key: str, query_key: str, gone: str) -> TrainingJob | None:
    """The job ``?query_key=`` names, else the one under ``session_key``; ``gone`` is shown for a forgotten link."""
    linked, mine = str(st.query_params.get(query_key, "")), st.session_state.get(session_key)
    if linked and linked != mine:
        job = registry.get(linked)
        if job is not None:
            st.session_state[session_key] = linked
            return job
        st.info(gone)
        del st.query_params[query_key]
    job = registry.get(mine) if mine else None
    if job is None:
        st.session_state.pop(session_key, None)
    elif st.query_params.get(query_key) != job.id:
        st.query_params[query_key] = job.id
    return job


def job_progress(job: TrainingJob, cancel_key: str) -> None:
    """The job's progress bar (its message and time so far) and a Cancel button, disabled once asked."""
    st.progress(job.fraction, text=plain(f"{job.message} ({duration_text(job.seconds)})"))
    if st.button("Cancel", key=cancel_key, disabled=job.should_stop()):
        job.cancel()


@st.fragment(run_every=POLL_S)
def follow_job(registry: JobRegistry, job_id: str, cancel_key: str) -> None:
    """:func:`job_progress` every :data:`POLL_S` while the job runs; the whole page reruns once it has ended."""
    job = registry.get(job_id)
    if job is None or not job.running:
        st.rerun()
    job_progress(job, cancel_key)
