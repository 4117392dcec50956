"""Applicability domain: the stored index answers without the data file; a rebuilt one equals it; tampering refused."""

import json

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from tests.data_fixtures import tiny_tables
from tests.tiny_model import train_tiny_checkpoint
from workbench.data import DataUnavailableError
from workbench.data.prepared import prepare
from workbench.models import Checkpoint, CheckpointError, load_card, reference_path
from workbench.predict import applicability
from workbench.predict.percentiles import reference_predictions
from workbench.predict.references import store_references


@pytest.fixture
def checkpoint(data_dirs, tmp_path, monkeypatch):
    """The tiny fingerprint MLP, its card pointing at a tiny BBBP table and its scaffold split."""
    tiny_tables(data_dirs[0])
    monkeypatch.setattr(applicability, "_INDEXES", {})
    prep = prepare("bbbp", "scaffold")
    train_tiny_checkpoint(tmp_path)
    path = tmp_path / "tiny" / "card.json"
    card = json.loads(path.read_text())
    fields = prep.card_fields()
    card.update(data=fields["data"], split=fields["split"], tasks=card["tasks"])
    path.write_text(json.dumps(card))
    return Checkpoint(tmp_path / "tiny", load_card(tmp_path / "tiny"))


def _expected_max_tanimoto(query: Chem.Mol) -> float:
    prep = prepare("bbbp", "scaffold")
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    train = [gen.GetFingerprint(prep.mols[i]) for i in prep.split.train]
    return max(DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(query), train))


@pytest.mark.slow
def test_rebuilt_index_scores_max_tanimoto_to_the_train_split(checkpoint):
    prep = prepare("bbbp", "scaffold")
    index = applicability.domain_index(checkpoint)
    assert sorted(index.rows.tolist()) == sorted(prep.kept[prep.split.train].tolist())
    query = Chem.MolFromSmiles("c1ccccc1CCCN")
    scores = applicability.domain_scores([query, None], checkpoint)
    assert scores[0] == pytest.approx(_expected_max_tanimoto(query)) and np.isnan(scores[1])
    near = applicability.nearest_neighbours(prep.mols[prep.split.train[0]], checkpoint, k=3)
    assert near.loc[0, "similarity"] == pytest.approx(1.0) and near["similarity"].is_monotonic_decreasing
    assert list(near.columns) == ["smiles", "similarity", "p_np"]


@pytest.mark.slow
def test_stored_references_answer_without_the_data_file(checkpoint, data_dirs, monkeypatch):
    card = store_references(checkpoint.path, log=lambda _msg: None)
    assert card.reference("domain_index").molecules == len(prepare("bbbp", "scaffold").split.train)
    assert card.reference("domain_index").shared and not (checkpoint.path / "domain_index.npz").exists()  # one copy
    assert card.reference("percentile_reference").molecules > 2000  # approved drugs that parse
    stored = Checkpoint(checkpoint.path, card)
    (data_dirs[0] / "BBBP.csv").unlink()  # no data file any more
    monkeypatch.setattr(applicability, "_INDEXES", {})
    monkeypatch.setattr("workbench.data.prepared.prepare", lambda *a, **k: pytest.fail("rebuilt a stored index"))
    query = Chem.MolFromSmiles("c1ccccc1CCCN")
    assert applicability.domain_scores([query], stored)[0] == pytest.approx(_score_from(card, checkpoint, query))
    with pytest.raises(DataUnavailableError):
        applicability.nearest_neighbours(query, stored, k=3)


def _score_from(card, checkpoint, query):
    """The score the index stored in the card gives (independent of the module cache)."""
    from workbench.predict.domain_index import load_domain_index

    return float(
        load_domain_index(reference_path(Checkpoint(checkpoint.path, card), "domain_index")).scores([query])[0]
    )


@pytest.mark.slow
def test_stored_percentile_reference_is_read_not_recomputed(checkpoint, monkeypatch, few_reference_drugs):
    from workbench.predict.inference import load_model

    card = store_references(checkpoint.path, log=lambda _msg: None)
    model = load_model(Checkpoint(checkpoint.path, card))
    monkeypatch.setattr(
        "workbench.predict.percentiles.compute_reference", lambda *_: pytest.fail("recomputed a stored reference")
    )
    table = reference_predictions(model)
    assert list(table.columns) == ["tiny:has_nitrogen", "tiny:carbons"]
    assert len(table) == card.reference("percentile_reference").molecules
    # read and sha256-checked once per process: the next session gets the same table without the file
    monkeypatch.setattr("workbench.predict.percentiles.reference_path", lambda *_: pytest.fail("read it again"))
    assert reference_predictions(model) is table


@pytest.mark.slow
def test_a_modified_index_is_refused_and_a_changed_data_file_too(
    checkpoint, data_dirs, monkeypatch, few_reference_drugs
):
    card = store_references(checkpoint.path, log=lambda _msg: None)
    index_file = reference_path(Checkpoint(checkpoint.path, card), "domain_index")
    index_file.write_bytes(index_file.read_bytes()[:-10] + b"0123456789")
    monkeypatch.setattr(applicability, "_INDEXES", {})
    with pytest.raises(CheckpointError, match="does not match the sha256"):
        applicability.domain_scores([Chem.MolFromSmiles("CCO")], Checkpoint(checkpoint.path, card))
    table = data_dirs[0] / "BBBP.csv"
    table.write_text(table.read_text() + "CCCCCCCCN,1\n")
    with pytest.raises(DataUnavailableError, match="differs from the file"):
        applicability.domain_scores([Chem.MolFromSmiles("CCO")], checkpoint)
