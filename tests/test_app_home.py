"""AppTests of Home: the molecule input (SMILES or drug name), the molecule in the URL, the page cards."""

import ast
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.conftest import app_test

ROOT = Path(__file__).resolve().parent.parent
ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"


def run_home(**query: str) -> AppTest:
    """Home run once, with ``query`` as the URL's query parameters."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def box(at: AppTest):
    return at.text_input(key="smiles_input")


def test_home_shows_default_molecule_with_descriptors():
    at = app_test(timeout=60)
    assert at.title[0].value == "Molecular ML Workbench"
    assert box(at).value == ASPIRIN
    assert len(at.get("image")) == 1  # the 2D depiction
    table = at.dataframe[0].value
    assert dict(zip(table["descriptor"], table["value"], strict=True))["MW"] == "180.16"
    assert at.session_state["molecule"]["smiles"] == ASPIRIN


def test_invalid_smiles_shows_an_error_and_keeps_the_last_molecule():
    at = run_home()
    box(at).set_value("C1CC(").run()
    assert not at.exception
    assert "unparsable SMILES" in at.error[0].value
    assert at.session_state["molecule"]["smiles"] == ASPIRIN
    assert at.query_params["smiles"] == ASPIRIN  # the URL keeps the last molecule that could be used


def test_one_click_on_an_example_sets_the_molecule_and_the_url():
    at = run_home()
    at.button(key="example_Caffeine").click().run()
    assert box(at).value == CAFFEINE
    assert at.session_state["molecule"]["inchikey"] == "RYYVLZVUVIJVGH-UHFFFAOYSA-N"
    assert at.query_params["smiles"] == CAFFEINE


def test_a_drug_name_in_the_box_resolves_to_its_smiles():
    at = run_home()
    box(at).set_value("Aspirin").run()
    assert not at.error
    assert any(c.value == f"Aspirin → `{ASPIRIN}`" for c in at.caption)
    assert at.session_state["molecule"]["smiles"] == ASPIRIN
    assert at.query_params["smiles"] == ASPIRIN  # the link holds the SMILES, not the name
    box(at).set_value("paracetamol").run()
    assert at.session_state["molecule"]["smiles"] == "CC(=O)Nc1ccc(O)cc1"


def test_a_misspelt_name_lists_close_matches():
    at = run_home()
    box(at).set_value("ibuprofn").run()
    assert "No approved drug is named" in at.error[0].value
    assert "ibuprofen" in at.error[0].value
    assert "unparsable SMILES" not in at.error[0].value


def test_the_url_molecule_is_read_on_the_first_run():
    at = run_home(smiles="CCO")
    assert box(at).value == "CCO"
    assert at.session_state["molecule"]["smiles"] == "CCO"
    assert at.query_params["smiles"] == "CCO"


def test_a_url_that_does_not_parse_shows_its_error_on_home():
    at = run_home(smiles="C1CC(")
    assert box(at).value == "C1CC("
    assert "unparsable SMILES" in at.error[0].value
    assert "molecule" not in at.session_state


def test_the_url_follows_the_molecule_when_it_changes():
    at = run_home(smiles="CCO")
    box(at).set_value("CCN(CC)CC").run()
    assert at.query_params["smiles"] == "CCN(CC)CC"
    assert at.session_state["molecule"]["smiles"] == "CCN(CC)CC"


def _show_current_molecule() -> None:
    import streamlit as st

    from workbench.app.molecule_input import current_molecule

    molecule = current_molecule()
    st.write(molecule["smiles"] if molecule else "no molecule")


def test_current_molecule_falls_back_to_the_url():
    # what the other pages call (e.g. the "Home molecule" source of Property prediction), with no Home visit
    at = AppTest.from_function(_show_current_molecule)
    at.query_params["smiles"] = "OCCO"
    at.run()
    assert at.markdown[0].value == "OCCO"


def test_current_molecule_is_none_without_home_or_url():
    at = AppTest.from_function(_show_current_molecule).run()
    assert at.markdown[0].value == "no molecule"


def _navigation_url_paths() -> set[str]:
    """The ``url_path`` of every visible page app.py registers (Home, the default page, aside)."""
    paths = set()
    for node in ast.walk(ast.parse((ROOT / "app.py").read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "Page":
            keywords = {k.arg: k.value for k in node.keywords}
            is_file = isinstance(node.args[0], ast.Constant)
            if is_file and "default" not in keywords and "visibility" not in keywords:
                paths.add(keywords["url_path"].value)
    return paths


def test_home_has_a_card_for_every_page_linking_with_the_molecule():
    at = run_home(smiles="CCO")
    links = [element.proto for element in at.get("page_link")]
    assert {link.page for link in links} == _navigation_url_paths()
    assert len(links) == len(_navigation_url_paths()) >= 6
    assert all(link.query_string == "smiles=CCO" for link in links)


def test_batch_descriptors_report_row_errors():
    at = run_home()
    at.text_area(key="batch_smiles").set_value("CCO\nnonsense\nc1ccccc1").run()
    assert "1 of 3 rows could not be used" in at.warning[0].value
    batch = at.dataframe[1].value
    assert len(batch) == 3 and batch.loc[1, "error"]
