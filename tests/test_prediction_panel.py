"""The curated prediction panel: recommended model from card metrics, verdicts from stated thresholds,
readable names, a radar of at most eight axes, and the batch screen table."""

import math

import numpy as np
import pandas as pd
import pytest

from tests.cards import make_card
from workbench.predict.endpoints import ENDPOINTS, PROBABILITY_SOURCE, task_label, task_units, verdict
from workbench.predict.panel import MAX_RADAR_AXES, champion, display_panel, panel, radar_axes
from workbench.predict.row_tables import readable_columns, screen_table

ENDPOINT = {e.key: e for e in ENDPOINTS}


def _metric(value: float) -> dict:
    return {"mean": value, "std": None, "per_seed": []}


def admet_card(solubility_mae: float = 0.69, bbb_auc: float = 0.90):
    tasks = [
        {"name": "Solubility_AqSolDB", "type": "regression", "units": "log(mol/L)", "title": "Aqueous Solubility"},
        {"name": "BBB_Martins", "type": "classification", "title": "Blood-Brain Barrier Penetration"},
        {"name": "hERG", "type": "classification", "title": "hERG Blocking"},
    ]
    metrics = {
        "published:Solubility_AqSolDB": {"r2": _metric(0.82), "mae": _metric(solubility_mae)},
        "published:BBB_Martins": {"roc_auc": _metric(bbb_auc)},
        "published:hERG": {"roc_auc": _metric(0.84)},
    }
    return make_card("admet_ai", tasks=tasks, metrics=metrics)


def esol_card(mae: float = 1.16):
    tasks = [{"name": "log_solubility", "type": "regression", "units": "log10(mol/L)"}]
    metrics = {"test": {"rmse": _metric(1.49), "mae": _metric(mae)}}
    return make_card("esol_svr", tasks=tasks, metrics=metrics, data={"dataset": "esol", "sha256": "0" * 64})


def bbbp_card(auc: float = 0.725):
    tasks = [{"name": "p_np", "type": "classification"}]
    metrics = {"test": {"roc_auc": _metric(auc)}}
    return make_card("minimol_bbbp", tasks=tasks, metrics=metrics, data={"dataset": "bbbp", "sha256": "0" * 64})


def test_champion_is_the_best_card_metric_in_its_direction():
    cards = {"admet_ai": admet_card(), "esol_svr": esol_card(), "minimol_bbbp": bbbp_card()}
    solubility = champion(ENDPOINT["solubility"], cards)
    assert (solubility.model, solubility.task) == ("admet_ai", "Solubility_AqSolDB")  # MAE 0.69 < 1.16
    assert "MAE 0.690" in solubility.reason and "esol_svr 1.156" not in solubility.reason
    assert "esol_svr 1.160" in solubility.reason
    better_esol = champion(ENDPOINT["solubility"], {"admet_ai": admet_card(), "esol_svr": esol_card(mae=0.5)})
    assert better_esol.model == "esol_svr"  # lower MAE wins
    bbb = champion(ENDPOINT["bbb"], {"admet_ai": admet_card(bbb_auc=0.70), "minimol_bbbp": bbbp_card(auc=0.725)})
    assert (bbb.model, bbb.task) == ("minimol_bbbp", "p_np")  # higher ROC-AUC wins
    assert "ROC-AUC" in bbb.reason


def test_champion_is_chosen_among_the_selected_models_only():
    only_esol = champion(ENDPOINT["solubility"], {"esol_svr": esol_card()})
    assert only_esol.model == "esol_svr" and "only selected model" in only_esol.reason
    assert champion(ENDPOINT["herg"], {"esol_svr": esol_card()}) is None
    no_metrics = make_card("esol_gin", tasks=[{"name": "log_solubility", "type": "regression"}])
    assert champion(ENDPOINT["solubility"], {"esol_gin": no_metrics}).metric is None


