"""The run half of "Train on your data": start the background job, follow it, show its results, save the model.

The session's job id is in ``st.session_state["own_job"]`` and in the URL (``?job=<id>``): a page change (the
sidebar drops query parameters; the id is written back) or a second tab opened with that URL shows the same run,
read from the server's :func:`~workbench.app.training_jobs.job_registry`. While the run trains or saves, a
fragment polls it every second (progress bar, live log, Cancel); when it ends, the whole page reruns once.
"""

from __future__ import annotations

import secrets
from functools import partial
from pathlib import Path

import pandas as pd
import streamlit as st

from workbench.app.job_link import POLL_S, job_progress, linked_job
from workbench.app.models import MODELS_QUERY, registered_models
from workbench.app.own_data import (
    USER_ERRORS,
    TrainRequest,
    cliff_pairs,
    cliff_summary,
    run_training,
    worst_predicted,
)
from workbench.app.own_data_input import FileInput
from workbench.app.render import plain, show_depiction
from workbench.app.training_jobs import JobRefusedError, TrainingJob, job_registry
from workbench.app.upload import CLIFF_LIMITS
from workbench.chem.uploads import Upload
from workbench.custom.checkpoint import ModelNameError, check_model_name, save_custom_model
from workbench.custom.figures import calibration_figure, parity_figure, roc_pr_figure
from workbench.custom.report import chosen_how, metrics_table, search_table
from workbench.custom.training import CustomResult

__all__ = ["JOB_QUERY", "current_job", "job_panel", "reproduce", "start_run"]

JOB_QUERY = "job"
JOB_KEY = "own_job"
OWNER_KEY = "own_owner"
PREDICT_PAGE = "pages/predict.py"


def _owner() -> str:
    """This browser session's id as a job owner (one job per session)."""
    return st.session_state.setdefault(OWNER_KEY, secrets.token_hex(8))


def current_job() -> TrainingJob | None:
    """The job a ``?job=`` link names (a second tab), else this session's; the URL kept in step."""
    return linked_job(
        job_registry(),
        JOB_KEY,
        JOB_QUERY,
        "The training run of this link is no longer on the server (a run is kept for two hours after it ends, "
        "and a server restart forgets it); train again below.",
    )


def reproduce(request: TrainRequest, source: FileInput) -> None:
    """The command line that makes the same model."""
    st.markdown("**Reproduce on the command line**")
    st.code(request.command(), language="bash", wrap_lines=True)
    st.caption(
        plain(
            f"Run it in the folder holding {source.name}: the same file, split and seed give the same test metrics, "
            "and the model is written to your models folder."
        )
    )


def start_run(request: TrainRequest, upload: Upload) -> None:
    """Start training in the background as this session's job and rerun the page; a refusal is shown as an error."""
    label = f"{', '.join(request.targets)} from {request.filename}"
    work = partial(run_training, request, upload.table.copy())
    try:
        job = job_registry().start(work, owner=_owner(), label=label, request=request, user_errors=USER_ERRORS)
    except JobRefusedError as exc:
        st.error(str(exc))
        return
    st.session_state[JOB_KEY] = job.id
    st.query_params[JOB_QUERY] = job.id
    st.rerun()  # the page again, with the Train button disabled while the run goes


@st.fragment(run_every=POLL_S)
def _follow(job_id: str) -> None:
    """Progress, live log and Cancel while the job trains or saves; the page reruns once it has ended."""
    job = job_registry().get(job_id)
    if job is None or not job.busy:
        st.rerun()
    if job.running:
        job_progress(job, "own_cancel")
    else:
        st.info(
            plain(
                f"Saving {job.saved_name}: the models, the domain index and the approved-drug percentiles (one to "
                "two minutes)…"
            )
        )
    st.code("\n".join(job.log_tail()) or " ", language=None)


def job_panel(job: TrainingJob) -> None:
    """The run: its progress, its failure as one sentence, or its results and the save."""
    st.divider()
    st.subheader(plain(f"Run: {job.label}"))
    if job.running:
        _follow(job.id)
    elif job.state == "cancelled":
        st.warning("The run was cancelled; nothing was written.")
    elif job.state == "failed":
        st.error(plain(job.error))
    else:
        _results(job.result)
        _save(job)


def _results(result: CustomResult) -> None:
    data, split = result.data, result.split
    st.caption(
        plain(
            f"{len(data.smiles):,} molecules from {data.input_rows:,} rows ({len(data.dropped):,} dropped); "
            f"{split.kind} split {len(split.train)} train / {len(split.valid)} validation / {len(split.test)} test; "
            f"{chosen_how(result)}; trained in {result.seconds:.0f} s."
        )
    )
    cliffs = cliff_summary(result)
    names = ["Test metrics", "Plots", "Worst predicted", *(["Activity cliffs"] if cliffs else [])]
    names += ["Data report", "Model search", "Log"]
    tabs = dict(zip(names, st.tabs(names), strict=True))
    with tabs["Test metrics"]:
        st.dataframe(metrics_table(result), hide_index=True)
        st.caption(
            "On the held-out test molecules, never seen while choosing or calibrating; 95 % CI from 1,000 "
            "bootstrap resamples of the test molecules. Regression intervals: split-conformal, from cross-fitted "
            f"residuals (target coverage {result.config.coverage:.0%})."
        )
    with tabs["Plots"]:
        _plots(result)
    with tabs["Worst predicted"]:
        _worst(result)
    if cliffs:
        with tabs["Activity cliffs"]:
            _cliffs(result, cliffs)
    with tabs["Data report"]:
        _data_report(result)
    with tabs["Model search"]:
        st.dataframe(search_table(result), hide_index=True)
        st.caption(
            "Every candidate fitted on the training molecules and scored on the validation molecules (higher is "
            "better: ROC-AUC, or minus RMSE over the target's spread). Quick keeps the best on validation; "
            "thorough cross-fits the best three on train + validation (5 folds) and keeps whichever of them, or "
            "of the means of the best two and three, has the best out-of-fold score. The chosen model is "
            "refitted on train + validation."
        )
    with tabs["Log"]:
        st.code("\n".join(result.log), language=None)


