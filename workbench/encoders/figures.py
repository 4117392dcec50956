"""Plotly figures of the Pretraining lab: ours beside the published averages, loss curves, embedding maps."""

from __future__ import annotations

import numpy as np
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
    """The loss and its terms (left axis) and accuracies (right axis) against the step.

    A ``stage`` column (Mole-BERT: 0 tokenizer, 1 masked atom modelling + contrastive) is not a series: a dashed
    line marks the first point wholly in each new stage.
    """
    extra = [c for c in curve.columns if c not in ("step", "epoch", "loss", "stage") and curve[c].notna().any()]
    rates = [c for c in extra if "accuracy" in c]
    terms = [c for c in extra if c not in rates]
    fig = make_subplots(specs=[[{"secondary_y": bool(rates)}]])
    fig.add_scatter(
        x=curve["step"], y=curve["loss"], name="loss", mode="lines", line={"color": _COLOURS[0]}, secondary_y=False
    )
    for i, column in enumerate([*terms, *rates]):
        colour = _COLOURS[1 + i % (len(_COLOURS) - 1)]
        line = {"color": colour, "width": 1, "dash": "dot"} if column in terms else {"color": colour}
        fig.add_scatter(
            x=curve["step"], y=curve[column], name=column, mode="lines", line=line, secondary_y=column in rates
        )
    if "stage" in curve.columns:
        # the curve holds means over steps: a point that straddles two stages averages them, so whole stages count
        stages = np.floor(curve["stage"].to_numpy(dtype=float) + 1e-9)
        for row in (i for i in range(1, len(stages)) if stages[i] != stages[i - 1]):
            fig.add_vline(
                x=float(curve["step"].iloc[row]), line_dash="dash", annotation_text=f"stage {stages[row]:.0f}"
            )
    fig.update_layout(height=300, margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis_title="step")
    fig.update_yaxes(title_text="loss" + (" and its terms" if terms else ""), secondary_y=False)
    if rates:
        fig.update_yaxes(title_text=", ".join(rates), secondary_y=True)
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
