import pandas as pd
from rdkit import Chem

from workbench.cli import main
from workbench.conformers import read_sdf_ensembles


def test_help_lists_conformers(capsys):
    assert main([]) == 2
    assert "conformers" in capsys.readouterr().out


def test_smi_input_writes_sdf_and_reports_failures(tmp_path, capsys):
    src = tmp_path / "in.smi"
    src.write_text("CC(=O)Oc1ccccc1C(=O)O aspirin\nC1CC( broken\nN[Pt](N)(Cl)Cl cisplatin\nCCCO propanol\n")
    out = tmp_path / "out.sdf"
    assert main(["conformers", str(src), "-n", "3", "-o", str(out), "--quiet"]) == 0
    ensembles = read_sdf_ensembles(out)
    assert [e.input for e in ensembles] == ["aspirin", "propanol"]
    assert all(e.energies.min() == 0 and e.force_field == "MMFF94s" for e in ensembles)
    err = capsys.readouterr().err
    assert "row 2 (C1CC(): unparsable SMILES" in err and "row 3 (N[Pt](N)(Cl)Cl): metal complex" in err
    side = pd.read_csv(tmp_path / "out.sdf.errors.csv")
    assert side["row"].tolist() == [2, 3] and side["name"].tolist() == ["broken", "cisplatin"]


def test_csv_and_sdf_inputs(tmp_path):
    csv = tmp_path / "in.csv"
    csv.write_text("id,smiles\na,CCO\nb,c1ccccc1\n")
    out = tmp_path / "csv.sdf"
    assert main(["conformers", str(csv), "-n", "2", "--force-field", "UFF", "-o", str(out), "--quiet"]) == 0
    assert [e.force_field for e in read_sdf_ensembles(out)] == ["UFF", "UFF"]
    assert not (tmp_path / "csv.sdf.errors.csv").exists()
    sdf = tmp_path / "in.sdf"
    writer = Chem.SDWriter(str(sdf))
    mol = Chem.MolFromSmiles("CC(=O)N")
    mol.SetProp("_Name", "acetamide")
    writer.write(mol)
    writer.close()
    out2 = tmp_path / "from_sdf.sdf"
    assert main(["conformers", str(sdf), "-n", "2", "-o", str(out2), "--quiet"]) == 0
    (ensemble,) = read_sdf_ensembles(out2)
    assert ensemble.input == "acetamide" and ensemble.smiles == "CC(N)=O"
