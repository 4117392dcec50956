"""How the cliffs pages show numbers and figures: readable potencies, a SAS map whose two legends stay apart."""

import math

import pytest

from workbench import cliffs
from workbench.cliffs import figures, views
from workbench.cliffs.potency import format_potency

A, B, C = "CCCCCCCCCCCCCCCO", "CCCCCCCCCCCCCCCN", "c1ccccc1CO"


@pytest.mark.parametrize(
    ("nm", "text"),
    [
        (4000.0, "4.0 µM"),
        (3999.6, "4.0 µM"),
        (12345.0, "12.3 µM"),
        (999.7, "1.0 µM"),  # rounded before the unit is chosen
        (452.3, "452 nM"),
        (10.0, "10 nM"),
        (1.5, "1.5 nM"),
        (0.052, "0.052 nM"),
        (2.5e6, "2.5 mM"),
        (5e9, "5,000 mM"),
        (0.0, "0 nM"),
    ],
)
def test_potencies_read_without_exponents(nm, text):
    assert format_potency(nm) == text
    assert "e+" not in format_potency(nm) and "e-" not in format_potency(nm)


@pytest.mark.parametrize("missing", [None, math.nan, math.inf])
def test_a_missing_potency_says_so(missing):
    assert format_potency(missing) == "not measured"


def _layer(spec: dict, mark: str) -> dict:
    (layer,) = [v for v in spec["layer"] if v["mark"]["type"] == mark]
    return layer


def test_sas_map_legends_apart_selection_and_ten_fold_rule():
    pairs = cliffs.find_cliffs([A, B, C], [1.0, 1000.0, 5.0], min_similarity=0.0).pairs
    spec = figures.sas_map_figure(pairs, "tanimoto").to_dict()
    points = _layer(spec, "point")
    colour, shape = points["encoding"]["color"], points["encoding"]["shape"]
    # the shape legend runs along the top, the SALI colour legend stays beside the plot: they never meet
    assert colour["field"] == "sali" and colour["legend"]["title"] == "SALI" and colour["scale"]["scheme"] == "viridis"
    assert colour["legend"].get("orient", "right") == "right"
    assert shape["legend"]["orient"] == "top" and shape["legend"]["direction"] == "horizontal"
    assert shape["scale"]["domain"] == list(figures.PAIR_KINDS.values())  # readable legend entries
    rows = spec["datasets"][points["data"]["name"]]
    assert sorted({r["kind"] for r in rows}) == sorted(figures.PAIR_KINDS.values())
    # a click on a point selects its pair by index; the 10-fold rule (another view) selects nothing
    (param,) = spec["params"]
    assert param["name"] == views.SAS_SELECTION and param["select"]["fields"] == ["index"]
    assert param["views"] == [points["name"]] and param["select"]["on"] == f"@{points['name']}_marks:click"
    rule = _layer(spec, "rule")
    assert spec["datasets"][rule["data"]["name"]][0]["y"] == 1.0 and rule["mark"]["strokeDash"]
    text = _layer(spec, "text")
    assert spec["datasets"][text["data"]["name"]][0]["label"] == "10-fold"
    assert spec["height"] == 450
