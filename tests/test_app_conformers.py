"""AppTest for the 3D conformers page, and the 3D view it draws."""

import re
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from workbench.conformers import generate_conformers
from workbench.conformers.view3d import ensemble_view

APP = str(Path(__file__).resolve().parent.parent / "app.py")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("pages/conformers.py").run()
    assert not at.exception, at.exception
    return at


def iframes(at: AppTest) -> list[str]:
    return [e.proto.srcdoc for e in at.get("iframe")]


def test_default_molecule_gets_a_3d_view_chart_table_and_downloads():
    at = open_page()
    assert at.title[0].value == "3D conformers"
    (viewer,) = iframes(at)
    assert "$3Dmolpromise = Promise.resolve()" in viewer and "addModel" in viewer  # 3Dmol.js inlined
    assert len(at.get("vega_lite_chart")) == 1
    table = at.dataframe[0].value
    assert table.loc[0, "energy_kcal_mol"] == 0 and table["boltzmann_weight"].sum() == pytest.approx(1, abs=0.01)
    assert [b.proto.label for b in at.get("download_button")] == ["SDF", "XYZ", "PDB"]


@pytest.mark.slow
def test_smiles_input_settings_and_view_options():
    at = open_page()
    at.radio(key="conf_source").set_value("SMILES").run()
    at.text_input(key="conf_smiles").set_value("CCCCOC(=O)c1ccccc1").run()
    at.slider(key="conf_n").set_value(3).run()
    at.selectbox(key="conf_ff").set_value("UFF").run()
    assert not at.exception
    assert at.subheader[0].value.endswith("· UFF")
    assert len(at.dataframe[0].value) <= 3
    at.selectbox(key="conf_surface").set_value("van der Waals").run()
    assert re.search(r"viewer_\d+\.addSurface\(", iframes(at)[0])
    at.radio(key="conf_mode").set_value("animate").run()
    assert "addModelsAsFrames" in iframes(at)[0]
    # the surface control is greyed out in the animation, and what it still holds is not drawn
    assert at.selectbox(key="conf_surface").disabled and at.toggle(key="conf_labels").disabled
    assert not re.search(r"viewer_\d+\.addSurface\(", iframes(at)[0])
    at.radio(key="conf_mode").set_value("one conformer").run()
    at.radio(key="conf_color").set_value("partial charge").run()
    at.toggle(key="conf_labels").set_value(True).run()
    assert "addLabel" in iframes(at)[0]


def test_an_animation_draws_no_surface_and_no_labels():
    ensemble = generate_conformers("CCCCOC(=O)c1ccccc1", 2, seed=1)
    still = ensemble_view(ensemble, mode="single", surface="van der Waals", labels=True)._make_html()
    assert re.search(r"viewer_\d+\.addSurface\(", still) and re.search(r"viewer_\d+\.addLabel\(", still)
    animated = ensemble_view(ensemble, mode="animate", surface="van der Waals", labels=True)._make_html()
    assert ".animate(" in animated
    assert not re.search(r"viewer_\d+\.addSurface\(", animated)  # a fixed surface cannot follow the frames
    assert not re.search(r"viewer_\d+\.addLabel\(", animated)


def test_unusable_molecules_show_errors():
    at = open_page()
    at.radio(key="conf_source").set_value("SMILES").run()
    at.text_input(key="conf_smiles").set_value("C1CC(").run()
    assert "unparsable SMILES" in at.error[0].value
    at.text_input(key="conf_smiles").set_value("N[Pt](N)(Cl)Cl").run()
    assert "metal complex" in at.error[0].value


def test_home_molecule_and_pair_overlay():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.text_input(key="smiles_input").set_value("CC(=O)Oc1ccccc1C(=O)O").run()
    at.switch_page("pages/conformers.py").run()
    assert "CC(=O)Oc1ccccc1C(=O)O" in at.caption[1].value
    at.radio(key="conf_source").set_value("SMILES").run()
    assert at.text_input(key="conf_smiles").value == "CC(=O)Oc1ccccc1C(=O)O"  # the SMILES box starts from Home's
    at.radio(key="conf_source").set_value("Home molecule").run()
    at.text_input(key="conf_second").set_value("OC(=O)c1ccccc1O").run()
    assert not at.exception
    assert len(iframes(at)) == 2
    assert any("10 common heavy atoms" in c.value and "(0, 1, 2)" in c.value for c in at.caption)
