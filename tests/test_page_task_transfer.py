"""AppTests of the Task transfer page: no benchmark cells, the benchmark's cells, bad inputs as one st.error
sentence, and a live comparison trained in the background with a molecule predicted under each arm.

The data sets are small tables written at test time: the first 300 rows of the real Tox21 file (skipped when it
is not on disk), a BBBP-like one-task table, and a benchmark CSV of made-up cells.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import streamlit as st

from tests.conftest import app_test
from tests.data_fixtures import tiny_tables
from workbench.app.training_jobs import job_registry
from workbench.data.paths import search_dirs

pytestmark = pytest.mark.slow

REAL_TOX21 = [folder / "tox21.csv" for folder in search_dirs("moleculenet")]


@pytest.fixture
def small_data(data_dirs, monkeypatch, tmp_path):
    """Tox21 (first 300 rows) and a one-task BBBP in the test's data folder; no benchmark cells."""
    import workbench.transfer.results as results
    from workbench.transfer.data import cached_transfer_data

    source = next((p for p in REAL_TOX21 if p.is_file()), None)
    if source is None:
        pytest.skip("the Tox21 file is not on disk (WORKBENCH_DATA_DIR names the folder holding it)")
    pd.read_csv(source).head(300).to_csv(data_dirs[0] / "tox21.csv", index=False)
    tiny_tables(data_dirs[0])
    monkeypatch.setattr(results, "BENCH_CELLS", tmp_path / "transfer.csv")
    cached_transfer_data.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield tmp_path / "transfer.csv"
    cached_transfer_data.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()


def test_the_page_renders_without_cells_and_draws_the_task_relations(small_data):
    at = app_test("task_transfer.py")
    assert at.title[0].value == "Task transfer"
    assert not at.error
    assert at.selectbox(key="tt_dataset").value == "tox21"
    assert at.selectbox(key="tt_target").value == "SR-ARE"  # the paper's targets come first
    assert any("No benchmark cells yet: run `workbench bench transfer`" in i.value for i in at.info)
    assert not at.get("vega_lite_chart")  # only the open tab (the benchmark) runs
    _open(at, "How the tasks relate")
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 2  # the correlation network and the heatmap
    _open(at, "A molecule")
    assert any("Run a comparison in the Live comparison tab" in c.value for c in at.caption)


def test_bad_inputs_are_one_error_sentence_each(small_data):
    from workbench.transfer.data import cached_transfer_data
    from workbench.transfer.protocol import LabelFractionError, mask_labels

    at = app_test("task_transfer.py")
    at.selectbox(key="tt_dataset").set_value("bbbp").run()
    assert not at.exception, at.exception
    assert [e.value.replace("\\", "") for e in at.error] == [
        "BBBP has one task (p_np): transfer needs a target task and at least one helping task measured on the same "
        "molecules. Choose a data set with several assays, such as Tox21 or SIDER."
    ]
    assert not at.get("vega_lite_chart")  # nothing else is drawn

    data = cached_transfer_data("tox21")
    refused = None
    for task in data.tasks:  # a target that 5 % of the 240 training molecules leaves without a positive
        try:
            mask_labels(data.y, data.train, data.tasks, (task,), 0.05, 0)
        except LabelFractionError as exc:
            refused = (task, str(exc))
            break
    assert refused is not None
    at.selectbox(key="tt_dataset").set_value("tox21").run()
    at.selectbox(key="tt_target").set_value(refused[0]).run()
    at.slider(key="tt_fraction").set_value(5).run()
    assert not at.exception, at.exception
    assert len(at.error) == 1 and at.error[0].value.replace("\\", "") == refused[1]
    assert "none of them is positive" in refused[1]


def _open(at, tab: str) -> None:
    """Open one of the page's tabs (only the open one runs)."""
    at.session_state["tt_tab"] = tab
    at.run()
    assert not at.exception, at.exception