@pytest.mark.parametrize(
    ("key", "value", "level"),
    [
        ("solubility", -1.0, "good"),  # AqSolDB: >= -2 soluble
        ("solubility", -3.0, "caution"),  # -4 to -2 slightly soluble
        ("solubility", -5.0, "bad"),  # < -4 insoluble
        ("lipophilicity", 2.0, "good"),  # Waring 2010: 1-3
        ("lipophilicity", 4.5, "caution"),
        ("herg", 0.85, "bad"),  # ADMETlab 2.0: >= 0.7 positive
        ("herg", 0.10, "good"),  # < 0.3 negative
        ("herg", 0.50, "caution"),  # 0.3-0.7 not to be trusted
        ("absorption", 0.10, "bad"),  # a favourable positive class flips the colours
        ("bbb", 0.90, "info"),  # brain penetration: neither good nor bad
        ("clearance", 30.0, "none"),  # no agreed threshold
        ("herg", float("nan"), "none"),
    ],
)
def test_thresholds_give_verdicts(key, value, level):
    assert verdict(ENDPOINT[key].rule, value)[0] == level


def test_every_threshold_names_its_source():
    for endpoint in ENDPOINTS:
        assert endpoint.rule.source and endpoint.rule.text, endpoint.key
        if endpoint.rule.kind == "probability":
            assert endpoint.rule.source == PROBABILITY_SOURCE


def test_readable_labels_for_every_task_with_a_fallback():
    assert task_label(admet_card(), "hERG") == "hERG Blocking"  # the card's title
    assert task_label(bbbp_card(), "p_np") == "Blood–brain barrier penetration (BBBP)"  # the data set's name
    two = [{"name": "NR-AR", "type": "classification"}, {"name": "SR-p53", "type": "classification"}]
    tox21 = make_card("tox21_rf", tasks=two, data={"dataset": "tox21", "sha256": "0" * 64})
    assert task_label(tox21, "SR-p53") == "p53 (DNA damage) (Tox21)"
    one = [{"name": "p_np", "type": "classification"}]
    own = make_card("mine", tasks=one, data={"dataset": "my_assay", "sha256": "0" * 64})
    assert task_label(own, "p_np") == "p np (my_assay)"
    assert task_units(admet_card(), "hERG") == "probability"
    assert task_units(esol_card(), "log_solubility") == "log10(mol/L)"
    names = readable_columns(["input", "esol_svr:log_solubility", "esol_svr:AD"], {"esol_svr": esol_card()})
    assert names == {
        "esol_svr:log_solubility": "Aqueous solubility (ESOL) · esol_svr (log10(mol/L))",
        "esol_svr:AD": "esol_svr: similarity to training set",
    }


def _row() -> pd.Series:
    return pd.Series(
        {
            "input": "CCO",
            "smiles": "CCO",
            "error": "",
            "warnings": "",
            "admet_ai:Solubility_AqSolDB": -1.5,
            "admet_ai:Solubility_AqSolDB:std": 0.2,
            "admet_ai:BBB_Martins": 0.9,
            "admet_ai:BBB_Martins:std": 0.05,
            "admet_ai:hERG": 0.8,
            "admet_ai:hERG:std": 0.1,
            "admet_ai:AD": np.nan,
            "esol_svr:log_solubility": -3.0,
            "esol_svr:log_solubility:std": 0.0,
            "esol_svr:AD": 0.6,
        }
    )


def test_panel_shows_the_recommended_value_verdict_percentile_and_domain():
    cards = {"admet_ai": admet_card(), "esol_svr": esol_card()}
    reference = pd.DataFrame(
        {"admet_ai:Solubility_AqSolDB": [-4.0, -3.0, -2.0, -1.0], "admet_ai:hERG": [0.1, 0.2, 0.9, 0.95]}
    )
    table = panel(_row(), cards, {"admet_ai": reference}, smiles="CCO")
    solubility = table.set_index("endpoint").loc["Aqueous solubility"]
    assert solubility["model"] == "admet_ai" and solubility["value"] == -1.5 and solubility["std"] == 0.2
    assert solubility["verdict"] == "🟢 soluble" and solubility["percentile"] == 75.0
    assert solubility["domain"].startswith("not available")
    herg = table.set_index("endpoint").loc["hERG blocking, cardiotoxicity risk"]
    assert herg["level"] == "bad" and herg["percentile"] == 50.0
    assert table["endpoint"].iloc[-2:].tolist() == ["Lipinski rule of five", "Veber rules"]
    only_esol = panel(_row(), {"esol_svr": esol_card()})
    assert only_esol["domain"].tolist() == ["in domain (0.60)"] and math.isnan(only_esol["percentile"].iloc[0])
    shown = display_panel(table)
    assert shown.loc[0, "Prediction"] == "-1.50 ± 0.20 logS, log mol/L"
    assert shown.loc[len(shown) - 2, "Prediction"] == "0 violations"


