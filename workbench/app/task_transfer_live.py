"""The live half of the "Task transfer" page: a small comparison trained in the background, and a molecule.

The run is a :class:`~workbench.app.training_jobs.TrainingJob` of the server's registry (it survives page changes:
its id stays in ``st.session_state["tt_job"]``); a fragment polls it every second (progress, Cancel) while it
trains, and the page reruns once when it ends. A finished run predicts the target probability of a molecule
under each arm it trained.
"""

from __future__ import annotations

import secrets
from functools import partial

import streamlit as st

from workbench.app import current_molecule
from workbench.app.job_link import follow_job
from workbench.app.render import plain
from workbench.app.training_jobs import JobRefusedError, TrainingJob, job_registry
from workbench.transfer.arms import ARMS
from workbench.transfer.live import LIVE_ARMS, USER_ERRORS, LiveRequest, LiveResult, predict_molecule, run_live

__all__ = ["current_job", "live_panel", "molecule_panel"]

JOB_KEY = "tt_job"
OWNER_KEY = "tt_owner"


def current_job() -> TrainingJob | None:
    """This session's live run, if the server still holds it."""
    job_id = st.session_state.get(JOB_KEY)
    job = job_registry().get(job_id) if job_id else None
    if job is None:
        st.session_state.pop(JOB_KEY, None)
    return job


def _start(request: LiveRequest) -> None:
    owner = st.session_state.setdefault(OWNER_KEY, "transfer-" + secrets.token_hex(8))
    try:
        job = job_registry().start(
            partial(run_live, request), owner=owner, label=request.label(), request=request, user_errors=USER_ERRORS
        )
    except JobRefusedError as exc:
        st.error(str(exc))
        return
    st.session_state[JOB_KEY] = job.id
    st.rerun()


def live_panel(dataset: str, target: str, fraction: float, job: TrainingJob | None) -> None:
    """The live run's choices, its progress and its scores."""
    left, mid, right = st.columns(3)
    arms = left.multiselect(
        "Arms", LIVE_ARMS, default=["single", "mtl"], key="tt_arms", format_func=lambda a: f"{a}: {ARMS[a][:40]}…"
    )
    epochs = int(mid.number_input("Epochs", 1, 10, 3, key="tt_epochs"))
    max_train = right.number_input(
        "Training molecules (at most)", 100, 6000, 1500, step=100, key="tt_max_train",
        help="Every molecule that keeps a target label, then other training molecules (seeded) up to this many.",
    )  # fmt: skip
    request = LiveRequest(dataset, target, fraction, tuple(arms), epochs, int(max_train))
    busy = job is not None and job.running
    if st.button("Compare live", type="primary", key="tt_train", disabled=busy or not arms):
        _start(request)
    st.caption(
        plain(
            f"GIN 5×300 from scratch, {epochs} epoch(s), early stopping on the validation ROC-AUC of {target}. "
            f"The full comparison (every arm, 3 seeds): {request.command()}"
        )
    )
    if job is None:
        return
    st.subheader(plain(f"Run: {job.label}"), anchor=False)
    if job.running:
        follow_job(job_registry(), job.id, "tt_cancel")
    elif job.state == "cancelled":
        st.warning("The run was cancelled.")
    elif job.state == "failed":
        st.error(plain(job.error))
    else:
        result: LiveResult = job.result
        st.dataframe(result.scores, hide_index=True, key="tt_live_scores")
        st.caption(
            plain(
                f"{result.request.target} kept {result.kept:,} training labels ({result.positives:,} positive) at "
                f"{result.request.fraction * 100:g} %; {result.train_molecules:,} training molecules. Test ROC-AUC on "
                "every test label of the target (scaffold split). One seed and a few epochs: a first look, not a "
                "benchmark."
            )
        )


def molecule_panel(job: TrainingJob | None) -> None:
    """A SMILES box and the molecule's predicted target probability under each arm trained live."""
    if job is None or job.state != "done":
        st.caption("Run a comparison in the Live comparison tab to predict a molecule with each arm it trains.")
        return
    result: LiveResult = job.result
    molecule = current_molecule()
    if "tt_smiles" not in st.session_state:
        st.session_state["tt_smiles"] = molecule["smiles"] if molecule else "CC(=O)Oc1ccccc1C(=O)O"
    smiles = st.text_input("SMILES", key="tt_smiles")
    if not smiles.strip():
        return
    table, error = predict_molecule(result, smiles.strip())
    if error:
        st.error(plain(error))
        return
    st.dataframe(table, hide_index=True, key="tt_molecule_table")
    st.caption(plain(f"Probability of {result.request.target} under each arm trained live (one seed, few epochs)."))
