import pandas as pd
import pytest

from tests.tiny_model import train_tiny_checkpoint
from workbench.cli import main


@pytest.fixture
def registered(models_dir):
    train_tiny_checkpoint(models_dir, name="tiny_mlp")
    return models_dir


def test_predict_keeps_rows_in_order_with_errors(registered, tmp_path, capsys):
    src = tmp_path / "in.csv"
    src.write_text("id,smiles\n1,CCCN\n2,not a smiles\n3,\n4,CCCCO\n")
    dest = tmp_path / "out.csv"
    assert main(["predict", str(src), "--models", "tiny_mlp", "-o", str(dest), "--no-progress"]) == 0
    out = pd.read_csv(dest, keep_default_na=False)
    assert out["id"].tolist() == [1, 2, 3, 4]
    assert out.loc[1, "error"] and out.loc[2, "error"] and not out.loc[0, "error"]
    assert {"tiny_mlp:has_nitrogen", "tiny_mlp:has_nitrogen:std", "tiny_mlp:carbons"} <= set(out.columns)
    columns = out.columns.tolist()
    assert columns[0] == "id" and columns[columns.index("error") + 1] == "warnings"
    assert columns.index("warnings") < columns.index("tiny_mlp:has_nitrogen")
    assert out["warnings"].tolist() == ["", "", "", ""]
    assert "4 rows, 2 with an error" in capsys.readouterr().err


def test_models_by_dataset_prefix_and_unknown_names(registered, tmp_path, capsys):
    src = tmp_path / "in.smi"
    src.write_text("CCO ethanol\n")
    assert main(["predict", str(src), "--models", "tiny", "-o", str(tmp_path / "o.csv"), "--no-progress"]) == 0
    assert main(["predict", str(src), "--models", "nothing_like_it"]) == 1
    assert "no checkpoint matches 'nothing_like_it'" in capsys.readouterr().err
