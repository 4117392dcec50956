import re

import pytest

from workbench.conformers import generate_conformers, overlay_pair
from workbench.conformers.view3d import ensemble_view, pair_view, show, threedmol_js, view_html


@pytest.fixture(scope="module")
def ensemble():
    return generate_conformers("CCCCOC(=O)c1ccccc1", 3, seed=1)


def test_html_inlines_3dmol_and_fetches_nothing(ensemble):
    page = view_html(ensemble_view(ensemble))
    assert threedmol_js()[:2000] in page and len(threedmol_js()) > 400_000
    assert "var $3Dmolpromise = Promise.resolve();" in page
    assert not re.search(r"<script[^>]+src=", page)  # no external script
    assert "addModel" in page and "zoomTo" in page


def test_modes_styles_and_charge_colours(ensemble):
    overlay = ensemble_view(ensemble, mode="overlay", style="line")._make_html()
    assert len(re.findall(r"viewer_\d+\.addModel\(", overlay)) == ensemble.n_conformers
    animated = view_html(ensemble_view(ensemble, mode="animate", style="ball-and-stick"))
    assert "addModelsAsFrames" in animated and ".animate(" in animated
    charged = view_html(ensemble_view(ensemble, color="partial charge", surface="van der Waals", labels=True))
    assert '"prop": "index"' in charged and "addSurface" in charged and "addLabel" in charged
    with pytest.raises(ValueError, match="unknown style"):
        ensemble_view(ensemble, style="cartoon")


def test_pair_view_and_notebook_display():
    pair = overlay_pair("CC(=O)Oc1ccccc1C(=O)O", "OC(=O)c1ccccc1O", n=1)
    html = pair_view(pair)._make_html()
    assert len(re.findall(r"viewer_\d+\.addModel\(", html)) == 2 and '"index": [0, 1, 2]' in html
    shown = show(pair_view(pair), height=300)
    assert shown.data.startswith("<div><iframe srcdoc=") and "height:320px" in shown.data


def test_energy_chart_has_energies_and_weights(ensemble):
    from workbench.conformers.view3d import energy_chart

    spec = energy_chart(ensemble.to_frame()).to_dict()  # Vega-Lite: bars, then the weights on a right axis
    bars, weights = spec["layer"]
    assert bars["mark"]["type"] == "bar" and weights["mark"]["type"] == "line" and weights["mark"]["point"]
    assert spec["resolve"]["scale"]["y"] == "independent" and weights["encoding"]["y"]["axis"]["orient"] == "right"
    assert weights["encoding"]["y"]["scale"]["domain"] == [0, 1.05]
    rows = spec["datasets"][spec["data"]["name"]]
    assert len(rows) == ensemble.n_conformers and rows[0]["energy"] == 0


def test_served_script_replaces_the_inlined_library(ensemble):
    page = view_html(ensemble_view(ensemble), script_src="app/static/3dmol/3Dmol-min.js")
    assert "<script src='app/static/3dmol/3Dmol-min.js'></script>" in page
    assert threedmol_js()[:2000] not in page and len(page) < 50_000
    assert "var $3Dmolpromise = Promise.resolve();" in page  # py3Dmol still fetches nothing itself


def test_the_app_serves_the_bundled_3dmol_file(monkeypatch):
    import streamlit as st

    from workbench.app.conformers import STATIC_FOLDER, THREEDMOL_PATH, served_script
    from workbench.app.serve import APP
    from workbench.conformers.view3d import THREEDMOL_JS

    served = APP.parent / STATIC_FOLDER / THREEDMOL_PATH
    assert served.resolve() == THREEDMOL_JS.resolve()  # static/ links to workbench/static: one copy of the file
    monkeypatch.setattr(st, "get_option", lambda name: name == "server.enableStaticServing")
    assert served_script() == f"app/{STATIC_FOLDER}/{THREEDMOL_PATH}"
    monkeypatch.setattr(st, "get_option", lambda name: False)
    assert served_script() is None  # static serving off: the page inlines the library
