"""AppTest for the IFM lab page: encoding and kernel plots, live MLP vs IFM-MLP, rotation experiment."""

import json
from pathlib import Path

import pyarrow as pa
import pytest
import torch
from streamlit.runtime.scriptrunner_utils.exceptions import StopException
from streamlit.testing.v1 import AppTest

import workbench.cliffs.lab as lab

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/ifm_lab.py").run()
    assert not at.exception, at.exception
    return at


def charts(at: AppTest) -> list[tuple[dict, list]]:
    """Every Vega-Lite chart on the page: its spec and its data sets (sent as Arrow tables)."""
    return [
        (json.loads(c.proto.spec), [pa.ipc.open_stream(d.data.data).read_all().to_pandas() for d in c.proto.datasets])
        for c in at.get("vega_lite_chart")
    ]


def test_encoding_and_kernel_follow_the_sliders():
    at = open_page()
    assert "1.00, 1.68, 2.83, 4.76" in at.caption[1].value  # σ = 8, d = 4
    (encoding, (lines,)), (kernel, (curve,)) = charts(at)  # Vega-Lite, no Plotly
    assert lines["component"].nunique() == 8 and list(curve.columns) == ["δ", "kernel"]
    assert encoding["height"] == kernel["height"] == 320
    at.slider(key="d").set_value(2).run()
    assert "Frequencies c_j: 1.00, 2.83" in at.caption[1].value
    assert charts(at)[0][1][0]["component"].nunique() == 4


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
        assert not at.slider(key="sigma").disabled  # unlocked again once the run is done
        scores = at.session_state["lab_scores"]["scores"]
        assert list(scores["model"]) == ["MLP", "IFM-MLP"] and (scores["rmse"] > 0).all()
        assert list(scores["sigma"]) == [8.0, 8.0] and list(scores["d"]) == [4, 4]
        assert (scores["n_test"] == 126).all()  # the whole test split, whatever the training cap
        assert set(charts(at)[-1][1][0]["model"]) == {"MLP", "IFM-MLP"}  # the scores' bars
        at.toggle(key="lab_rotate").set_value(True).run()
        at.number_input(key="lab_trees").set_value(5)
        at.button(key="lab_rot_run").click().run()
        assert not at.exception, at.exception
        table = at.session_state["lab_rotation"]["scores"]
        assert list(table["model"]) == ["RF", "MLP"]
        assert (table["ratio"] == table["rmse_rotated"] / table["rmse_original"]).all()
        rotation_chart, (rotation_rows,) = charts(at)[-1]
        assert rotation_chart["encoding"]["y"]["title"] == "test RMSE" and len(rotation_rows) == 4  # 2 models × 2
        worst = table.loc[table["ratio"].idxmax(), "model"]
        assert any(f"Largest degradation: {worst}" in c.value for c in at.caption)
        assert torch.get_num_threads() == 2
        # the results say which settings they were computed with, and when the settings have moved on
        assert any("σ 8.0, d 4" in c.value.replace("\\", "") for c in at.caption)
        at.slider(key="sigma").set_value(16.0).run()
        assert any("The settings have changed since" in i.value for i in at.info)
    finally:
        torch.set_num_threads(before)


def test_a_run_locks_the_settings_and_a_cancelled_run_says_so(monkeypatch):
    def stopped_midway(*args, **kwargs):
        raise StopException()  # what Streamlit does to a run when the page reruns before it is done

    monkeypatch.setattr(lab, "mlp_vs_ifm", stopped_midway)
    at = open_page()
    at.slider(key="sigma").set_value(12.0).run()
    at.button(key="lab_train").click().run()
    # while training, σ, d and the other settings are drawn disabled, so they cannot be moved mid-run
    assert at.slider(key="sigma").disabled and at.slider(key="d").disabled
    assert at.number_input(key="lab_epochs").disabled and at.button(key="lab_train").disabled
    assert at.slider(key="sigma").value == 12.0  # locking keeps the value
    at.run()  # the page runs again without the run having finished
    assert any("was cancelled before it finished" in w.value for w in at.warning)
    assert not at.slider(key="sigma").disabled and "lab_scores" not in at.session_state
    at.run()
    assert not at.warning  # said once


def test_the_faithful_benchmark_section_shows_the_stored_cells_or_says_how_to_make_them(monkeypatch, tmp_path):
    import workbench.cliffs.ifm_results as results

    cells = tmp_path / "ifm.csv"
    cells.write_text(
        "dataset,repetition,arm,metric,test,budget,seconds\n"
        "esol,0,MLP,rmse,0.52,10,17\nesol,0,IFM-MLP,rmse,0.75,10,600\n"
    )
    monkeypatch.setattr(results, "IFM_CELLS", cells)
    monkeypatch.setattr(results.read_ifm_cells, "__defaults__", (cells,))
    at = open_page()
    table = next(d.value for d in at.dataframe if "IFM-MLP" in d.value.columns)
    assert table.loc[0, "data set"] == "esol" and table.loc[0, "IFM better (repetitions)"] == "0 of 1"
    assert table.loc[0, "MLP"] == "0.520 ± 0.000" and table.loc[0, "IFM-MLP"] == "0.750 ± 0.000"
    assert any("beat the MLP's mean test score on 0 of 1 data sets" in m.value.replace("\\", "") for m in at.markdown)
    monkeypatch.setattr(results.read_ifm_cells, "__defaults__", (tmp_path / "missing.csv",))
    at = open_page()
    assert any("run `workbench bench ifm`" in i.value for i in at.info)
