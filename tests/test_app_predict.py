"""AppTests for the property-prediction and model-zoo pages, with a tiny model trained in the test."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.tiny_model import train_tiny_checkpoint
from workbench.predict import inference

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


@pytest.mark.slow
def test_single_molecule_gets_predictions_explanation_and_domain_note(tiny):
    at = run_page("predict.py", molecule={"input": "CCCCN", "smiles": "CCCCN", "inchikey": ""})
    table = at.dataframe[0].value
    assert len(table) == 1 and table.loc[0, "error"] == ""
    expected = inference.predict(["CCCCN"], ["tiny_mlp"]).loc[0, "tiny_mlp:has_nitrogen"]
    assert table.loc[0, "tiny_mlp:has_nitrogen"] == pytest.approx(expected)  # the page shows the library's value
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