def _plots(result: CustomResult) -> None:
    table, names = result.test_table(), result.data.task_names
    target = st.selectbox("Target", names, key="own_plot_target") if len(names) > 1 else names[0]
    t = names.index(target)
    rows = table[table["target"] == target]
    if rows.empty:
        st.info("No test molecule has this target.")
    elif result.data.task_type == "regression":
        st.altair_chart(
            parity_figure(rows, result.tasks[t].halfwidth, result.data.units[t]), key="own_parity", width="content"
        )
    else:
        st.altair_chart(roc_pr_figure(rows), key="own_roc_pr", width="content")
        st.altair_chart(calibration_figure(rows), key="own_calibration", width="content")


def _worst(result: CustomResult) -> None:
    worst = worst_predicted(result)
    st.caption("The ten test molecules with the largest absolute error.")
    for start in range(0, len(worst), 5):
        for column, (_, row) in zip(st.columns(5), worst.iloc[start : start + 5].iterrows(), strict=False):
            with column:
                show_depiction(
                    row["smiles"],
                    width=190,
                    height=150,
                    caption=f"observed {row['observed']:.2f} · predicted {row['predicted']:.2f}",
                )
    st.dataframe(worst, hide_index=True)


@st.cache_resource(show_spinner="Finding the cliff pairs…", max_entries=4)
def _pairs(job_id: str, _result: CustomResult) -> pd.DataFrame:
    return cliff_pairs(_result)


def _cliffs(result: CustomResult, summary: dict) -> None:
    left, mid, right, last = st.columns(4)
    left.metric("Cliff molecules in your set", f"{summary['cliff molecules']} of {summary['molecules']}")
    mid.metric("Cliff molecules in the test set", f"{summary['test cliff molecules']} of {summary['test molecules']}")
    right.metric(
        "Test RMSE, cliff molecules", f"{summary['rmse_cliff']:.3f}" if summary["test cliff molecules"] else "–"
    )
    last.metric("Test RMSE, other molecules", f"{summary['rmse_non_cliff']:.3f}")
    st.caption(
        "Cliff molecules (MoleculeACE's rules over your whole set): in a pair with ECFP4, scaffold or SMILES "
        "similarity ≥ 0.9 and a potency fold change > 10. Models usually err most on them."
    )
    if len(result.data.smiles) <= CLIFF_LIMITS.max_rows and st.toggle("List the cliff pairs", key="own_cliff_pairs"):
        job_id = st.session_state.get(JOB_KEY, "")
        pairs = _pairs(job_id, result)
        shown = pairs[["smiles_i", "smiles_j", "fold_change", "delta_p", "tanimoto", "sali"]]
        st.dataframe(shown.rename(columns={"delta_p": "|Δ| (log units)"}), hide_index=True)


def _data_report(result: CustomResult) -> None:
    data = result.data
    counts = pd.DataFrame({"rows": list(data.counts()), "count": list(data.counts().values())})
    st.dataframe(counts, hide_index=True, width="content")
    for warning in data.warnings:
        st.warning(plain(warning))
    if data.dropped:
        st.markdown("**Dropped rows** (row = data row, counted from 0)")
        st.dataframe(data.dropped_table(), hide_index=True)
    else:
        st.caption("No row was dropped: every row is (part of) a training molecule.")
    if data.standardized:
        st.markdown("**What standardization changed**")
        st.dataframe(pd.DataFrame(data.standardized, columns=["row", "change"]), hide_index=True)


def _write(result: CustomResult, name: str, command: str, log) -> Path:
    return save_custom_model(result, name, command=command, log=log)


def _save(job: TrainingJob) -> None:
    st.subheader("Save the model")
    if job.save_state == "saved":
        if st.session_state.get("own_registered") != str(job.saved_path):
            registered_models.clear()  # the picker of Property prediction lists it from now on
            st.session_state["own_registered"] = str(job.saved_path)
        st.success(
            plain(f"Saved as {job.saved_name} in {job.saved_path}.")
            + f" Property prediction, the Model zoo and `workbench predict FILE --models {job.saved_name}` use it now."
        )
        st.code(job.request.command(job.saved_name), language="bash", wrap_lines=True)
        st.page_link(
            PREDICT_PAGE,
            label=f"Use it: predict with {job.saved_name}",
            icon=":material/arrow_forward:",
            query_params={MODELS_QUERY: job.saved_name},
        )
        return
    if job.save_state == "saving":
        _follow(job.id)
        return
    name = st.text_input("Model name", value=job.request.name, key=f"own_save_name_{job.id}").strip()
    if job.save_state == "failed":
        st.error(plain(job.save_error))
    st.code(job.request.command(name), language="bash", wrap_lines=True)
    if st.button("Save model", type="primary", key="own_save"):
        try:
            check_model_name(name)
            job.start_save(name, partial(_write, job.result, name, job.request.command(name)), USER_ERRORS)
        except (ModelNameError, JobRefusedError) as exc:
            st.error(plain(str(exc)))
            return
        st.rerun()
