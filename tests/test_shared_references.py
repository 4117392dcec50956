"""Reference files shared by several cards (``models/_shared/<sha256>.npz``): one copy, sha256-checked, no traversal."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from rdkit import Chem

from tests.tiny_model import train_tiny_checkpoint
from workbench.models import CheckpointError, find_checkpoints, load_card, set_reference_files
from workbench.models.store import SHARED_FOLDER, Checkpoint, reference_path, share_reference_file
from workbench.predict import applicability
from workbench.predict.domain_index import DOMAIN_INDEX_FILE, save_domain_index
from workbench.predict.table import domain_columns, prediction_table

TRAIN = ["CCO", "CCN", "c1ccccc1O", "CC(=O)O"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """Two tiny checkpoints (one trained once for the module, copied under a second name)."""
    root = tmp_path_factory.mktemp("trained")
    train_tiny_checkpoint(root, name="tiny_a", seeds=(0,))
    shutil.copytree(root / "tiny_a", root / "tiny_b")
    card = json.loads((root / "tiny_b" / "card.json").read_text())
    (root / "tiny_b" / "card.json").write_text(json.dumps({**card, "name": "tiny_b"}))
    return root


@pytest.fixture
def shared_pair(trained, models_dir, monkeypatch):
    """Two tiny checkpoints whose cards list one domain index in the shared folder."""
    monkeypatch.setattr(applicability, "_INDEXES", {})
    names = []
    for name in ("tiny_a", "tiny_b"):
        folder = shutil.copytree(trained / name, models_dir / name)
        save_domain_index(folder, [Chem.MolFromSmiles(s) for s in TRAIN], rows=range(len(TRAIN)))
        shared = share_reference_file(folder, DOMAIN_INDEX_FILE)
        set_reference_files(folder, [{"file": shared, "kind": "domain_index", "molecules": 4, "shared": True}])
        names.append(shared)
    assert names[0] == names[1]  # identical files: one name
    return models_dir, names[0]


def test_identical_indexes_are_stored_once_and_the_registry_skips_the_shared_folder(shared_pair):
    models_dir, name = shared_pair
    assert sorted(p.name for p in (models_dir / SHARED_FOLDER).iterdir()) == [name]
    assert not (models_dir / "tiny_a" / DOMAIN_INDEX_FILE).exists()
    checkpoints, problems = find_checkpoints()
    assert sorted(c.name for c in checkpoints) == ["tiny_a", "tiny_b"] and problems == []


def test_a_card_listing_the_shared_index_loads_and_scores(shared_pair):
    table, notes = prediction_table(["CCO", "CCCCCCCCCCCCCCCl"], ["tiny_a", "tiny_b"])
    assert notes == []
    for name in ("tiny_a", "tiny_b"):
        score, flag = domain_columns(name)
        assert table[score].iloc[0] == pytest.approx(1.0) and table[score].iloc[1] < 0.35
        assert table[flag].tolist() == [True, False]


def test_a_tampered_shared_index_is_refused_in_one_sentence(shared_pair):
    models_dir, name = shared_pair
    path = models_dir / SHARED_FOLDER / name
    path.write_bytes(path.read_bytes()[:-4] + b"0000")
    checkpoint = Checkpoint(models_dir / "tiny_a", load_card(models_dir / "tiny_a"))
    with pytest.raises(CheckpointError, match="does not match the sha256") as info:
        applicability.domain_scores([Chem.MolFromSmiles("CCO")], checkpoint)
    assert "\n" not in str(info.value) and str(info.value).endswith(".")
    table, notes = prediction_table(["CCO"], ["tiny_a"])
    assert np.isnan(table[domain_columns("tiny_a")[0]].iloc[0]) and "does not match the sha256" in notes[0]


def test_a_shared_index_is_not_found_through_the_checkpoint_folder(shared_pair):
    """``shared`` decides the folder: the same name without it is looked for in the checkpoint's own folder."""
    models_dir, _ = shared_pair
    card = load_card(models_dir / "tiny_a").to_dict()
    del card["references"][0]["shared"]
    (models_dir / "tiny_a" / "card.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="listed in the card but missing"):
        reference_path(Checkpoint(models_dir / "tiny_a", load_card(models_dir / "tiny_a")), "domain_index")


@pytest.mark.parametrize("name", ["../tiny_b/domain_index.npz", "/etc/passwd", "..", "."])
def test_a_reference_naming_anything_but_a_plain_file_is_refused(shared_pair, name):
    models_dir, _ = shared_pair
    card = load_card(models_dir / "tiny_a").to_dict()
    card["references"][0]["file"] = name
    (models_dir / "tiny_a" / "card.json").write_text(json.dumps(card))
    with pytest.raises(CheckpointError) as info:
        reference_path(Checkpoint(models_dir / "tiny_a", load_card(models_dir / "tiny_a")), "domain_index")
    assert "references/0/file" in str(info.value) or "not a plain file name" in str(info.value)
