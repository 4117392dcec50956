"""``workbench report SMILES -o FILE`` writes the dossier; a bad SMILES or model fails cleanly."""

from __future__ import annotations

from types import SimpleNamespace

import pandas as pd
import pytest

import workbench.models.registry as registry
from tests.tiny_model import train_tiny_checkpoint
from workbench.cli import main
from workbench.predict import inference, percentiles


@pytest.fixture(scope="module")
def registered(tmp_path_factory):
    """Only the tiny model is registered; a five-drug approved-drug reference keeps its percentiles quick."""
    folder = tmp_path_factory.mktemp("cli_report") / "models"
    folder.mkdir()
    train_tiny_checkpoint(folder, name="tiny_mlp")
    drugs = pd.DataFrame({"smiles": ["CC(=O)Nc1ccc(O)cc1", "CCN(CC)CC", "OCCN", "CCCCCCCC", "c1ccccc1O"]})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_MODELS_DIR", str(folder))
        mp.setattr(registry, "models_dirs", lambda: [folder])
        mp.setattr(percentiles, "load_approved_drugs", lambda: SimpleNamespace(frame=drugs))
        inference.clear_cache()
        yield folder
        inference.clear_cache()


@pytest.mark.slow
def test_report_writes_a_self_contained_dossier(registered, tmp_path, capsys):
    dest = tmp_path / "dossier.html"
    code = main(["report", "CCCN", "-o", str(dest), "--models", "tiny_mlp", "--name", "propylamine", "--no-conformer"])
    assert code == 0
    page = dest.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>propylamine</title>" in page
    assert "<h2>Predictions</h2>" in page and "tiny_mlp" in page and "has_nitrogen" in page
    assert "http://" not in page and "https://" not in page
    err = capsys.readouterr().err
    assert f"wrote {dest}: 1 models" in err and "conformer: The 3D conformer was not requested." in err


def test_report_refuses_an_unparsable_smiles_and_unknown_models(models_dir, tmp_path, capsys):
    dest = tmp_path / "dossier.html"
    assert main(["report", "C1CC(", "-o", str(dest), "--models", "anything"]) == 1
    assert "unparsable SMILES" in capsys.readouterr().err and not dest.exists()
    assert main(["report", "CCO", "-o", str(dest), "--models", "nothing_like_it"]) == 1
    assert "no checkpoint matches 'nothing_like_it'" in capsys.readouterr().err and not dest.exists()