def test_radar_has_at_most_eight_axes_oriented_outward_favourable():
    table = pd.DataFrame(
        {
            "axis": [f"a{i}" for i in range(12)],
            "orientation": [1, -1] * 6,
            "percentile": [80.0] * 12,
        }
    )
    axes = radar_axes(table)
    assert len(axes) == MAX_RADAR_AXES == 8
    assert axes["score"].tolist()[:2] == [80.0, 20.0]  # a risk at the 80th percentile is safer than 20% of drugs
    table.loc[0, "percentile"] = np.nan
    table.loc[1, "orientation"] = 0
    assert radar_axes(table)["axis"].tolist()[:2] == ["a2", "a3"]  # no percentile or no axis: left out


def test_the_page_radar_is_an_svg_image_with_one_labelled_spoke_per_axis_and_none_below_three():
    from workbench.app.prediction_view import radar_svg_of

    table = pd.DataFrame({"axis": ["Solubility", "hERG safety", "Ames <safety>"], "orientation": [1, -1, -1]})
    table["percentile"] = [80.0, 30.0, 50.0]
    svg = radar_svg_of(table)
    assert svg.startswith("<svg") and svg.count("<line") == 3 and "Ames &lt;safety&gt;" in svg
    assert "<script" not in svg and radar_svg_of(table.head(2)) is None


def test_screen_table_puts_user_columns_and_row_notes_first_and_reads_like_the_panel():
    table = pd.DataFrame([_row(), _row()]).reset_index(drop=True)
    table.loc[1, ["error", "warnings"]] = ["", "removed fragment [Na+] (counter-ion)"]
    user = pd.DataFrame({"id": ["a", "b"], "error": ["x", ""]})
    cards = {"admet_ai": admet_card(), "esol_svr": esol_card()}
    screen = screen_table(table, cards, ["solubility", "herg"], user)
    assert screen.columns.tolist() == [
        "id",
        "input_error",
        "input",
        "smiles",
        "error",
        "warnings",
        "Aqueous solubility (logS, log mol/L)",
        "Aqueous solubility: verdict",
        "hERG blocking, cardiotoxicity risk (probability)",
        "hERG blocking, cardiotoxicity risk: verdict",
    ]
    assert screen.loc[1, "warnings"] == "removed fragment [Na+] (counter-ion)"
    assert screen.loc[0, "hERG blocking, cardiotoxicity risk: verdict"] == "🔴 likely blocker"


def test_the_panel_says_how_far_to_trust_each_value_from_the_cards_calibration():
    tasks = [{"name": "log_solubility", "type": "regression", "units": "log10(mol/L)"}]
    conformal = {"task": "log_solubility", "method": "conformal", "halfwidth": 1.2, "test": {"coverage": 0.88}}
    esol = make_card("esol_svr", tasks=tasks, metrics={"test": {"mae": _metric(1.16)}},
                     calibration={"fitted_on": "valid", "tasks": [conformal]})  # fmt: skip
    row = pd.concat([_row(), pd.Series({"esol_svr:log_solubility:lo": -4.2, "esol_svr:log_solubility:hi": -1.8})])
    table = panel(row, {"esol_svr": esol})
    assert table["uncertainty"].tolist() == ["90 % interval -4.20 to -1.80 (covered 88% of test molecules)"]
    assert display_panel(table).loc[0, "Uncertainty"] == table.loc[0, "uncertainty"]
    platt = {"task": "hERG", "method": "platt", "a": 1.0, "b": 0.0, "test": {"ece_before": 0.2, "ece_after": 0.05}}
    card = make_card("admet_ai", tasks=[{"name": "hERG", "type": "classification"}],
                     calibration={"fitted_on": "valid", "tasks": [platt]})  # fmt: skip
    herg = panel(_row(), {"admet_ai": card}).set_index("endpoint")["uncertainty"]
    assert herg.iloc[0] == "calibrated (platt): test ECE 0.20 → 0.05"
    assert panel(_row(), {"admet_ai": admet_card()}).set_index("model")["uncertainty"].iloc[-1] == ("not recalibrated")
