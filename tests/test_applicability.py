"""Applicability domain: training sets rebuilt from the card's data file, cached on disk, checked by hash."""

import numpy as np
import pytest
from rdkit import Chem, DataStructs

from tests.test_train import tiny_tables
from workbench.data import DataUnavailableError
from workbench.data.prepared import prepare
from workbench.models import Checkpoint
from workbench.predict import applicability


@pytest.fixture
def checkpoint(data_dirs, tmp_path, monkeypatch):
    tiny_tables(data_dirs[0])
    monkeypatch.setattr(applicability, "_CACHE", {})
    prep = prepare("bbbp", "scaffold")
    card = {"name": "tiny_ad", **prep.card_fields()}
    return Checkpoint(tmp_path / "tiny_ad", card)


def test_training_set_is_the_train_split_and_domain_scores_are_max_tanimoto(checkpoint):
    train = applicability.training_set(checkpoint)
    prep = prepare("bbbp", "scaffold")
    assert train.smiles == [prep.smiles[i] for i in prep.split.train]
    assert list(train.labels.columns) == ["p_np"]
    query = Chem.MolFromSmiles(train.smiles[0])
    scores = applicability.domain_scores([query, None], train)
    assert scores[0] == pytest.approx(1.0) and np.isnan(scores[1])
    near = applicability.nearest_neighbours(query, train, k=3)
    assert near.loc[0, "smiles"] == train.smiles[0] and near["similarity"].is_monotonic_decreasing


def test_second_process_reads_the_disk_cache_with_identical_fingerprints(checkpoint, data_dirs, monkeypatch):
    first = applicability.training_set(checkpoint)
    files = list((data_dirs[1] / "applicability").glob("bbbp-*.npz"))
    assert len(files) == 1
    monkeypatch.setattr(applicability, "_CACHE", {})  # a new process
    monkeypatch.setattr("workbench.data.prepared.prepare", lambda *a, **k: pytest.fail("rebuilt despite the cache"))
    second = applicability.training_set(checkpoint)
    assert second.smiles == first.smiles
    assert np.array_equal(second.labels.to_numpy(), first.labels.to_numpy(), equal_nan=True)
    assert all(
        DataStructs.TanimotoSimilarity(a, b) == 1.0
        for a, b in zip(first.fingerprints, second.fingerprints, strict=True)
    )
    assert [a.GetNumOnBits() for a in first.fingerprints] == [b.GetNumOnBits() for b in second.fingerprints]


def test_corrupt_cache_is_rebuilt_and_a_changed_data_file_is_refused(checkpoint, data_dirs, monkeypatch):
    applicability.training_set(checkpoint)
    (cached,) = (data_dirs[1] / "applicability").glob("bbbp-*.npz")
    cached.write_bytes(b"not an npz")
    monkeypatch.setattr(applicability, "_CACHE", {})
    assert len(applicability.training_set(checkpoint).smiles) > 0
    monkeypatch.setattr(applicability, "_CACHE", {})
    table = data_dirs[0] / "BBBP.csv"
    table.write_text(table.read_text() + "CCCCCCCCN,1\n")
    with pytest.raises(DataUnavailableError, match="differs from the file"):
        applicability.training_set(checkpoint)
