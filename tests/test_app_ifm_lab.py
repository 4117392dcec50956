"""AppTest for the IFM lab page: encoding and kernel plots, live MLP vs IFM-MLP, rotation experiment."""

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/ifm_lab.py").run()
    assert not at.exception, at.exception
    return at


def test_encoding_and_kernel_follow_the_sliders():
    at = open_page()
    assert "1.00, 1.68, 2.83, 4.76" in at.caption[1].value  # σ = 8, d = 4
    at.slider(key="d").set_value(2).run()
    assert "Frequencies c_j: 1.00, 2.83" in at.caption[1].value


@pytest.mark.slow
def test_live_training_and_rotation_with_tiny_settings():
    before = torch.get_num_threads()
    torch.set_num_threads(2)  # a value the page must leave alone (it used to force 1 for the whole server)
    try:
        at = open_page()
        at.number_input(key="lab_epochs").set_value(2)
        at.number_input(key="lab_max_train").set_value(60)
        at.button(key="lab_train").click().run()
        assert not at.exception, at.exception
        scores = at.session_state["lab_scores"]
        assert list(scores["model"]) == ["MLP", "IFM-MLP"] and (scores["rmse"] > 0).all()
        assert list(scores["sigma"]) == [8.0, 8.0] and list(scores["d"]) == [4, 4]
        assert (scores["n_test"] == 126).all()  # the whole test split, whatever the training cap
        at.toggle(key="lab_rotate").set_value(True).run()
        at.number_input(key="lab_trees").set_value(5)
        at.button(key="lab_rot_run").click().run()
        assert not at.exception, at.exception
        table = at.session_state["lab_rotation"]
        assert list(table["model"]) == ["RF", "MLP"]
        assert (table["ratio"] == table["rmse_rotated"] / table["rmse_original"]).all()
        worst = table.loc[table["ratio"].idxmax(), "model"]
        assert any(f"Largest degradation: {worst}" in c.value for c in at.caption)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
