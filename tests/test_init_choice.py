"""A re-fine-tuned GIN replaces the shipped one only when validation says so, and the card keeps both scores."""

import json
import shutil

import pytest

from tests.test_train import small_config, tiny_data  # noqa: F401  (fixture)
from tests.tiny_model import train_tiny_checkpoint
from workbench.models import Checkpoint, load_card
from workbench.models.zoo import init_comparison_rows
from workbench.train.finetune import finetune
from workbench.train.init_choice import keep_better


def _with_scores(folder, valid: float, test: float, init: str | None, metric: str = "roc_auc"):
    path = folder / "card.json"
    card = json.loads(path.read_text())
    card["metrics"] = {
        part: {metric: {"mean": value, "std": 0.01, "per_seed": [value, value]}}
        for part, value in (("valid", valid), ("test", test))
    }
    kind = "regression" if metric == "rmse" else "classification"
    card["tasks"] = [{"name": t["name"], "type": kind} for t in card["tasks"]]
    card["training"] = {"init": init}
    card["command"] = f"workbench train finetune --dataset tiny{' --init ' + init if init else ''}"
    path.write_text(json.dumps(card))


@pytest.fixture
def pair(tmp_path):
    """A shipped checkpoint (no pretraining) and a staged one (from an encoder) outside the models folder."""
    models, staged = tmp_path / "models", tmp_path / "run"
    train_tiny_checkpoint(models, "tiny")
    shutil.copytree(models / "tiny", staged / "tiny")
    _with_scores(models / "tiny", valid=0.70, test=0.75, init=None)
    return models / "tiny", staged / "tiny"


def test_better_on_validation_replaces_and_records_both(pair):
    shipped, staged = pair
    _with_scores(staged, valid=0.72, test=0.70, init="models/encoders/attrmask")
    replaced, card = keep_better(staged, shipped)
    assert replaced and not staged.exists()
    assert card.training["init"] == "models/encoders/attrmask" and load_card(shipped) == card
    comparison = card.training["init_comparison"]
    assert comparison["kept"] == 1 and comparison["metric"] == "roc_auc"
    old, new = comparison["candidates"]
    assert (old["init"], old["valid"]["mean"], old["test"]["mean"]) == (None, 0.70, 0.75)
    assert (new["init"], new["valid"]["mean"]) == ("models/encoders/attrmask", 0.72)
    assert not shipped.with_name("tiny.replaced").exists()


def test_worse_or_equal_on_validation_keeps_the_shipped_weights_even_if_test_is_better(pair):
    shipped, staged = pair
    weights = {p.name: p.read_bytes() for p in shipped.glob("*.safetensors")}
    _with_scores(staged, valid=0.70, test=0.99, init="models/encoders/attrmask")
    replaced, card = keep_better(staged, shipped)
    assert not replaced
    assert {p.name: p.read_bytes() for p in shipped.glob("*.safetensors")} == weights
    assert card.training["init"] is None and card.training["init_comparison"]["kept"] == 0


def test_regression_keeps_the_lower_validation_rmse(pair):
    shipped, staged = pair
    _with_scores(shipped, valid=1.20, test=1.3, init=None, metric="rmse")
    _with_scores(staged, valid=1.10, test=1.4, init="models/encoders/attrmask", metric="rmse")
    replaced, kept = keep_better(staged, shipped)
    assert replaced and kept.training["init_comparison"]["metric"] == "rmse"


def test_model_zoo_shows_before_and_after_with_the_shipped_one_marked(pair):
    shipped, staged = pair
    _with_scores(staged, valid=0.72, test=0.70, init="models/encoders/attrmask")
    _, card = keep_better(staged, shipped)
    rows = init_comparison_rows([Checkpoint(shipped, card)])
    assert rows[["initialisation", "valid", "test", "shipped"]].values.tolist() == [
        ["no pretraining", "0.700 ± 0.010", "0.750 ± 0.010", "no"],
        ["models/encoders/attrmask", "0.720 ± 0.010", "0.700 ± 0.010", "yes"],
    ]
    assert init_comparison_rows([Checkpoint(shipped, load_card(shipped))]).shape[0] == 2


@pytest.mark.slow
def test_finetune_only_if_better_trains_beside_the_run_and_keeps_the_validation_winner(tiny_data, tmp_path):  # noqa: F811
    first = finetune(small_config("bbbp", "tiny_gin"), models_dir=tiny_data, runs_dir=tmp_path / "a")
    second = finetune(
        small_config("bbbp", "tiny_gin", lr=1e-2), models_dir=tiny_data, runs_dir=tmp_path / "b", only_if_better=True
    )
    comparison = second.training["init_comparison"]
    valid = [c["valid"]["mean"] for c in comparison["candidates"]]
    assert valid[0] == pytest.approx(first.metrics["valid"]["roc_auc"].mean)
    assert comparison["kept"] == (1 if valid[1] > valid[0] else 0)
    assert load_card(tiny_data / "tiny_gin") == second
    assert second.reference("percentile_reference") is not None
    assert sorted(p.name for p in tiny_data.iterdir() if not p.name.startswith("_")) == ["tiny_gin"]
