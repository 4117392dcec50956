"""The model zoo's card table, card text and benchmark chart, and the Model zoo page."""

from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.cards import make_card
from workbench.models import Checkpoint
from workbench.models.zoo import NOT_RECORDED, benchmark_figure, card_facts, card_rows, metric_text

APP = str(Path(__file__).resolve().parent.parent / "app.py")

METRICS = {
    "test": {
        "roc_auc": {"mean": 0.75, "std": 0.02, "per_seed": [0.73, 0.77]},
        "prc_auc": {"mean": 0.5, "std": None, "per_seed": [0.5]},
    }
}


def test_card_rows_summarise_each_checkpoint(tmp_path):
    (tmp_path / "seed0.safetensors").write_bytes(b"\0" * 250_000)
    card = make_card("zoo_model", group="Test", metrics=METRICS)
    (row,) = card_rows([Checkpoint(tmp_path, card)]).to_dict("records")
    assert row == {
        "name": "zoo_model",
        "group": "Test",
        "architecture": "feature_mlp",
        "tasks": 1,
        "data": "tiny",
        "split": "none",
        "seeds": 1,
        "test": "roc_auc 0.750 ± 0.020",
        "size_mb": 0.25,
        "command": "tests/cards.py",
    }


def test_metric_text_skips_metrics_without_a_std():
    card = make_card(metrics=METRICS)
    assert metric_text(card.metric_block("test")) == "roc_auc 0.750 ± 0.020"
    assert metric_text(card.metric_block("valid")) == ""


def test_card_facts_name_data_hash_and_split_sizes():
    split = {"kind": "scaffold", "seed": None, "fractions": [0.8, 0.1, 0.1], "sizes": [8, 1, 1]}
    data = {"dataset": "bbbp", "sha256": "ab" * 32, "molecules": 10}
    facts = dict(card_facts(make_card("m", description="a model", split=split, data=data)))
    assert facts["Description"] == "a model"
    assert facts["Data"] == "bbbp (10 molecules; sha256 abababababab…)"
    assert facts["Split"] == "scaffold; sizes 8 / 1 / 1"
    assert facts["Seeds"] == "0"


def test_a_card_without_training_details_says_what_is_not_recorded():
    # like ADMET-AI's card: trained elsewhere, no molecule count, no data hash, no split sizes, no seeds
    data = {"dataset": "TDC ADMET", "sha256": "unknown", "reference": "Swanson et al. 2024"}
    split = {"kind": "external", "note": "trained by the ADMET-AI authors"}
    facts = card_facts(make_card("admet", data=data, split=split, seeds=[]))
    text = " ".join(t for _, t in facts)
    assert "?" not in text and "None" not in text and "unknown" not in text
    facts = dict(facts)
    assert facts["Data"] == f"TDC ADMET (molecule count {NOT_RECORDED}; sha256 {NOT_RECORDED})"
    assert facts["Split"] == f"external; sizes {NOT_RECORDED} (trained by the ADMET-AI authors)"
    assert facts["Seeds"] == NOT_RECORDED and facts["Description"] == NOT_RECORDED
    assert facts["Reference"] == "Swanson et al. 2024"


def test_benchmark_chart_gives_each_metric_its_own_axes():
    bench = pd.DataFrame(
        {
            "dataset": ["bbbp", "bbbp", "esol", "esol"],
            "model": ["rf", "gin", "rf", "gin"],
            "metric": ["roc_auc", "roc_auc", "rmse", "rmse"],
            "mean": [0.7, 0.68, 1.1, 1.3],
            "std": [0.01, 0.02, 0.05, 0.04],
        }
    )
    spec = benchmark_figure(bench).to_dict()
    assert spec["resolve"]["scale"] == {"x": "independent", "y": "independent", "color": "shared"}
    charts = spec["hconcat"]
    assert [c["title"] for c in charts] == ["ROC-AUC (higher is better)", "RMSE (lower is better)"]
    rows = [spec["datasets"][c["data"]["name"]] for c in charts]  # one chart per metric, with its own data sets
    assert [{r["dataset"] for r in part} for part in rows] == [{"bbbp"}, {"esol"}]
    esol_rf = next(r for r in rows[1] if r["model"] == "rf")
    assert (esol_rf["low"], esol_rf["high"]) == pytest.approx((1.05, 1.15))  # the error bar is mean ± std
    marks = [[layer["mark"]["type"] for layer in c["layer"]] for c in charts]
    assert marks == [["bar", "rule"], ["bar", "rule"]]
    scale = lambda spec: spec["hconcat"][0]["layer"][0]["encoding"]["color"]["scale"]  # noqa: E731
    assert scale(spec) == {"domain": ["gin", "rf"]}  # default palette, sorted
    given = scale(benchmark_figure(bench, {"rf": "#111111", "gin": "#222222", "unused": "#333333"}).to_dict())
    assert given == {"domain": ["rf", "gin"], "range": ["#111111", "#222222"]}  # the given colours, in their order
    assert scale(benchmark_figure(bench, {"rf": "#111111"}).to_dict()) == {"domain": ["gin", "rf"]}  # partial: default


@pytest.mark.slow
def test_zoo_page_shows_the_admet_ai_card_without_placeholders():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/model_zoo.py").run()
    assert not at.exception, at.exception
    # the champions beside the published rows (their tab), when the committed search has cells
    at.session_state["zoo_tab"] = "Champions vs published"
    at.run()
    tables = [d.value for d in at.dataframe]
    ours = [t for t in tables if "model" in t.columns and "champion (ours)" in set(t["model"])]
    assert ours and {"GraphMVP-C (published)"} <= set(ours[0]["model"])
    # the shipped GINs fine-tuned both ways: before and after, the validation winner marked
    at.session_state["zoo_tab"] = "Benchmark"
    at.run()
    init = next(d.value for d in at.dataframe if "initialisation" in d.value.columns)
    assert set(init["model"]) >= {"bbbp_gin", "esol_gin"}
    assert all(sorted(shipped) == ["no", "yes"] for _, shipped in init.groupby("model")["shipped"])
    at.session_state["zoo_tab"] = "Models"
    at.run()
    at.selectbox(key="zoo_model").set_value("admet_ai").run()
    lines = [m.value for m in at.markdown]
    assert any(NOT_RECORDED in line for line in lines)
    assert not any("? molecules" in line or line.endswith("None") for line in lines)
