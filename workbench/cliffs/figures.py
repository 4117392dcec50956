"""Plotly figures of the activity-cliff pages: SAS map, cliff network, RMSE bars, IFM curves."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from workbench.cliffs.results import rmse_long
from workbench.cliffs.views import CliffNetwork

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


#: Legend entries of the SAS map's point symbols.
PAIR_KINDS = {True: "cliff (> 10-fold)", False: "similar, not a cliff"}


def sas_map_figure(pairs: pd.DataFrame, similarity: str) -> go.Figure:
    """Structure–activity similarity map: ``similarity`` vs |Δ pActivity|, coloured by SALI, cliffs as symbols.

    Each point's ``customdata[0]`` is the pair's index in ``pairs`` (see :func:`views.selected_pair`); the
    hover text holds numbers only (the SMILES would be most of the figure's size), the pair view the rest.
    The symbol legend runs horizontally above the plot, so that it never meets the SALI colour bar
    (title included) on the right.
    """
    data = pairs.reset_index()
    data["pair"] = data["is_cliff"].astype(bool).map(PAIR_KINDS)
    fig = px.scatter(
        data,
        x=similarity,
        y="delta_p",
        color="sali",
        symbol="pair",
        category_orders={"pair": list(PAIR_KINDS.values())},
        color_continuous_scale="Viridis",
        hover_data={"index": True, "pair": False, "fold_change": ":.1f"},  # SMILES: in the pair view on a click
        labels={"delta_p": "|Δ pActivity|", similarity: f"{similarity} similarity", "sali": "SALI"},
        render_mode="svg",  # at most SAS_MAX_PAIRS points: SVG draws at once, WebGL waits for a GL context
    )
    fig.add_hline(y=1.0, line_dash="dot", annotation_text="10-fold")
    fig.update_layout(
        height=450,
        margin={"t": 50},
        legend={"orientation": "h", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom", "title": None},
        coloraxis_colorbar={"title": {"text": "SALI", "side": "right"}, "x": 1.0, "xanchor": "left", "len": 1.0},
    )
    return fig


def network_figure(network: CliffNetwork) -> go.Figure:
    """The cliff network: grey edges, nodes sized by number of cliff partners and coloured by pActivity."""
    nodes = network.nodes
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(  # SVG: no GL context to wait for (a software one without a GPU)
            x=network.edge_x,
            y=network.edge_y,
            mode="lines",
            line={"width": 0.5, "color": "#aaa"},
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=nodes["x"],
            y=nodes["y"],
            mode="markers",
            marker={
                "size": 4 + 2 * nodes["degree"].astype(float) ** 0.5,
                "color": nodes["pactivity"],
                "colorscale": "Viridis",
                "colorbar": {"title": {"text": "pActivity", "side": "right"}},  # beside the bar, not over its top
            },
            text=nodes["text"],
            hoverinfo="text",
        )
    )
    fig.update_layout(height=520, showlegend=False, xaxis_visible=False, yaxis_visible=False, margin={"t": 10})
    return fig


def rmse_bars(scores: pd.DataFrame, height: int) -> go.Figure:
    """Grouped bars of RMSE and RMSE_cliff per model."""
    return px.bar(rmse_long(scores), x="model", y="RMSE", color="metric", barmode="group", height=height)


def pair_summary(row: pd.Series) -> str:
    """One line of Markdown: fold change, |Δ pActivity|, the three similarities and SALI of a pair."""
    return (
        f"Fold change **{row['fold_change']:.1f}×** · |Δ pActivity| {row['delta_p']:.2f} · "
        f"Tanimoto {row['tanimoto']:.2f} · scaffold {row['scaffold']:.2f} · "
        f"Levenshtein {row['levenshtein']:.2f} · SALI {row['sali']:.1f}"
    )


def ifm_encoding_figure(encoding: pd.DataFrame) -> go.Figure:
    """Every IFM component of one feature value x ∈ [0, 1] (see :func:`lab.ifm_curves`)."""
    long = encoding.melt(id_vars="x", var_name="component")
    return px.line(long, x="x", y="value", color="component", height=320)


def ifm_kernel_figure(kernel: pd.DataFrame) -> go.Figure:
    """The kernel k(δ) the IFM induces on feature differences."""
    return px.line(kernel, x="δ", y="kernel", height=320)


def rotation_bars(table: pd.DataFrame) -> go.Figure:
    """Test RMSE of each model on the original and on the rotated features."""
    long = table.melt(id_vars="model", value_vars=["rmse_original", "rmse_rotated"], var_name="features")
    return px.bar(
        long, x="model", y="value", color="features", barmode="group", labels={"value": "test RMSE"}, height=300
    )
