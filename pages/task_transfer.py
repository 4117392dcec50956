"""Task transfer: a target assay with few labels, helped by related assays with many."""

import streamlit as st

from workbench.app.lazy_tabs import lazy_tabs
from workbench.app.render import plain
from workbench.app.task_transfer import benchmark_panel, choose_setup, relations_panel, setup_problem
from workbench.app.task_transfer_live import current_job, live_panel, molecule_panel

st.title("Task transfer")
st.caption(
    "A new assay often has a few dozen measured compounds next to older assays with thousands. Here a target task "
    "keeps only a share of its training labels and the other tasks of the data set help: single-task, multi-task, "
    "loss balancing, knowledge transfer between task representations and a task-relation model are compared on "
    "the same scaffold split."
)

dataset, target, fraction = choose_setup()
problem = setup_problem(dataset, target, fraction)
if problem:
    st.error(plain(problem))
    st.stop()

job = current_job()
result = job.result if job is not None and job.state == "done" else None
same = result is not None and (result.request.dataset, result.request.target) == (dataset, target)

#: Only the open tab runs (``on_change="rerun"``): a first view draws the benchmark's bars, nothing else.
TABS = ("Benchmark", "How the tasks relate", "Live comparison", "A molecule")
KEEP = {TABS[2]: ("tt_arms", "tt_epochs", "tt_max_train"), TABS[3]: ("tt_smiles",)}  # kept while closed
bench_tab, relations_tab, live_tab, molecule_tab = lazy_tabs(TABS, key="tt_tab", keep=KEEP)
if bench_tab.open:
    with bench_tab:
        benchmark_panel(dataset, target, fraction)
if relations_tab.open:
    with relations_tab:
        relations_panel(dataset, target, result.dependency if same else None)
if live_tab.open:
    with live_tab:
        live_panel(dataset, target, fraction, job)
if molecule_tab.open:
    with molecule_tab:
        molecule_panel(job)
