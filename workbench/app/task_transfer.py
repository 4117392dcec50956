"""The input, benchmark and task-relation parts of the "Task transfer" page (widget keys start with ``tt_``).

:func:`choose_setup` picks the data set, the target task and the label fraction; :func:`setup_problem` says in
one sentence why they cannot be used (a data set with one task, a fraction that leaves the target without a
positive or a negative training label); :func:`benchmark_panel` shows the arms' ROC-AUC from the benchmark's
cells; :func:`relations_panel` draws the task relations (label correlation, and arm (d)'s learned dependency
weights when a live run made them).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from workbench.app.render import plain
from workbench.data import DataUnavailableError
from workbench.transfer.data import TRANSFER_DATASETS, TransferData, cached_transfer_data
from workbench.transfer.protocol import PAPER_AUC, PAPER_TARGETS, TransferSetupError

__all__ = ["benchmark_panel", "choose_setup", "relations_panel", "setup_problem", "transfer_data"]

DATASET_LABELS = {
    "tox21": "Tox21 (12 toxicity assays)",
    "sider": "SIDER (27 side-effect classes)",
    "clintox": "ClinTox (2 tasks)",
    "toxcast": "ToxCast (617 assays)",
    "bbbp": "BBBP (1 task)",
    "bace": "BACE (1 task)",
}


@st.cache_resource(show_spinner=False, max_entries=2)
def transfer_data(name: str) -> TransferData:
    """The data set parsed, split and featurized once per server process."""
    return cached_transfer_data(name)


@st.cache_data(show_spinner=False, max_entries=8)
def _tasks(name: str) -> list[str]:
    from workbench.data.prepared import load_named_dataset

    return list(load_named_dataset(name).tasks)


def choose_setup() -> tuple[str, str | None, float]:
    """The data set, its target task and the label fraction (5–50 %)."""
    left, mid, right = st.columns([1, 1.4, 1])
    dataset = left.selectbox(
        "Data set", TRANSFER_DATASETS, format_func=DATASET_LABELS.get, key="tt_dataset",
        help="Tox21 and SIDER are the data sets of the paper; the others are there to try (one-task sets cannot "
        "transfer).",
    )  # fmt: skip
    try:
        tasks = _tasks(dataset)
    except DataUnavailableError as exc:
        st.error(plain(f"{dataset} is not on disk here and cannot be downloaded: {exc}"))
        return dataset, None, 0.1
    paper = PAPER_TARGETS.get(dataset, ())
    options = [*paper, *[t for t in tasks if t not in paper]]
    if st.session_state.get("tt_target") not in options:
        st.session_state["tt_target"] = options[0] if options else None
    target = mid.selectbox(
        "Target task (the scarce assay)", options, key="tt_target",
        help="The paper's targets come first. Every other task of the data set helps.",
    )  # fmt: skip
    percent = right.slider(
        "Target's training labels kept (%)", 5, 50, 10, step=5, key="tt_fraction",
        help="A seeded share of the target's training labels is kept; the helping tasks keep 90 %. Validation and "
        "test keep every label.",
    )  # fmt: skip
    return dataset, target, percent / 100


def setup_problem(dataset: str, target: str | None, fraction: float) -> str:
    """``""`` when the choice can be used, else one sentence saying why not."""
    from workbench.transfer.live import check_setup

    if target is None:
        return f"{dataset} has no task to choose."
    try:
        with st.spinner(f"Loading {dataset}: parsing, splitting and featurizing (once per server)…"):
            check_setup(dataset, target, fraction)
    except TransferSetupError as exc:
        return str(exc)
    except DataUnavailableError as exc:
        return f"{dataset} is not on disk here and cannot be downloaded: {exc}"
    return ""


@st.cache_data(show_spinner=False, max_entries=4)
def _scores(path: str, mtime: float) -> pd.DataFrame:
    from workbench.transfer.results import read_bench_cells, task_scores

    return task_scores(read_bench_cells(path))


def benchmark_panel(dataset: str, target: str, fraction: float) -> None:
    """The arms' test ROC-AUC on this target and fraction from ``bench/results/transfer.csv``."""
    from workbench.transfer import results
    from workbench.transfer.figures import arm_bars

    path = results.BENCH_CELLS
    if not path.is_file() or path.stat().st_size == 0:
        st.info(f"No benchmark cells yet: run `{results.BENCH_COMMAND}` to fill bench/results/transfer.csv.")
        return
    scores = _scores(str(path), path.stat().st_mtime)
    scores = scores[scores["init"] == "none"]
    summary = results.arm_summary(scores, dataset=dataset, task=target, fraction=fraction)
    if summary.empty:
        here = scores[(scores["dataset"] == dataset) & (scores["task"] == target)]
        have = sorted({f"{f * 100:g} %" for f in here["fraction"]})
        st.info(
            plain(
                f"The benchmark has no cell for {target} at {fraction * 100:g} % labels yet"
                + (f" (it has {', '.join(have)})." if have else " (this target is in none of its target sets).")
                + f" Run `{results.BENCH_COMMAND}` to add cells."
            )
        )
        return
    st.altair_chart(arm_bars(summary, f"{target} at {fraction * 100:g} % labels"), key="tt_bench_bars")
    table = summary.rename(columns={"roc_auc": "test ROC-AUC", "n": "seeds × runs"})
    st.dataframe(table, hide_index=True, key="tt_bench_table")
    if target in PAPER_TARGETS.get(dataset, ()) and np.isclose(fraction, 0.1):
        paper = PAPER_AUC[dataset]
        st.caption(
            "Wu et al., mean over the pair "
            + " + ".join(PAPER_TARGETS[dataset])
            + " at 10 % labels (their GCN; not run here): "
            + ", ".join(f"{name} {value:.3f}" for name, value in paper.items())
            + ". The report, bench/results/transfer.md, has the paired tests."
        )


