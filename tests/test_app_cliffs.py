"""AppTest for the Activity cliffs page: MoleculeACE target, pair view, table, network, live training, upload."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from workbench.cliffs import rmse, rmse_cliff

APP = str(Path(__file__).resolve().parent.parent / "app.py")
A, B = "CCCCCCCCCCCCCCCO", "CCCCCCCCCCCCCCCN"  # similar (Levenshtein 0.94)
# An id column before the SMILES; an alcohol/amine pair 100-fold apart (a cliff), a distant molecule and a bad row.
UPLOAD = b"id,smiles,pIC50\n1,CCCCCCCCCCCCCCCO,9.0\n2,CCCCCCCCCCCCCCCN,7.0\n3,c1ccccc1CO,6.0\n4,C1CC(,8.0\n"


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/activity_cliffs.py").run()
    assert not at.exception, at.exception
    return at


def show(at: AppTest, tab: str) -> AppTest:
    """Open one of the page's result tabs (only the open tab runs) and rerun."""
    at.session_state["cliff_tab"] = tab
    at.run()
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> list[tuple[dict, list[pd.DataFrame]]]:
    """Every Vega-Lite chart on the page: its spec and its data sets (sent as Arrow tables)."""
    return [
        (json.loads(c.proto.spec), [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in c.proto.datasets])
        for c in at.get("vega_lite_chart")
    ]


def upload(data: bytes, name: str = "mine.csv") -> AppTest:
    at = open_page()
    at.radio(key="cliff_source").set_value("Upload a CSV").run()
    assert any("Upload a CSV" in i.value for i in at.info)
    at.file_uploader(key="cliff_upload").upload(name, data, "text/csv").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_target_shows_cliffs_pair_and_agreement():
    at = open_page()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Molecules"] == "615"
    assert metrics["Cliff pairs"] == "41"
    assert metrics["Agreement with MoleculeACE cliff_mol"] == "100.0%"
    assert at.selectbox(key="pair_choice").value is not None
    assert any("Fold change" in m.value for m in at.markdown)
    at.selectbox(key="pair_choice").set_value(18).run()  # 83.9 nM vs 1,500 nM
    potencies = [m.value for m in at.markdown if m.value.startswith("**") and "· pActivity" in m.value]
    assert [p.split(" · ")[0] for p in potencies] == ["**83.9 nM**", "**1.5 µM**"]  # not "1.5e+03 nM"
    assert len(at.get("image")) >= 2  # the two depictions of the pair
    [(sas, sas_data)] = charts(at)  # only the open tab is drawn: the SAS map (Vega-Lite, no Plotly)
    assert [p["name"] for p in sas["params"]] == ["pair"] and sas["height"] == 450
    assert max(len(d) for d in sas_data) == 2000  # the capped SAS map; a click on a point selects its "index"
    assert not at.dataframe and not any("cliff molecules" in c.value for c in at.caption)
    table = show(at, "Cliff pairs").dataframe[0].value
    assert len(table) == 41 and {"smiles_i", "smiles_j", "fold_change", "sali"} <= set(table.columns)
    assert table["sali"].is_monotonic_decreasing
    show(at, "Cliff network")
    assert any("60 cliff molecules" in c.value for c in at.caption)  # the network tab's caption
    [(_, net_data)] = charts(at)
    assert sorted(len(d) for d in net_data) == [41, 60]  # 41 cliff segments between 60 molecules
    [(bars, bars_data)] = charts(show(at, "Models"))
    assert bars["mark"]["type"] == "bar" and set(bars_data[0]["metric"]) == {"rmse", "rmse_cliff"}


@pytest.mark.slow
def test_live_training_fills_scores_and_pair_predictions():
    at = show(open_page(), "Models")
    at.multiselect(key="live_models").set_value(["KNN", "MLP"])
    at.number_input(key="live_epochs").set_value(2)
    at.button(key="live_train").click().run()
    assert not at.exception, at.exception
    scores = at.session_state["cliff_scores"]["CHEMBL2835_Ki"]
    assert list(scores["model"]) == ["KNN", "MLP"] and "params" not in scores.columns
    preds = at.session_state["cliff_predictions"]["CHEMBL2835_Ki"]
    assert len(preds) == 615 and {"KNN", "MLP", "split"} <= set(preds.columns)
    test = preds[preds["split"] == "test"]
    y, cliff = test["y"].astype(float), test["cliff_mol"].astype(bool)
    for _, row in scores.iterrows():  # the scores are those of the stored predictions
        pred = test[row["model"]].astype(float)
        assert row["rmse"] == pytest.approx(rmse(y, pred))
        assert row["rmse_cliff"] == pytest.approx(rmse_cliff(y, pred, cliff))
    live_bars = charts(at)[-1]  # the live scores' bars, below the benchmark's
    assert live_bars[0]["height"] == 320 and set(live_bars[1][0]["model"]) == {"KNN", "MLP"}
    # the pair view shows each molecule's predictions as soon as its tab is opened after training
    tables = [d.value for d in show(at, "SAS map & pair").dataframe if "predicted pActivity" in d.value.columns]
    assert len(tables) == 2 and list(tables[0]["model"]) == ["KNN", "MLP"]
    assert not any("Train models in the Models tab" in c.value for c in at.caption)
    # the scores belong to this target: another target shows none until trained
    at.selectbox(key="target").set_value("CHEMBL1862_Ki").run()
    assert not any("rmse_cliff" in d.value.columns for d in at.dataframe)
    assert any("Train models in the Models tab" in c.value for c in at.caption)


