import dataclasses
import json
from pathlib import Path

import pytest
import torch

from tests.tiny_model import train_tiny_checkpoint
from workbench.models import (
    Checkpoint,
    CheckpointError,
    ModelCard,
    card_schema,
    find_checkpoints,
    load_card,
    load_state_dicts,
    validate_card,
    write_card,
)

SHIPPED_CARDS = sorted((Path(__file__).resolve().parent.parent / "models").glob("*/card.json"))


@pytest.fixture
def checkpoint(tmp_path):
    card = train_tiny_checkpoint(tmp_path)
    return tmp_path / "tiny", card


def test_saved_card_validates_and_records_hashes(checkpoint):
    folder, card = checkpoint
    assert isinstance(card, ModelCard) and load_card(folder) == card
    assert [w.file for w in card.weights] == ["seed0.safetensors", "seed1.safetensors"]
    assert all(len(w.sha256) == 64 for w in card.weights)
    assert card.featurizer.version
    assert card.task_names == ["has_nitrogen", "carbons"] and card.tasks[1].units == "count"
    assert [t.is_classification for t in card.tasks] == [True, False]
    assert card.metric_block("test")["roc_auc"].per_seed == (1.0, 1.0) and card.metric_block("valid") == {}


@pytest.mark.parametrize("path", SHIPPED_CARDS, ids=lambda p: p.parent.name)
def test_every_shipped_card_round_trips_exactly(path):
    text = path.read_text()
    card = ModelCard.from_dict(json.loads(text))
    assert json.dumps(card.to_dict(), indent=2) + "\n" == text  # same keys, values and order
    assert ModelCard.from_dict(card.to_dict()) == card


def test_shipped_cards_are_all_tested():
    assert len(SHIPPED_CARDS) >= 17  # the cards in models/ (17 since the superseded GINs were dropped): none skipped


def test_unknown_keys_are_kept_and_replaced_parts_are_written(checkpoint):
    _, card = checkpoint
    raw = card.to_dict()
    raw["split"]["strategy_note"] = "kept"
    raw["tasks"][0]["assay"] = "kept too"
    typed = ModelCard.from_dict(raw)
    assert typed.split.extra == {"strategy_note": "kept"} and typed.tasks[0].extra == {"assay": "kept too"}
    assert typed.to_dict() == raw
    renamed = dataclasses.replace(typed, name="renamed", description=None)
    assert renamed.to_dict()["name"] == "renamed" and "description" not in renamed.to_dict()
    assert list(renamed.to_dict()) == [k for k in raw if k != "description"]


def test_write_card_takes_a_model_card_and_checkpoints_take_only_model_cards(checkpoint):
    folder, card = checkpoint
    files = [{"file": w.file, "format": w.format, "seed": w.seed} for w in card.weights]
    written = write_card(folder, dataclasses.replace(card, description="rewritten"), files)
    assert written.description == "rewritten" and load_card(folder) == written
    assert dataclasses.replace(written, description=card.description) == card
    with pytest.raises(TypeError, match="ModelCard"):
        Checkpoint(folder, card.to_dict())


def test_state_dicts_round_trip(checkpoint):
    folder, card = checkpoint
    states = load_state_dicts(folder, card)
    assert len(states) == 2 and not torch.equal(states[0]["head.weight"], states[1]["head.weight"])


def test_tampered_weights_are_refused(checkpoint):
    folder, card = checkpoint
    weights = folder / "seed1.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0xFF
    weights.write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="does not match the sha256"):
        load_state_dicts(folder, card)


def test_invalid_cards_list_every_problem(checkpoint):
    _, card = checkpoint
    broken = dict(card.to_dict(), name="Bad Name", tasks=[{"name": "x", "type": "ranking"}])
    with pytest.raises(CheckpointError) as info:
        validate_card(broken)
    assert "name" in str(info.value) and "ranking" in str(info.value)
    with pytest.raises(CheckpointError, match="one value per task"):
        ModelCard.from_dict(dict(card.to_dict(), target_scaling={"mean": [0.0], "std": [1.0]}))


def _one_sentence(message: str) -> bool:
    return "\n" not in message and message.count(". ") == 0


def test_a_newer_format_is_refused_saying_to_upgrade_the_workbench(checkpoint):
    folder, card = checkpoint
    (folder / "card.json").write_text(json.dumps(dict(card.to_dict(), format_version=99)))
    with pytest.raises(CheckpointError, match="newer workbench") as info:
        load_card(folder)
    assert _one_sentence(str(info.value)) and "upgrade the workbench" in str(info.value)


def test_an_older_format_without_an_upgrade_names_the_command_to_rerun(checkpoint):
    _, card = checkpoint
    with pytest.raises(CheckpointError) as info:
        ModelCard.from_dict(dict(card.to_dict(), format_version=0))
    message = str(info.value)
    assert _one_sentence(message) and "cannot be upgraded automatically" in message
    assert message.endswith("re-create the checkpoint with the command recorded in its card: tests/tiny_model.py")


def test_an_older_format_with_a_mechanical_upgrade_is_upgraded(checkpoint, monkeypatch):
    folder, card = checkpoint
    old = card.to_dict()
    old["format_version"] = 0
    old["summary"] = old.pop("description")  # what format 0 would have called it
    monkeypatch.setitem(
        card_schema._UPGRADES, 0, lambda c: {("description" if k == "summary" else k): v for k, v in c.items()}
    )
    (folder / "card.json").write_text(json.dumps(old))
    assert load_card(folder) == card


def test_pickled_checkpoints_are_not_loaded(tmp_path):
    folder = tmp_path / "foreign"
    folder.mkdir()
    (folder / "model.pth").write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(CheckpointError, match="pickled checkpoints are not loaded"):
        load_card(folder)


def test_registry_scans_folders_and_reports_skipped_ones(tmp_path):
    train_tiny_checkpoint(tmp_path, name="alpha", seeds=(0,))
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "card.json").write_text(json.dumps({"format_version": 1}))
    found, problems = find_checkpoints([tmp_path])
    assert [c.name for c in found] == ["alpha"]
    assert len(problems) == 1 and "broken" in problems[0]
