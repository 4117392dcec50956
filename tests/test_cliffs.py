"""Cliff rules on hand-made pairs (both sides of each threshold) and agreement with MoleculeACE labels."""

import numpy as np
import pytest
from rdkit import Chem

from workbench import cliffs
from workbench.chem.similarity import tanimoto_matrix
from workbench.featurizers import ecfp_batch

# An alcohol and its amine: Levenshtein 1 - 1/16 = 0.9375 and identical generic frameworks (similar).
A, B = "CCCCCCCCCCCCCCCO", "CCCCCCCCCCCCCCCN"
# Benzyl alcohol and a tertiary amine: every similarity far below 0.9.
C, D = "c1ccccc1CO", "CCCCCCCCN(C)C"


def test_levenshtein_normalisation():
    sim = cliffs.levenshtein_similarity([A, C], [B, D])
    assert sim[0, 0] == pytest.approx(1 - 1 / 16)
    assert sim[1, 1] < 0.5  # 1 - distance / 13


def test_tanimoto_matches_rdkit():
    from rdkit import DataStructs
    from rdkit.Chem import rdFingerprintGenerator

    gen = rdFingerprintGenerator.GetMorganGenerator(radius=2, fpSize=1024)
    mols = [Chem.MolFromSmiles(s) for s in (A, B, C, D)]
    ours = tanimoto_matrix(ecfp_batch(mols, n_bits=1024))
    fps = [gen.GetFingerprint(m) for m in mols]
    for i in range(4):
        for j in range(4):
            assert ours[i, j] == DataStructs.TanimotoSimilarity(fps[i], fps[j])


@pytest.mark.parametrize(
    ("potencies", "is_cliff"),
    [((1.0, 10.0), False), ((1.0, 10.01), True), ((5.0, 0.4), True), ((3.0, 30.0), False)],
)
def test_fold_change_threshold_is_exclusive(potencies, is_cliff):
    res = cliffs.find_cliffs([A, B], potencies)
    assert len(res.pairs) == 1
    assert bool(res.pairs["is_cliff"].iloc[0]) is is_cliff
    assert res.cliff_mol.tolist() == [is_cliff, is_cliff]


def test_dissimilar_pair_is_never_a_cliff():
    res = cliffs.find_cliffs([C, D], [1.0, 1000.0])
    assert len(res.pairs) == 0 and not res.cliff_mol.any()
    shown = cliffs.find_cliffs([C, D], [1.0, 1000.0], min_similarity=0.0)
    assert len(shown.pairs) == 1 and not shown.pairs["is_cliff"].iloc[0]


def test_similarity_threshold_is_inclusive():
    # "c1ccccc1CCO" / "c1ccccc1CCN": the largest of the three similarities decides; ≥ is inclusive
    a, b = "c1ccccc1CCO", "c1ccccc1CCN"
    assert cliffs.levenshtein_similarity([a], [b])[0, 0] == pytest.approx(1 - 1 / 11)
    pair = cliffs.find_cliffs([a, b], [1, 100], min_similarity=0.0).pairs.iloc[0]
    top = max(pair["tanimoto"], pair["scaffold"], pair["levenshtein"])
    assert cliffs.find_cliffs([a, b], [1, 100], similarity=top).pairs["is_cliff"].tolist() == [True]
    assert len(cliffs.find_cliffs([a, b], [1, 100], similarity=top + 1e-9).pairs) == 0
    assert top >= 0.9


def test_pair_table_columns_units_and_sali():
    res = cliffs.find_cliffs([A, B, "not a smiles"], [9.0, 7.0, 8.0], unit="pActivity")
    row = res.cliffs.iloc[0]
    assert row["fold_change"] == pytest.approx(100.0)
    assert row["delta_p"] == pytest.approx(2.0)
    assert row["sali"] == pytest.approx(2.0 / (1 - row["tanimoto"]))
    assert res.errors == ["", "", "unparsable SMILES"]
    assert res.cliff_mol.tolist() == [True, True, False]


def test_generic_framework_keeps_isotopes_as_moleculeace():
    mol = Chem.MolFromSmiles("[18F]c1ccccc1")
    assert Chem.MolToSmiles(cliffs.generic_framework(mol)) == "[18CH3]C1CCCCC1"


def test_rmse_cliff_uses_only_flagged_molecules():
    assert cliffs.rmse_cliff([1, 2, 3], [1, 2, 5], [False, False, True]) == pytest.approx(2.0)
    assert cliffs.rmse([0, 0], [3, 4]) == pytest.approx(np.sqrt(12.5))


def test_pair_difference_highlights_the_changed_atom():
    diff_a, diff_b = cliffs.pair_difference("c1ccccc1CO", "c1ccccc1CN")
    assert diff_a == [7] and diff_b == [7]


@pytest.mark.slow
def test_agrees_with_moleculeace_on_a_small_target():
    from workbench.data import load_moleculeace

    frame = load_moleculeace("CHEMBL2835_Ki").frame
    res = cliffs.find_cliffs(frame["smiles"], frame["exp_mean [nM]"])
    assert (res.cliff_mol == frame["cliff_mol"].astype(bool).to_numpy()).all()
    assert len(res.cliffs) == 41
