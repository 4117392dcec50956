"""AppTests of "Train on your data": the empty page, the example trained quick in the background, a second tab on the
same run, the save and the "Use it" link to Property prediction, and bad inputs as one st.error sentence.

The example is replaced by every 10th row of its MoleculeACE target (64 molecules, made at test time); the save
computes the approved-drug percentiles over 20 drugs (all 2,600 take minutes of RDKit descriptors here).
"""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import workbench.app.own_data_input as own_data_input
from tests.conftest import ROOT, app_test
from tests.test_training_jobs import POTENCY, TARGET, own_data_csv
from workbench.app.training_jobs import job_registry

pytestmark = pytest.mark.slow


def shown(text: str) -> str:
    """What the user reads: the page escapes Markdown in user-supplied text (workbench.app.render.plain)."""
    return text.replace("\\", "")


def finish(at: AppTest, timeout: float = 180) -> AppTest:
    """Wait for the session's job (training, then a save if one started), then rerun the page as the poll would."""
    job = job_registry().get(at.session_state["own_job"])
    assert job is not None and job.wait(timeout)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def small_example(monkeypatch):
    data = own_data_csv()
    monkeypatch.setattr(own_data_input, "example_file", lambda: (data, f"{TARGET}.csv"))
    st.cache_data.clear()
    yield data
    st.cache_data.clear()


@pytest.fixture
def few_drugs(monkeypatch):
    """The save's approved-drug percentiles over 20 drugs, not 2,600 (minutes of RDKit descriptors here)."""
    import workbench.predict.percentiles as percentiles

    drugs = percentiles.load_approved_drugs().frame.head(20)
    monkeypatch.setattr(percentiles, "load_approved_drugs", lambda: SimpleNamespace(frame=drugs))


def test_the_page_renders_without_a_file_and_a_stale_run_link_is_explained():
    at = app_test("train_own_data.py")
    assert at.title[0].value == "Train on your data"
    assert any("or try the example" in i.value for i in at.info)
    assert not at.error and at.button(key="own_example_button")
    stale = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    stale.query_params["job"] = "0123456789abcdef"  # a link to a run the server no longer holds
    stale.run()
    stale.switch_page("pages/train_own_data.py").run()
    assert not stale.exception and "job" not in stale.query_params
    assert any("no longer on the server" in i.value for i in stale.info)


