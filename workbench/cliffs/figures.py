"""Vega-Lite (Altair) figures of the activity-cliff pages: SAS map, cliff network, RMSE bars, IFM curves.

Vega-Lite, not Plotly: a page whose first view draws a Plotly chart waits ~1.5 s in every new browser tab while
Chromium compiles Plotly.js again; Vega-Lite costs far less (bench/results/coldstart.md, reference rows).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import pandas as pd

from workbench.cliffs.results import rmse_long
from workbench.cliffs.views import SAS_SELECTION, CliffNetwork

if TYPE_CHECKING:
    import altair as alt

__all__ = [
    "PAIR_KINDS",
    "ifm_encoding_figure",
    "ifm_kernel_figure",
    "network_figure",
    "pair_summary",
    "rmse_bars",
    "rotation_bars",
    "sas_map_figure",
]


#: Legend entries of the SAS map's point shapes.
PAIR_KINDS = {True: "cliff (> 10-fold)", False: "similar, not a cliff"}
_SAS_POINTS = "sas_points"  # the name of the points' view: clicks on its marks only select (not the 10-fold rule)


def sas_map_figure(pairs: pd.DataFrame, similarity: str) -> alt.LayerChart:
    """Structure–activity similarity map: ``similarity`` vs |Δ pActivity|, coloured by SALI, cliffs as shapes.

    A click on a point selects its pair (the point-selection parameter :data:`views.SAS_SELECTION` on the field
    ``index``, the pair's index in ``pairs``; see :func:`views.selected_pair`). The tooltip holds numbers only
    (the SMILES would be most of the chart's size), the pair view the rest. The shape legend runs along the top,
    the SALI colour legend on the right: they never meet.
    """
    import altair as alt

    data = pairs.reset_index()[["index", similarity, "delta_p", "sali", "fold_change"]]
    data["kind"] = pairs["is_cliff"].astype(bool).map(PAIR_KINDS).to_numpy()
    pick = alt.selection_point(name=SAS_SELECTION, fields=["index"], on=f"@{_SAS_POINTS}_marks:click")
    sim_title, kinds = f"{similarity} similarity", list(PAIR_KINDS.values())
    points = (
        alt.Chart(data)
        .mark_point(filled=True)
        .encode(
            x=alt.X(f"{similarity}:Q", title=sim_title, scale=alt.Scale(zero=False)),
            y=alt.Y("delta_p:Q", title="|Δ pActivity|"),
            color=alt.Color("sali:Q", scale=alt.Scale(scheme="viridis"), legend=alt.Legend(title="SALI")),
            shape=alt.Shape(
                "kind:N",
                scale=alt.Scale(domain=kinds, range=["diamond", "circle"]),
                legend=alt.Legend(title=None, orient="top", direction="horizontal", labelLimit=300),
            ),
            size=alt.Size("kind:N", scale=alt.Scale(domain=kinds, range=[80, 40]), legend=None),  # cliffs larger
            opacity=alt.condition(pick, alt.value(0.9), alt.value(0.25)),  # a selected pair stands out
            tooltip=[
                alt.Tooltip("index:Q", title="pair"),
                alt.Tooltip("fold_change:Q", title="fold change", format=".1f"),
                alt.Tooltip(f"{similarity}:Q", title=sim_title, format=".3f"),
                alt.Tooltip("delta_p:Q", title="|Δ pActivity|", format=".2f"),
                alt.Tooltip("sali:Q", title="SALI", format=".1f"),
            ],
        )
        .add_params(pick)
        .properties(name=_SAS_POINTS)
    )
    fold = pd.DataFrame({"y": [1.0], "label": ["10-fold"]})
    rule = alt.Chart(fold).mark_rule(strokeDash=[2, 3], color="#666").encode(y="y:Q")
    label = (
        alt.Chart(fold)
        .mark_text(align="left", baseline="bottom", dx=4, dy=-2, color="#666")  # left: fewer pairs there
        .encode(y="y:Q", x=alt.value(0), text="label:N")
    )
    return alt.layer(rule, label, points).properties(height=450)


def network_figure(network: CliffNetwork) -> alt.LayerChart:
    """The cliff network: grey edges, nodes sized by number of cliff partners and coloured by pActivity.

    A node's area is that of a circle of diameter 4 + 2·√degree px (its size in the Plotly version).
    """
    import altair as alt

    nodes = network.nodes.assign(area=lambda n: math.pi / 4 * (4 + 2 * n["degree"].astype(float) ** 0.5) ** 2)
    hidden = {"axis": None, "scale": alt.Scale(zero=False)}
    edges = (
        alt.Chart(network.edges)
        .mark_rule(color="#aaa", strokeWidth=0.7)
        .encode(x=alt.X("x:Q", **hidden), y=alt.Y("y:Q", **hidden), x2="x2:Q", y2="y2:Q")
    )
    circles = (
        alt.Chart(nodes)
        .mark_circle(opacity=1.0)
        .encode(
            x=alt.X("x:Q", **hidden),
            y=alt.Y("y:Q", **hidden),
            size=alt.Size("area:Q", scale=None, legend=None),
            color=alt.Color("pactivity:Q", scale=alt.Scale(scheme="viridis"), legend=alt.Legend(title="pActivity")),
            tooltip=[
                alt.Tooltip("smiles:N", title="SMILES"),
                alt.Tooltip("degree:Q", title="cliff partners"),
                alt.Tooltip("pactivity:Q", title="pActivity", format=".2f"),
            ],
        )
    )
    return alt.layer(edges, circles).properties(height=520).configure_view(strokeWidth=0)


def _grouped_bars(long: pd.DataFrame, group: str, value: str, title: str, height: int) -> alt.Chart:
    """Bars of ``value`` per model, one bar per ``group`` side by side (``xOffset``, no facet), coloured by group."""
    import altair as alt

    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("model:N", title="model", sort=None, axis=alt.Axis(labelAngle=0, labelLimit=120)),
            xOffset=alt.XOffset(f"{group}:N", sort=None),
            y=alt.Y(f"{value}:Q", title=title),
            color=alt.Color(f"{group}:N", sort=None, legend=alt.Legend(title=group)),
            tooltip=["model:N", f"{group}:N", alt.Tooltip(f"{value}:Q", title=title, format=".3f")],
        )
        .properties(height=height)
    )


def rmse_bars(scores: pd.DataFrame, height: int) -> alt.Chart:
    """Grouped bars of RMSE and RMSE_cliff per model."""
    return _grouped_bars(rmse_long(scores), "metric", "RMSE", "RMSE", height)


def pair_summary(row: pd.Series) -> str:
    """One line of Markdown: fold change, |Δ pActivity|, the three similarities and SALI of a pair."""
    return (
        f"Fold change **{row['fold_change']:.1f}×** · |Δ pActivity| {row['delta_p']:.2f} · "
        f"Tanimoto {row['tanimoto']:.2f} · scaffold {row['scaffold']:.2f} · "
        f"Levenshtein {row['levenshtein']:.2f} · SALI {row['sali']:.1f}"
    )


def _lines(data: pd.DataFrame, x: str, y: str, y_title: str, colour: alt.Color | None = None) -> alt.Chart:
    """A 320 px line chart of ``y`` against ``x`` (one line per ``colour`` group when given), values in the tooltip."""
    import altair as alt

    tooltip = [alt.Tooltip(f"{x}:Q", format=".3f"), alt.Tooltip(f"{y}:Q", title=y_title, format=".3f")]
    chart = alt.Chart(data).mark_line().encode(x=alt.X(f"{x}:Q", title=x), y=alt.Y(f"{y}:Q", title=y_title))
    if colour is not None:
        chart, tooltip = chart.encode(color=colour), [colour.shorthand, *tooltip]
    return chart.encode(tooltip=tooltip).properties(height=320)


def ifm_encoding_figure(encoding: pd.DataFrame) -> alt.Chart:
    """Every IFM component of one feature value x ∈ [0, 1] (see :func:`lab.ifm_curves`)."""
    import altair as alt

    long = encoding.melt(id_vars="x", var_name="component")
    n = long["component"].nunique()
    # beside the plot, in columns of at most 16 (below it, the legend would squeeze the plot's height)
    legend = alt.Legend(title="component", symbolLimit=0, columns=math.ceil(n / 16), rowPadding=1, labelFontSize=11)
    return _lines(long, "x", "value", "value", alt.Color("component:N", sort=None, legend=legend))


def ifm_kernel_figure(kernel: pd.DataFrame) -> alt.Chart:
    """The kernel k(δ) the IFM induces on feature differences."""
    return _lines(kernel, "δ", "kernel", "k(δ)")


def rotation_bars(table: pd.DataFrame) -> alt.Chart:
    """Test RMSE of each model on the original and on the rotated features."""
    long = table.melt(id_vars="model", value_vars=["rmse_original", "rmse_rotated"], var_name="features")
    return _grouped_bars(long, "features", "value", "test RMSE", 300)
