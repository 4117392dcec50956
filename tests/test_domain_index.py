"""The stored applicability-domain index: packed ECFP4 Tanimoto equals RDKit's, round trip, refusals."""

from __future__ import annotations

import numpy as np
import pytest
from rdkit import Chem, DataStructs
from rdkit.Chem import rdFingerprintGenerator

from workbench.predict.domain_index import DOMAIN_INDEX_FILE, load_domain_index, save_domain_index

TRAIN = ["CCO", "CCCCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "CCN(CC)CC", "O=C(O)c1ccccc1"]
QUERY = ["CC(=O)Oc1ccccc1C(=O)OC", "CCCO", "C1CCCCC1", "[Na+].[Cl-]"]


def _mols(smiles: list[str]) -> list[Chem.Mol]:
    return [Chem.MolFromSmiles(s) for s in smiles]


def test_scores_equal_rdkit_max_tanimoto(tmp_path):
    path = save_domain_index(tmp_path, _mols(TRAIN), rows=[10, 11, 12, 13, 14, 15])
    index = load_domain_index(path)
    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=2048)
    train_fps = [gen.GetFingerprint(m) for m in _mols(TRAIN)]
    expected = [max(DataStructs.BulkTanimotoSimilarity(gen.GetFingerprint(m), train_fps)) for m in _mols(QUERY)]
    np.testing.assert_allclose(index.scores(_mols(QUERY)), expected, atol=1e-6)


def test_a_training_molecule_scores_one_and_is_its_own_nearest(tmp_path):
    index = load_domain_index(save_domain_index(tmp_path, _mols(TRAIN), rows=[10, 11, 12, 13, 14, 15]))
    rows, sims = index.nearest(Chem.MolFromSmiles("CC(=O)Oc1ccccc1C(=O)O"), k=2)
    assert rows[0] == 13 and sims[0] == pytest.approx(1.0)
    assert sims[1] < 1.0


def test_missing_molecules_score_nan(tmp_path):
    index = load_domain_index(save_domain_index(tmp_path, _mols(TRAIN), rows=range(len(TRAIN))))
    scores = index.scores([None, Chem.MolFromSmiles("CCO")])
    assert np.isnan(scores[0]) and scores[1] == pytest.approx(1.0)


def test_a_truncated_or_foreign_file_is_refused(tmp_path):
    path = save_domain_index(tmp_path, _mols(TRAIN), rows=range(len(TRAIN)))
    path.write_bytes(path.read_bytes()[:50])
    with pytest.raises(ValueError, match="not a readable domain index"):
        load_domain_index(path)
    np.savez(tmp_path / "other.npz", bits=np.zeros((2, 16), dtype=np.uint64), rows=np.arange(2), fingerprint="x")
    with pytest.raises(ValueError, match="expected morgan-r2-2048"):
        load_domain_index(tmp_path / "other.npz")


def test_rows_must_match_molecules(tmp_path):
    with pytest.raises(ValueError, match="one data-file row"):
        save_domain_index(tmp_path, _mols(TRAIN), rows=[1, 2])
    assert not (tmp_path / DOMAIN_INDEX_FILE).exists()
