"""Virtual screening: a library through the shipped models, filtered and ranked, as the `workbench screen` command."""

import streamlit as st

from workbench.app.screening_input import choose_request, library_input
from workbench.app.screening_view import command_lines, current_job, job_panel, reproduce, start_run

st.title("Virtual screening")
st.caption(
    "Screen a library with the shipped models: every molecule is standardized and predicted, the filter keeps the "
    "rows you want (e.g. admet_ai:BBB_Martins > 0.7 and MW < 450) and the best N by a score are the hits. The page "
    "screens up to 200,000 molecules in the background; larger libraries get the `workbench screen` command line."
)

job = current_job()
library = library_input()
request, problem = choose_request(library)
if library is not None:
    if request.too_large:
        if not problem:  # never a command line that the command would refuse
            command_lines(request)
    else:
        reproduce(request, library)
        busy = job is not None and job.running
        if st.button("Run", type="primary", key="screen_run", disabled=bool(problem) or busy):
            start_run(request, library)
if job is not None:
    job_panel(job)