def _frame(at, column: str) -> pd.DataFrame:
    """The first table on the page with this column."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _cells(path, rows):
    pd.DataFrame(rows).to_csv(path, index=False)


def test_the_benchmark_cells_of_the_target_are_shown(small_data):
    rows = []
    for seed in range(3):
        for arm, auc in (("single", 0.61), ("mtl", 0.66), ("kt", 0.7)):
            rows.append({"dataset": "tox21", "target_set": "paper", "arm": arm, "fraction": 0.1, "seed": seed,
                         "init": "none", "task_auc": json.dumps({"SR-ARE": auc + 0.01 * seed, "SR-MMP": auc}),
                         "task_valid_auc": "{}"})  # fmt: skip
    _cells(small_data, rows)
    at = app_test("task_transfer.py")
    table = at.dataframe[0].value
    assert list(table["arm"]) == ["single", "mtl", "kt"]
    assert table.loc[table["arm"] == "kt", "test ROC-AUC"].iloc[0] == pytest.approx(0.71)
    assert any("Wu et al." in c.value and "transfer model 0.776" in c.value for c in at.caption)
    at.slider(key="tt_fraction").set_value(25).run()
    assert any("no cell for SR-ARE at 25 % labels yet (it has 10 %)" in i.value.replace("\\", "") for i in at.info)


def test_a_live_comparison_trains_in_the_background_and_predicts_a_molecule(small_data):
    at = app_test("task_transfer.py")
    _open(at, "Live comparison")
    at.slider(key="tt_fraction").set_value(50).run()
    at.multiselect(key="tt_arms").set_value(["single", "kt"]).run()
    at.number_input(key="tt_epochs").set_value(1).run()
    at.number_input(key="tt_max_train").set_value(100).run()
    at.button(key="tt_train").click().run()
    assert not at.exception, at.exception
    job = job_registry().get(at.session_state["tt_job"])
    assert job is not None and job.wait(300)
    at.run()
    assert not at.exception, at.exception
    assert job.state == "done", job.error
    scores = _frame(at, "validation ROC-AUC")
    assert list(scores["arm"]) == ["single", "kt"] and scores["test ROC-AUC"].between(0, 1).all()
    _open(at, "How the tasks relate")
    dependency = _frame(at, "weight")  # arm (d)'s learned weights, drawn as a network
    assert len(dependency) == 11 and dependency["weight"].between(0, 1).all()
    _open(at, "A molecule")
    at.text_input(key="tt_smiles").set_value("CC(=O)Oc1ccccc1C(=O)O").run()
    table = _frame(at, "P(SR-ARE)")
    assert list(table["arm"]) == ["single", "kt"] and table["P(SR-ARE)"].between(0, 1).all()
    at.text_input(key="tt_smiles").set_value("C1CC(").run()
    assert at.error and "Cannot use this input" in at.error[0].value


def test_cancel_stops_the_live_run(small_data):
    at = app_test("task_transfer.py")
    _open(at, "Live comparison")
    at.number_input(key="tt_epochs").set_value(2).run()  # cancelling is checked after each epoch
    at.number_input(key="tt_max_train").set_value(100).run()
    at.button(key="tt_train").click().run()
    assert at.button(key="tt_train").disabled  # one run per session at a time
    at.button(key="tt_cancel").click().run()
    job = job_registry().get(at.session_state["tt_job"])
    assert job is not None and job.wait(120)
    at.run()
    assert not at.exception, at.exception
    assert job.state == "cancelled" and [w.value for w in at.warning] == ["The run was cancelled."]
    assert not at.button(key="tt_train").disabled


def test_the_live_settings_survive_a_visit_to_another_tab(small_data):
    at = app_test("task_transfer.py")
    _open(at, "Live comparison")
    at.number_input(key="tt_epochs").set_value(2).run()
    at.multiselect(key="tt_arms").set_value(["kt"]).run()
    _open(at, "Benchmark")
    assert not at.number_input  # the live tab does not run while closed
    _open(at, "Live comparison")
    assert at.number_input(key="tt_epochs").value == 2 and at.multiselect(key="tt_arms").value == ["kt"]
