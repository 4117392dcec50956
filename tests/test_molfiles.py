import pytest
from rdkit import Chem

from workbench.chem.files import MoleculeFileError, read_molecules


def test_csv_with_smiles_column_keeps_other_columns(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("id,SMILES,potency\na,CCO,1.5\nb,,2\n")
    frame = read_molecules(path)
    assert frame["smiles"].tolist() == ["CCO", ""]
    assert frame["id"].tolist() == ["a", "b"]


def test_csv_column_can_be_chosen_and_missing_column_is_explained(tmp_path):
    path = tmp_path / "in.csv"
    path.write_text("name,structure\nx,CCN\n")
    assert read_molecules(path, smiles_column="structure")["smiles"].tolist() == ["CCN"]
    with pytest.raises(MoleculeFileError, match=r"no SMILES column.*name, structure"):
        read_molecules(path)


def test_smi_lines_with_names_comments_and_header():
    frame = read_molecules(b"smiles name\n# comment\nCCO ethanol\n\nc1ccccc1 benzene ring\n", filename="x.smi")
    assert frame["smiles"].tolist() == ["CCO", "c1ccccc1"]
    assert frame["name"].tolist() == ["ethanol", "benzene ring"]


def test_sdf_records_including_a_broken_one():
    good = Chem.MolFromSmiles("CCO")
    good.SetProp("_Name", "ethanol")
    good.SetProp("potency", "5.0")
    block = Chem.MolToMolBlock(good) + "> <potency>\n5.0\n\n$$$$\n"
    broken = "broken\n\n\n  1  0  0  0  0  0  0  0  0  0999 V2000\n    0.0 0.0 0.0 Xx  0  0\nM  END\n$$$$\n"
    frame = read_molecules((block + broken).encode(), filename="x.sdf")
    assert len(frame) == 2
    assert frame.loc[0, "smiles"] == "CCO" and frame.loc[0, "name"] == "ethanol"
    assert frame.loc[1, "smiles"] == "" and "record 2" in frame.loc[1, "read_error"]


def test_unknown_format_is_refused():
    with pytest.raises(MoleculeFileError, match=r"use \.csv"):
        read_molecules(b"...", filename="x.xlsx")
