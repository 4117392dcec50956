"""AppTests for the property-prediction and model-zoo pages: a tiny model trained in the test, and the shipped
``esol_svr`` (small and fast) for the curated panel."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.tiny_model import train_tiny_checkpoint
from workbench.models.builders import can_predict
from workbench.predict import inference
from workbench.predict.user_columns import join_user_columns

SALT = "[Na+].[O-]C(=O)c1ccccc1"  # sodium benzoate: standardization removes Na+ and neutralizes the acid

PAGES = Path(__file__).resolve().parent.parent / "pages"


@pytest.fixture
def tiny(models_dir):
    from workbench.app.models import registered_models

    registered_models.clear()
    train_tiny_checkpoint(models_dir, name="tiny_mlp")
    yield models_dir
    registered_models.clear()


def run_page(name: str, **state) -> AppTest:
    at = AppTest.from_file(str(PAGES / name), default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def only_models(*names: str) -> dict[str, list[str]]:
    """Session state selecting just ``names`` in every group of the model picker (the rest would be slow)."""
    groups: dict[str, list[str]] = {}
    for checkpoint in inference.list_models():
        if can_predict(checkpoint):
            groups.setdefault(f"pred_models_{checkpoint.group}", [])
            if checkpoint.name in names:
                groups[f"pred_models_{checkpoint.group}"].append(checkpoint.name)
    return groups


@pytest.fixture
def shipped():
    """The shipped checkpoints, registered afresh."""
    from workbench.app.models import registered_models

    registered_models.clear()
    inference.clear_cache()
    yield
    registered_models.clear()


def frames(at: AppTest) -> list[tuple[pd.DataFrame, bool]]:
    """Every dataframe shown, with whether it sits inside a collapsed expander."""
    found: list[tuple[pd.DataFrame, bool]] = []

    def walk(node, collapsed: bool) -> None:
        if getattr(node, "type", "") == "dataframe":
            found.append((node.value, collapsed))
        if getattr(node, "type", "") == "expander":
            collapsed = collapsed or not node.proto.expanded
        for child in getattr(node, "children", {}).values():
            walk(child, collapsed)

    walk(at.main, False)
    return found


@pytest.mark.slow
def test_single_molecule_gets_predictions_explanation_and_domain_note(tiny):
    at = run_page("predict.py", molecule={"input": "CCCCN", "smiles": "CCCCN", "inchikey": ""})
    expected = inference.predict(["CCCCN"], ["tiny_mlp"]).loc[0, "tiny_mlp:has_nitrogen"]
    column = "has nitrogen (tiny) · tiny_mlp (probability)"  # readable, not the raw task id
    shown = [f for f, _ in frames(at) if column in f.columns]
    assert shown and shown[0].loc[0, column] == pytest.approx(expected)  # the page shows the library's value
    assert any("answers the curated endpoints" in i.value for i in at.info)
    assert any("applicability domain unavailable" in c.value for c in at.caption)  # no training data for 'tiny'
    assert any("atom occlusion" in c.value for c in at.caption)
    assert at.subheader[0].value == "This molecule"


@pytest.mark.slow
def test_pasted_list_reports_row_errors(tiny):
    at = run_page("predict.py")
    at.radio(key="pred_source").set_value("Paste a list").run()
    at.text_area(key="pred_text").set_value("CCO\nnot a smiles\nCCCN").run()
    assert not at.exception
    assert "1 of 3 rows could not be predicted" in at.warning[0].value
    table = at.dataframe[0].value
    assert table["input"].tolist() == ["CCO", "not a smiles", "CCCN"]
    assert table.columns.tolist()[:4] == ["input", "smiles", "error", "warnings"]  # notes beside each row


@pytest.mark.slow
def test_single_salt_shows_the_curated_panel_warnings_and_open_percentiles(shipped):
    at = run_page("predict.py", pred_source="Paste a list", pred_text=SALT, **only_models("esol_svr"))
    if any(t.key == "pred_percentiles" for t in at.toggle):  # the old page hid percentiles behind a toggle
        at.toggle(key="pred_percentiles").set_value(True).run()
    warnings = " ".join(w.value for w in at.warning)
    assert "removed fragment" in warnings and "counter" in warnings  # what standardization changed
    visible = [f for f, collapsed in frames(at) if not collapsed]
    curated = next(f for f in visible if "Endpoint" in f.columns)  # the default view is the curated panel
    row = curated.set_index("Endpoint").loc["Aqueous solubility"]
    assert row["Recommended model"] == "esol_svr" and row["Verdict"][0] in "🟢🟡🔴"
    assert "log_solubility" not in " ".join(curated["Endpoint"])  # readable names, not task ids
    assert np.isfinite(row["Approved-drug percentile"])  # percentiles shown without opening anything


@pytest.mark.slow
def test_uploaded_csv_keeps_its_columns_beside_readable_predictions(shipped):
    at = run_page("predict.py", pred_source="Upload CSV/SDF", **only_models("esol_svr"))
    csv = f"id,smiles,error\nm1,CCO,none\nm2,{SALT},bad salt\n".encode()
    at.file_uploader(key="pred_upload").set_value(("mols.csv", csv, "text/csv")).run()
    assert not at.exception, at.exception
    screen = at.dataframe[0].value
    assert screen.columns.tolist()[:6] == ["id", "input_error", "input", "smiles", "error", "warnings"]
    assert screen["id"].tolist() == ["m1", "m2"] and "[Na+]" in screen.loc[1, "warnings"]
    assert "Aqueous solubility (logS, log mol/L)" in screen.columns


def test_download_frame_keeps_every_user_column_first_and_machine_names():
    user = pd.DataFrame({"id": ["a", "b"], "error": ["x", ""], "note": [1, 2]})
    result = pd.DataFrame(
        {"input": ["CCO", "C"], "smiles": ["CCO", "C"], "error": ["", ""], "warnings": ["", ""], "m:logS": [1.0, 2.0]}
    )
    out = join_user_columns(user, result)
    assert out.columns.tolist() == ["id", "input_error", "note", "input", "smiles", "error", "warnings", "m:logS"]
    assert out["input_error"].tolist() == ["x", ""] and out["m:logS"].tolist() == [1.0, 2.0]


def test_no_models_registered_says_what_to_do(models_dir):
    from workbench.app.models import registered_models

    registered_models.clear()
    at = AppTest.from_file(str(PAGES / "predict.py"), default_timeout=60)
    at.run()
    registered_models.clear()
    assert "No checkpoints are registered" in at.warning[0].value


@pytest.mark.slow
def test_model_zoo_lists_cards_with_commands(tiny):
    at = run_page("model_zoo.py")
    summary = at.dataframe[0].value
    assert "tiny_mlp" in summary["name"].tolist()
    at.selectbox(key="zoo_model").set_value("tiny_mlp").run()
    assert any("tests/tiny_model.py" in c.value for c in at.code)


def test_model_zoo_draws_only_the_open_tab_and_each_tab_on_demand():
    at = run_page("model_zoo.py")
    assert not at.get("vega_lite_chart")  # the first view: the models table and a card
    assert at.dataframe[0].value["name"].tolist()
    for tab, heading in (("Champions vs published", "Champions vs published"), ("Benchmark", "Benchmark: scaffold")):
        at.session_state["zoo_tab"] = tab
        at.run()
        assert not at.exception, at.exception
        assert any(h.value.startswith(heading) for h in at.subheader)
        assert len(at.get("vega_lite_chart")) == 1 and "zoo_model" not in [s.key for s in at.selectbox]
