"""``workbench cliffs`` on a MoleculeACE file, on hand-made CSVs and on ambiguous ones."""

import pandas as pd
import pytest

from workbench.cli import main
from workbench.cli.cliffs_cmd import PAIR_COLUMNS
from workbench.data.moleculeace import moleculeace_dir

A, B = "CCCCCCCCCCCCCCCO", "CCCCCCCCCCCCCCCN"  # similar (Levenshtein 0.94)


@pytest.mark.slow
def test_cliffs_on_a_moleculeace_file(tmp_path, capsys):
    out = tmp_path / "pairs.csv"
    assert main(["cliffs", str(moleculeace_dir() / "CHEMBL2835_Ki.csv"), "-o", str(out)]) == 0
    pairs = pd.read_csv(out)
    assert len(pairs) == 41
    assert list(pairs.columns) == ["i", "j", *PAIR_COLUMNS]  # the README's pair table
    assert (pairs["fold_change"] > 10).all()
    err = capsys.readouterr().err
    assert "41 cliff pairs among 615 molecules; 60 cliff molecules" in err
    assert "SMILES column 'smiles'" in err and "potency column 'exp_mean [nM]'" in err


def test_cliffs_with_pactivity_and_a_bad_row(tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": ["CCCCCCCCCO", "CCCCCCCCCN", "C1CC("], "pIC50": [8.0, 6.5, 7.0]}).to_csv(src, index=False)
    out = tmp_path / "pairs.csv"
    assert main(["cliffs", str(src), "--unit", "pActivity", "-o", str(out)]) == 0
    pairs = pd.read_csv(out)
    assert len(pairs) == 1 and round(pairs["fold_change"][0], 3) == round(10**1.5, 3)
    assert "1 rows were left out" in capsys.readouterr().err


def test_all_similar_writes_non_cliffs_with_a_flag(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "pairs.csv"
    pd.DataFrame({"smiles": [A, B], "Ki": [1.0, 5.0]}).to_csv(src, index=False)
    assert main(["cliffs", str(src), "-o", str(out)]) == 0
    assert len(pd.read_csv(out)) == 0
    assert main(["cliffs", str(src), "--all-similar", "-o", str(out)]) == 0
    pairs = pd.read_csv(out)
    assert pairs["is_cliff"].tolist() == [False] and pairs["fold_change"].tolist() == [5.0]


def test_id_column_before_the_smiles_is_neither_smiles_nor_potency(tmp_path, capsys):
    src, out = tmp_path / "in.csv", tmp_path / "pairs.csv"
    pd.DataFrame({"compound_id": [101, 102], "Molecule": [A, B], "Ki": [1.0, 50.0]}).to_csv(src, index=False)
    assert main(["cliffs", str(src), "-o", str(out)]) == 0
    assert pd.read_csv(out)["smiles_i"].tolist() == [A]
    err = capsys.readouterr().err
    assert "SMILES column 'Molecule'" in err and "potency column 'Ki'" in err


def test_named_columns_are_used_as_given(tmp_path):
    src, out = tmp_path / "in.csv", tmp_path / "pairs.csv"
    pd.DataFrame({"smi": [A, B], "parent": [B, A], "a": [1.0, 50.0], "b": [1.0, 2.0]}).to_csv(src, index=False)
    args = ["cliffs", str(src), "--smiles-column", "parent", "--potency-column", "a", "-o", str(out)]
    assert main(args) == 0
    assert pd.read_csv(out)["smiles_i"].tolist() == [B]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            {"smiles": [A], "a": [1.0], "b": [2.0]},
            "several numeric columns could be the potency (a, b); pass --potency-column",
        ),
        ({"smiles": [A], "name": ["x"]}, "no numeric column to use as the potency"),
        ({"smi": [A], "parent": [B], "Ki": [1.0]}, "several columns hold SMILES (smi, parent); pass --smiles-column"),
        ({"id": ["x"], "Ki": [1.0]}, "no column holds SMILES"),
    ],
)
def test_ambiguous_or_unusable_columns_are_a_clear_error(tmp_path, capsys, table, message):
    src = tmp_path / "in.csv"
    pd.DataFrame(table).to_csv(src, index=False)
    assert main(["cliffs", str(src)]) == 1
    assert message in capsys.readouterr().err


def test_a_named_column_that_is_missing_or_not_a_potency(tmp_path, capsys):
    src = tmp_path / "in.csv"
    pd.DataFrame({"smiles": [A, B], "Ki": [1.0, 2.0]}).to_csv(src, index=False)
    assert main(["cliffs", str(src), "--smiles-column", "SMILES"]) == 1
    assert "no column 'SMILES'" in capsys.readouterr().err
    assert main(["cliffs", str(src), "--potency-column", "smiles"]) == 1
    assert "'smiles' is the SMILES column, not a potency" in capsys.readouterr().err
