"""The background job a page shows: the one a link names (``?job=ID`` in a second tab), else this session's own.

Shared by the pages that run server-side jobs (Train on your data, Virtual screening); the URL is kept in step
with the job shown, so it can be copied into another tab.
"""

from __future__ import annotations

import streamlit as st

from workbench.app.training_jobs import JobRegistry, TrainingJob

__all__ = ["linked_job"]


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
