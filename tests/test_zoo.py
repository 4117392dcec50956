"""The model zoo's card table and card text, read from typed model cards."""

from tests.cards import make_card
from workbench.models import Checkpoint
from workbench.models.zoo import card_markdown, card_rows, metric_text

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


def test_card_markdown_names_data_hash_and_split_sizes():
    split = {"kind": "scaffold", "seed": None, "fractions": [0.8, 0.1, 0.1], "sizes": [8, 1, 1]}
    data = {"dataset": "bbbp", "sha256": "ab" * 32, "molecules": 10}
    title, data_line = card_markdown(make_card("m", description="a model", split=split, data=data))
    assert title == "**m** — a model"
    assert data_line == "Data: `bbbp` (10 molecules, sha256 `abababababab…`); split: `scaffold` [8, 1, 1]"
    _, bare = card_markdown(make_card("m"))
    assert bare == f"Data: `tiny` (? molecules, sha256 `{'0' * 12}…`); split: `none` None"
