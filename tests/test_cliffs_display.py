"""How the cliffs pages show numbers and figures: readable potencies, a SAS map whose legend and colour bar apart."""

import math

import pytest

from workbench import cliffs
from workbench.cliffs import figures
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


def test_sas_map_legend_and_colour_bar_do_not_overlap():
    pairs = cliffs.find_cliffs([A, B, C], [1.0, 1000.0, 5.0], min_similarity=0.0).pairs
    fig = figures.sas_map_figure(pairs, "tanimoto")
    legend, bar = fig.layout.legend, fig.layout.coloraxis.colorbar
    # the symbol legend runs along the top, outside the plot area, anchored at its bottom ...
    assert legend.orientation == "h" and legend.y >= 1 and legend.yanchor == "bottom"
    # ... while the SALI colour bar (and its title) stays beside the plot, no taller than it
    assert bar.title.text == "SALI" and (bar.x is None or bar.x >= 1)
    top = (0.5 if bar.y is None else bar.y) + (1.0 if bar.len is None else bar.len) / 2
    assert top <= 1.0 + 1e-9
    assert sorted(t.name for t in fig.data) == sorted(figures.PAIR_KINDS.values())  # readable legend entries
