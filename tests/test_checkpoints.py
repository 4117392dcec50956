import json

import pytest
import torch

from tests.tiny_model import train_tiny_checkpoint
from workbench.models import (
    CheckpointError,
    find_checkpoints,
    load_card,
    load_state_dicts,
    validate_card,
)


@pytest.fixture
def checkpoint(tmp_path):
    card = train_tiny_checkpoint(tmp_path)
    return tmp_path / "tiny", card


def test_saved_card_validates_and_records_hashes(checkpoint):
    folder, card = checkpoint
    assert load_card(folder) == card
    assert [w["file"] for w in card["weights"]] == ["seed0.safetensors", "seed1.safetensors"]
    assert all(len(w["sha256"]) == 64 for w in card["weights"])
    assert card["featurizer"]["version"]


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
    broken = dict(card, name="Bad Name", tasks=[{"name": "x", "type": "ranking"}])
    with pytest.raises(CheckpointError) as info:
        validate_card(broken)
    assert "name" in str(info.value) and "ranking" in str(info.value)
    with pytest.raises(CheckpointError, match="one value per task"):
        validate_card(dict(card, target_scaling={"mean": [0.0], "std": [1.0]}))


def test_old_and_new_formats_say_what_to_do(checkpoint):
    _, card = checkpoint
    with pytest.raises(CheckpointError, match="newer workbench"):
        validate_card(dict(card, format_version=99))
    with pytest.raises(CheckpointError, match="re-create the checkpoint with the command"):
        validate_card(dict(card, format_version=0))


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
