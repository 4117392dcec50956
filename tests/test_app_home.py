from streamlit.testing.v1 import AppTest

from tests.conftest import app_test


def run_home() -> AppTest:
    return app_test(timeout=60)


def test_home_shows_default_molecule_with_descriptors():
    at = run_home()
    assert at.title[0].value == "Molecular ML Workbench"
    assert at.text_input(key="smiles_input").value == "CC(=O)Oc1ccccc1C(=O)O"
    assert len(at.get("image")) == 1  # the 2D depiction
    table = at.dataframe[0].value
    assert dict(zip(table["descriptor"], table["value"], strict=True))["MW"] == "180.16"
    assert at.session_state["molecule"]["smiles"] == "CC(=O)Oc1ccccc1C(=O)O"


def test_invalid_smiles_shows_an_error_and_keeps_the_last_molecule():
    at = run_home()
    at.text_input(key="smiles_input").set_value("C1CC(").run()
    assert not at.exception
    assert "unparsable SMILES" in at.error[0].value
    assert at.session_state["molecule"]["smiles"] == "CC(=O)Oc1ccccc1C(=O)O"


def test_example_picker_fills_the_box():
    at = run_home()
    at.selectbox(key="example_choice").set_value("Caffeine").run()
    assert at.text_input(key="smiles_input").value == "Cn1c(=O)c2c(ncn2C)n(C)c1=O"
    assert at.session_state["molecule"]["inchikey"] == "RYYVLZVUVIJVGH-UHFFFAOYSA-N"


def test_batch_descriptors_report_row_errors():
    at = run_home()
    at.text_area(key="batch_smiles").set_value("CCO\nnonsense\nc1ccccc1").run()
    assert "1 of 3 rows could not be used" in at.warning[0].value
    batch = at.dataframe[1].value
    assert len(batch) == 3 and batch.loc[1, "error"]