def test_the_example_trains_in_the_background_is_saved_and_used_for_prediction(small_example, models_dir, few_drugs):
    from workbench.app.models import registered_models

    registered_models.clear()
    at = app_test("train_own_data.py")
    at.button(key="own_example_button").click().run()
    assert not at.exception and not at.error
    assert at.multiselect(key="own_targets").value == [POTENCY]
    assert at.selectbox(key="own_transform").value == "pIC50-from-nM"  # suggested: a potency in nM
    assert any("the file's 'split' column" in option for option in at.selectbox(key="own_split").options)
    name = at.text_input(key="own_name").value
    assert name == "chembl2047_ec50"
    command = (
        f"workbench train custom {TARGET}.csv --target 'exp_mean [nM]' --task auto --transform pIC50-from-nM "
        f"--split scaffold --effort quick --seed 0 --coverage 0.9 --name {name} --smiles-column smiles"
    )
    assert command in [c.value for c in at.code]

    at.button(key="own_train").click().run()
    job_id = at.session_state["own_job"]
    assert at.query_params["job"] == job_id
    finish(at)
    metrics = at.dataframe[1].value  # after the preview: the test metrics
    assert {"RMSE", "MAE", "R²", "interval coverage"} <= set(metrics["metric"])
    assert metrics.loc[metrics["metric"] == "RMSE", "95% CI"].iloc[0]  # a bootstrap interval
    assert [t.label for t in at.tabs][:4] == ["Test metrics", "Plots", "Worst predicted", "Activity cliffs"]
    assert any("input rows" in d.value.to_string() for d in at.dataframe)  # the data report

    second = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)  # a second tab with the run's URL
    second.query_params["job"] = job_id
    second.run()
    second.switch_page("pages/train_own_data.py").run()
    assert not second.exception, second.exception
    assert second.session_state["own_job"] == job_id
    assert second.dataframe[0].value.equals(metrics)

    at.button(key="own_save").click().run()
    finish(at)
    assert any(f"Saved as {name}" in shown(s.value) for s in at.success)
    link = at.get("page_link")[0].proto
    assert (link.page, link.query_string) == ("property-prediction", f"models={name}")
    card = json.loads((models_dir / name / "card.json").read_text())
    assert card["command"] == command and card["group"] == "Your models"

    at.query_params["models"] = name  # "Use it": Property prediction with just the new model selected
    at.switch_page("pages/predict.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key="pred_models_Your models").value == [name]
    table = at.session_state["pred_table"]
    assert f"{name}:pIC50({POTENCY})" in table.columns and f"{name}:pIC50({POTENCY}):lo" in table.columns


def _upload(at: AppTest, data: bytes, name: str = "assay.csv") -> AppTest:
    at.file_uploader(key="own_upload").upload(name, data, "text/csv").run()
    assert not at.exception, at.exception
    return at


def _train(at: AppTest) -> AppTest:
    at.button(key="own_train").click().run()
    assert not at.exception, at.exception
    return finish(at, 60)


def test_bad_inputs_are_one_error_sentence_each(small_example, models_dir):
    at = _upload(app_test("train_own_data.py"), b"\n".join(own_data_csv().splitlines()[:21]))  # 20 molecules
    errors = [shown(e.value) for e in _train(at).error]
    assert errors == [
        "Only 20 labelled molecule(s) are left (of 20 rows); a model needs at least 30 to be trained "
        "and tested honestly."
    ]

    _upload(at, own_data_csv(), "assay_full.csv")
    at.multiselect(key="own_targets").set_value(["split"]).run()  # a text column as the target
    errors = [shown(e.value) for e in _train(at).error]
    assert len(errors) == 1 and errors[0].startswith("Target column 'split' is not numeric: 64 of 64 filled cells")

    at.multiselect(key="own_targets").set_value([POTENCY]).run()
    at.text_input(key="own_name").set_value("../models/x").run()
    assert "cannot name a model" in shown(at.error[0].value) and at.button(key="own_train").disabled
    at.text_input(key="own_name").set_value("esol_svr").run()
    if (ROOT / "models" / "esol_svr" / "card.json").is_file():
        assert "shipped with the workbench" in shown(at.error[0].value)


def test_cancel_stops_the_run_and_nothing_is_written(small_example, models_dir):
    at = app_test("train_own_data.py")
    at.button(key="own_example_button").click().run()
    at.button(key="own_train").click().run()
    assert at.button(key="own_train").disabled  # one run per session at a time
    at.button(key="own_cancel").click().run()
    finish(at, 60)
    assert [shown(w.value) for w in at.warning] == ["The run was cancelled; nothing was written."]
    assert list(models_dir.iterdir()) == [] and not at.button(key="own_train").disabled


def test_a_models_link_selects_just_those_models_once_and_names_unknown_ones(models_dir):
    from tests.tiny_model import train_tiny_checkpoint
    from workbench.app.models import registered_models

    registered_models.clear()
    for name in ("tiny_a", "tiny_b"):
        train_tiny_checkpoint(models_dir, name=name)
    group = next(k for k in registered_models())

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.query_params["models"] = "tiny_b,nope"
    at.run()
    at.switch_page("pages/predict.py").run()
    assert not at.exception, at.exception
    assert at.multiselect(key=f"pred_models_{group}").value == ["tiny_b"]
    assert [shown(w.value) for w in at.warning] == [
        "No property model named nope is registered; the link's other models are selected."
    ]
    at.multiselect(key=f"pred_models_{group}").set_value(["tiny_a", "tiny_b"]).run()  # the user's choice stands
    assert at.multiselect(key=f"pred_models_{group}").value == ["tiny_a", "tiny_b"] and not at.warning
    registered_models.clear()