@pytest.mark.slow
def test_uploaded_pactivity_csv_is_read_and_its_cliff_found():
    at = upload(UPLOAD)
    assert at.selectbox(key="up_smiles").value == "smiles"  # found by content, not the first column
    assert at.selectbox(key="up_potency").value == "pIC50"  # the id column is not a potency
    assert not at.warning or all("rows were left out" in w.value.replace("\\", "") for w in at.warning)
    at.radio(key="up_unit").set_value("pActivity").run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Molecules"] == "4"
    assert metrics["Cliff pairs"] == "1"
    assert metrics["Cliff molecules"] == "2"
    assert metrics["Rows left out"] == "1"
    assert any("Fold change **100.0×**" in m.value for m in at.markdown)
    table = show(at, "Cliff pairs").dataframe[0].value
    assert list(table["smiles_i"]) == ["CCCCCCCCCCCCCCCO"] and table["fold_change"].iloc[0] == pytest.approx(100.0)


@pytest.mark.slow
def test_uploaded_csv_in_nm_and_an_unusable_upload():
    nm = pd.DataFrame({"name": ["a", "b"], "smiles": [A, B], "Ki": [1.0, 5.0]})
    at = upload(nm.to_csv(index=False).encode())
    assert at.radio(key="up_unit").value == "nM"
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Molecules"] == "2" and metrics["Cliff pairs"] == "0"  # 5-fold: similar, not a cliff

    no_numbers = pd.DataFrame({"smiles": ["CCO", "CCN"], "name": ["ethanol", "ethylamine"]})
    at = upload(no_numbers.to_csv(index=False).encode(), "names.csv")
    assert any("Cannot use names.csv: no numeric column" in e.value.replace("\\", "") for e in at.error)
    assert not at.metric  # nothing analysed


@pytest.mark.slow
def test_ambiguous_smiles_columns_warn_and_the_choice_is_used():
    two = pd.DataFrame({"parent": ["CCO", "c1ccccc1N"], "analogue": [A, B], "pKi": [9.0, 7.0]}).to_csv(index=False)
    at = upload(two.encode())
    assert any("Several columns hold SMILES (parent, analogue)" in w.value.replace("\\", "") for w in at.warning)
    at.selectbox(key="up_smiles").set_value("analogue")
    at.radio(key="up_unit").set_value("pActivity").run()
    assert any(
        "Several columns hold SMILES" in w.value.replace("\\", "") for w in at.warning
    )  # still said after the choice
    assert {m.label: m.value for m in at.metric}["Cliff pairs"] == "1"  # the analogues are a cliff, the parents not


def test_ambiguous_upload_warns_and_lets_the_user_choose():
    two = pd.DataFrame({"smiles": [A, B], "pKi": [9.0, 7.0], "pIC50": [np.nan, 8.0]}).to_csv(index=False)
    at = upload(two.encode())
    assert any(
        "Several numeric columns could be the potency (pKi, pIC50)" in w.value.replace("\\", "") for w in at.warning
    )
    at.selectbox(key="up_potency").set_value("pIC50")
    at.radio(key="up_unit").set_value("pActivity").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows left out"] == "1" and metrics["Cliff pairs"] == "0"


@pytest.mark.slow
def test_the_map_axis_and_live_models_survive_a_visit_to_another_tab():
    at = open_page()
    other = at.radio(key="sas_x").options[1]
    at.radio(key="sas_x").set_value(other).run()
    show(at, "Models")
    at.multiselect(key="live_models").set_value(["KNN"]).run()
    show(at, "Cliff pairs")
    assert not at.get("multiselect")  # closed tabs do not run
    show(at, "SAS map & pair")
    assert at.radio(key="sas_x").value == other
    show(at, "Models")
    assert at.multiselect(key="live_models").value == ["KNN"]
