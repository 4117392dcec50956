"""AppTest for the Activity cliffs page: MoleculeACE target, pair view, table, network, live training, upload."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/activity_cliffs.py").run()
    assert not at.exception, at.exception
    return at


def test_target_shows_cliffs_pair_and_agreement():
    at = open_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Molecules"] == "615"
    assert metrics["Cliff pairs"] == "41"
    assert metrics["Agreement with MoleculeACE cliff_mol"] == "100.0%"
    assert at.selectbox(key="pair_choice").value is not None
    assert any("Fold change" in m.value for m in at.markdown)
    assert len(at.get("image")) >= 2  # the two depictions of the pair
    table = at.dataframe[0].value
    assert len(table) == 41 and {"smiles_i", "smiles_j", "fold_change", "sali"} <= set(table.columns)


def test_live_training_fills_scores_and_pair_predictions():
    at = open_page()
    at.multiselect(key="live_models").set_value(["KNN", "MLP"])
    at.number_input(key="live_epochs").set_value(2)
    at.button(key="live_train").click().run()
    assert not at.exception, at.exception
    scores = at.session_state["cliff_scores"]
    assert list(scores["model"]) == ["KNN", "MLP"]
    assert (scores["rmse_cliff"] > 0).all()
    preds = at.session_state["cliff_predictions"]["CHEMBL2835_Ki"]
    assert len(preds) == 615 and {"KNN", "MLP", "split"} <= set(preds.columns)


def test_uploaded_pactivity_csv(tmp_path):
    at = open_page()
    at.radio(key="cliff_source").set_value("Upload a CSV").run()
    assert not at.exception
    assert any("Upload a CSV" in i.value for i in at.info)
