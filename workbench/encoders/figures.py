"""Plotly figures of the Pretraining lab: ours beside the published averages, loss curves, embedding maps."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from workbench.encoders.comparison import Comparison

__all__ = ["comparison_figure", "loss_figure", "map_figure"]

#: Distinct colours (Plotly's first four): blue, orange, green, red.
_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728")


def comparison_figure(comparison: Comparison, readout: str = "best_valid") -> go.Figure:
    """Bars of the mean test ROC-AUC over the 8 classification sets: each of our arms, then each published row.

    Only arms that have all 8 sets get a bar: an average over fewer sets is not comparable with the published ones.
    """
    ours = comparison.averages
    ours = ours[ours["sets"] == 8] if len(ours) else ours
    labels = [f"ours: {a}" for a in ours["arm"]]
    fig = go.Figure()
    fig.add_bar(x=labels, y=ours[readout] if len(ours) else [], name="this workbench", marker_color=_COLOURS[0])
    fig.add_bar(
        x=list(comparison.published["method"]),
        y=comparison.published["roc_auc"],
        name="published",
        marker_color=_COLOURS[1],
    )
    low = min([*ours[readout].dropna().tolist(), *comparison.published["roc_auc"].tolist()], default=50.0)
    fig.update_layout(
        height=360,
        yaxis_title="mean test ROC-AUC × 100, 8 classification sets",
        yaxis_range=[max(0.0, low - 10), 100],
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.12},
    )
    return fig


def loss_figure(curve: pd.DataFrame) -> go.Figure:
    """The loss (left axis) and each method metric such as masked-atom accuracy (right axis) against the step."""
    metrics = [c for c in curve.columns if c not in ("step", "epoch", "loss")]
    fig = make_subplots(specs=[[{"secondary_y": bool(metrics)}]])
    fig.add_scatter(
        x=curve["step"], y=curve["loss"], name="loss", mode="lines", line={"color": _COLOURS[0]}, secondary_y=False
    )
    for i, metric in enumerate(metrics):
        colour = _COLOURS[1 + i % (len(_COLOURS) - 1)]
        fig.add_scatter(
            x=curve["step"], y=curve[metric], name=metric, mode="lines", line={"color": colour}, secondary_y=True
        )
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title="step")
    fig.update_yaxes(title_text="loss", secondary_y=False)
    if metrics:
        fig.update_yaxes(title_text=", ".join(metrics), secondary_y=True)
    return fig


def map_figure(points: pd.DataFrame, title: str, classification: bool) -> go.Figure:
    """A scatter of ``x``, ``y`` coloured by ``label`` (two colours for a class, a scale for a value)."""
    fig = go.Figure()
    hover = points["smiles"]
    if classification:
        for i, (value, sub) in enumerate(points.groupby("label")):
            fig.add_scatter(
                x=sub["x"],
                y=sub["y"],
                mode="markers",
                name=f"label {value:g}",
                text=sub["smiles"],
                hovertemplate="%{text}<extra></extra>",
                marker={"size": 6, "color": _COLOURS[i % len(_COLOURS)]},
            )
    else:
        fig.add_scatter(
            x=points["x"],
            y=points["y"],
            mode="markers",
            text=hover,
            hovertemplate="%{text}<extra></extra>",
            marker={"size": 6, "color": points["label"], "colorscale": "Viridis", "showscale": True},
            showlegend=False,
        )
    fig.update_layout(
        title=title,
        height=360,
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        xaxis={"showticklabels": False},
        yaxis={"showticklabels": False},
    )
    return fig
