"""What the prediction page shows, computed by the library: per-task tables, percentiles, upload columns."""

import pandas as pd
import pytest

from tests.cards import make_card
from workbench.predict.percentiles import percentile_table
from workbench.predict.row_tables import classification_bars, regression_values
from workbench.predict.upload import pasted_smiles, smiles_column_choices

ROW = pd.Series(
    {"m1:active": 0.8, "m1:active:std": 0.1, "m1:logS": -2.5, "m1:logS:std": 0.3, "m2:tox": 0.2, "m2:tox:std": 0.05}
)


@pytest.fixture
def cards():
    mixed = [
        {"name": "active", "type": "classification"},
        {"name": "logS", "type": "regression", "units": "log mol/L"},
    ]
    return {
        "m1": make_card("m1", tasks=mixed),
        "m2": make_card("m2", tasks=[{"name": "tox", "type": "classification"}]),
    }


def test_classification_tasks_become_bars_with_their_ensemble_std(cards):
    bars = classification_bars(ROW, cards)
    assert bars.to_dict("list") == {
        "label": ["active (tiny) · m1", "tox (tiny) · m2"],  # readable task name (data set) · model
        "probability": [0.8, 0.2],
        "std": [0.1, 0.05],
    }


def test_the_bars_chart_draws_each_probability_with_its_spread_clipped_to_0_1(cards):
    from workbench.app.prediction_view import bars_figure

    spec = bars_figure(classification_bars(ROW, cards)).to_dict()  # Vega-Lite: bars, then the ± std rules
    bars, errors = spec["layer"]
    assert bars["mark"]["type"] == "bar" and bars["encoding"]["x"]["scale"]["domain"] == [0, 1]
    assert errors["mark"]["type"] == "rule" and spec["height"] == 30 + 22 * 2
    rows = spec["datasets"][spec["data"]["name"]]
    assert [(r["low"], r["high"]) for r in rows] == [pytest.approx((0.7, 0.9)), pytest.approx((0.15, 0.25))]


def test_regression_tasks_become_rows_with_units(cards):
    table = regression_values(ROW, cards)
    assert table.to_dict("records") == [
        {"property": "logS (tiny)", "model": "m1", "prediction": -2.5, "± std": 0.3, "90 % interval": "",
         "units": "log mol/L"}
    ]  # fmt: skip
    with_interval = regression_values(pd.concat([ROW, pd.Series({"m1:logS:lo": -3.5, "m1:logS:hi": -1.25})]), cards)
    assert with_interval.loc[0, "90 % interval"] == "-3.50 to -1.25"
    assert regression_values(ROW, {"m2": cards["m2"]}).empty
    assert classification_bars(ROW, {}).columns.tolist() == ["label", "probability", "std"]


def test_percentile_table_places_each_prediction_among_the_reference_set():
    references = {"m1": pd.DataFrame({"m1:active": [0.1, 0.5, 0.9, 0.95], "m1:logS": [-3.0, -2.0, -1.0, 0.0]})}
    table = percentile_table(ROW, references)
    assert table["model · task"].tolist() == ["m1 · active", "m1 · logS"]
    assert table["prediction"].tolist() == [0.8, -2.5]
    assert table["percentile"].tolist() == [50.0, 25.0]


def test_csv_uploads_offer_their_columns_with_smiles_first_choice():
    assert smiles_column_choices(b"id,SMILES,y\n1,CCO,2\n", "mols.csv") == (["id", "SMILES", "y"], 1)
    assert smiles_column_choices(b"id\tmol\n1\tCCO\n", "MOLS.TSV") == (["id", "mol"], 0)
    assert smiles_column_choices(b"CCO ethanol\n", "mols.smi") is None
    assert smiles_column_choices(b"", "empty.csv") is None


def test_pasted_text_gives_one_smiles_per_non_blank_line():
    assert pasted_smiles(" CCO \n\n\tc1ccccc1\n") == ["CCO", "c1ccccc1"]