def relations_panel(dataset: str, target: str, dependency: pd.DataFrame | None = None) -> None:
    """Label correlation between tasks on the training split, and arm (d)'s learned weights when given."""
    from workbench.transfer.figures import correlation_heatmap, relation_network, relation_table
    from workbench.transfer.relations import correlation_with, label_correlation

    data = transfer_data(dataset)
    many = len(data.tasks) > 60
    phi, _pairs = correlation_with(data.y[data.train], data.tasks.index(target))
    network, heat = st.columns(2)
    with network:
        st.altair_chart(
            relation_network(data.tasks, target, phi, kind="phi", title=f"Label correlation with {target}"),
            key="tt_network_phi",
        )
        st.caption(
            "Phi coefficient of the training labels (all of them, before masking) over the molecules labelled for "
            "both tasks; blue positive, red negative"
            + (", the 24 strongest of the tasks" if many else "")
            + ". Click a task to keep its edge."
        )
    with heat:
        if many:
            st.caption(f"{dataset} has {len(data.tasks)} tasks: too many for a readable heatmap.")
        else:
            correlation = label_correlation(data.y[data.train])
            st.altair_chart(correlation_heatmap(correlation, data.tasks, target), key="tt_heatmap")
    if dependency is not None:
        st.altair_chart(
            relation_network(
                [*dependency["source"], target], target, [*dependency["weight"], np.nan], kind="weight",
                title=f"Arm (d): learned dependency of {target} on each task",
            ),
            key="tt_network_dependency",
        )  # fmt: skip
        st.dataframe(
            relation_table(list(dependency["source"]), target, list(dependency["weight"]), "weight"),
            hide_index=True,
            key="tt_dependency_table",
        )
        st.caption("σ(Λ) of the live run's knowledge-transfer head: 0.5 at the start, learned with the network.")
    else:
        st.caption("Train arm (d), kt, in the Live comparison tab to see its learned dependency weights here.")
    with st.expander("Correlation with the target, as a table"):
        st.dataframe(relation_table(data.tasks, target, phi, "phi"), hide_index=True, key="tt_phi_table")
