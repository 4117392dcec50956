"""Train on your data: measured values in, a validated and calibrated model out, usable on every page."""

import streamlit as st

from workbench.app.own_data_input import choose_request, file_input, preview, read_input
from workbench.app.own_data_view import current_job, job_panel, reproduce, start_run

st.title("Train on your data")
st.caption(
    "Upload measured values for your molecules: they are checked and standardized (every dropped row listed with "
    "its reason), split (scaffold by default), and random forests, XGBoost and SVRs on ECFP4 + RDKit descriptors "
    "are compared on validation molecules (the thorough effort adds MiniMol heads, a GIN fine-tuned from the "
    "pretrained encoder and means of the best models); the chosen model is calibrated (classification) or given "
    "conformal intervals (regression) and tested once on held-out molecules. Saved, it predicts on every page."
)

job = current_job()
source = file_input()
upload = read_input(source) if source is not None else None
if upload is not None:
    preview(upload)
    request, problem = choose_request(source, upload)
    if request is not None:
        reproduce(request, source)
        busy = job is not None and job.busy
        if st.button("Train", type="primary", key="own_train", disabled=bool(problem) or busy):
            start_run(request, upload)
elif job is None and source is None:
    st.info("Upload a CSV, SMI or SDF file with a SMILES column and measured values, or try the example.")
if job is not None:
    job_panel(job)
