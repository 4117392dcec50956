"""``workbench cliffs`` on a MoleculeACE file and on a hand-made pActivity CSV."""

import pandas as pd

from workbench.cli import main
from workbench.data.moleculeace import moleculeace_dir


def test_cliffs_on_a_moleculeace_file(tmp_path):
    out = tmp_path / "pairs.csv"
    assert main(["cliffs", str(moleculeace_dir() / "CHEMBL2835_Ki.csv"), "-o", str(out)]) == 0
    pairs = pd.read_csv(out)
    assert len(pairs) == 41
    expected = ["smiles_i", "smiles_j", "tanimoto", "scaffold", "levenshtein", "fold_change", "sali"]
    assert set(expected) <= set(pairs.columns)
    assert (pairs["fold_change"] > 10).all()


def test_cliffs_with_pactivity_and_a_bad_row(tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": ["CCCCCCCCCO", "CCCCCCCCCN", "C1CC("], "pIC50": [8.0, 6.5, 7.0]}).to_csv(src, index=False)
    out = tmp_path / "pairs.csv"
    assert main(["cliffs", str(src), "--unit", "pActivity", "-o", str(out)]) == 0
    pairs = pd.read_csv(out)
    assert len(pairs) == 1 and round(pairs["fold_change"][0], 3) == round(10**1.5, 3)
    assert "1 rows were left out" in capsys.readouterr().err


def test_cliffs_needs_a_potency_column(tmp_path):
    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": ["CCO"], "a": [1.0], "b": [2.0]}).to_csv(src, index=False)
    assert main(["cliffs", str(src)]) == 1
