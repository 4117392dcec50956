import subprocess
import sys

import pandas as pd

from tests.tiny_model import train_tiny_checkpoint
from workbench.cli import main


def test_help_lists_the_verbs(capsys):
    assert main([]) == 2
    out = capsys.readouterr().out
    for verb in ("data", "models", "standardize", "descriptors"):
        assert verb in out


def test_console_script_runs():
    out = subprocess.run([sys.executable, "-m", "workbench.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and "workbench" in out.stdout


def test_data_list_shows_location(data_dirs, capsys):
    data, _ = data_dirs
    (data / "BBBP.csv").write_text("smiles,p_np\nCCO,1\n")
    assert main(["data", "list", "--csv"]) == 0
    table = pd.read_csv(pd.io.common.StringIO(capsys.readouterr().out))
    row = table[table["name"] == "bbbp"].iloc[0]
    assert row["molecules"] == 1 and row["location"] == str(data / "BBBP.csv")


def test_standardize_writes_one_row_per_input_with_errors(tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("smiles\nCCO\nnot a smiles\n\n[Na+].[Cl-]\n")
    dest = tmp_path / "out.csv"
    assert main(["standardize", str(src), "-o", str(dest)]) == 0
    out = pd.read_csv(dest, keep_default_na=False)
    assert len(out) == 4 and out.loc[0, "smiles"] == "CCO" and out.loc[3, "smiles"] == "Cl"
    assert out.loc[1, "error"] and out.loc[2, "error"]
    assert list(out.columns[-2:]) == ["error", "warnings"]
    assert out["warnings"].tolist() == [
        "",
        "",
        "",
        "removed fragment [Na+] (counter-ion); neutralized charges: [Cl-] → [ClH]",
    ]
    err = capsys.readouterr().err
    assert "2 of 4 rows have an error" in err and "1 of 4 rows were changed by standardization" in err


def test_descriptors_from_a_smi_file(tmp_path):
    src = tmp_path / "in.smi"
    src.write_text("CC(=O)Oc1ccccc1C(=O)O aspirin\nC1CC1\n")
    dest = tmp_path / "out.csv"
    assert main(["descriptors", str(src), "-o", str(dest)]) == 0
    out = pd.read_csv(dest, keep_default_na=False)
    assert out.loc[0, "MW"] == 180.16 and out.loc[1, "rings"] == 1
    assert list(out.columns[-2:]) == ["error", "warnings"] and out["warnings"].tolist() == ["", ""]


def test_models_list_shows_registered_checkpoints(models_dir, capsys):
    train_tiny_checkpoint(models_dir)
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    assert "tiny" in out and "roc_auc 1.000" in out


def test_missing_input_file_is_a_clean_error(tmp_path, capsys):
    assert main(["standardize", str(tmp_path / "absent.csv")]) == 2  # a bad argument: exit 2, before any work
    assert "workbench: error" in capsys.readouterr().err
