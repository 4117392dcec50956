"""Vega-Lite (Altair) figures of the task-transfer lab: how tasks relate, and how the arms score.

* :func:`correlation_heatmap`: the phi coefficient between every two tasks' training labels (tooltips: the
  value and how many molecules are labelled for both); the target's row and column are outlined.
* :func:`relation_network`: tasks on a circle, an edge to the target from every other task, its width the
  strength of the relation (|phi|, or arm (d)'s learned dependency weight) and its colour the sign;
  hovering a node shows its numbers, clicking a node keeps its edges and fades the others.
* :func:`arm_bars`: ROC-AUC per arm with ± sd whiskers.

Altair is imported inside each function (ARCHITECTURE "Charts").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from workbench.transfer.relations import LabelCorrelation

if TYPE_CHECKING:
    import altair as alt

__all__ = ["arm_bars", "correlation_heatmap", "relation_network", "relation_table"]


def _short(name: str, limit: int = 28) -> str:
    return name if len(name) <= limit else name[: limit - 1] + "…"


def correlation_heatmap(correlation: LabelCorrelation, tasks: Sequence[str], target: str | None = None) -> alt.Chart:
    """Heatmap of the label correlation between tasks (phi over molecules labelled for both)."""
    import altair as alt

    names = [_short(t) for t in tasks]
    rows = [
        {
            "task": names[s],
            "other": names[t],
            "phi": None if not np.isfinite(correlation.phi[s, t]) else round(float(correlation.phi[s, t]), 3),
            "molecules": int(correlation.pairs[s, t]),
            "target": target is not None and target in (tasks[s], tasks[t]),
        }
        for s in range(len(tasks))
        for t in range(len(tasks))
    ]
    size = max(220, min(560, 24 * len(tasks)))
    base = alt.Chart(pd.DataFrame(rows)).encode(
        x=alt.X("other:N", sort=names, title=None, axis=alt.Axis(labelAngle=-45)),
        y=alt.Y("task:N", sort=names, title=None),
    )
    cells = base.mark_rect().encode(
        color=alt.Color("phi:Q", scale=alt.Scale(scheme="redblue", domain=[-1, 1], reverse=True), title="phi"),
        tooltip=["task:N", "other:N", alt.Tooltip("phi:Q", format=".3f"), alt.Tooltip("molecules:Q", format=",")],
    )
    outline = base.transform_filter("datum.target").mark_rect(fill=None, stroke="black", strokeWidth=0.6)
    return (cells + outline).properties(width=size, height=size)


def relation_table(tasks: Sequence[str], target: str, weights: Sequence[float], kind: str) -> pd.DataFrame:
    """``source``, ``weight`` of each other task for the target (largest ``|weight|`` first)."""
    rows = [
        {"source": task, kind: round(float(w), 4)}
        for task, w in zip(tasks, weights, strict=True)
        if task != target and np.isfinite(w)
    ]
    frame = pd.DataFrame(rows, columns=["source", kind])
    return frame.reindex(frame[kind].abs().sort_values(ascending=False).index).reset_index(drop=True)


def relation_network(
    tasks: Sequence[str],
    target: str,
    weights: Sequence[float],
    *,
    kind: str = "phi",
    title: str = "",
    limit: int = 24,
) -> alt.LayerChart:
    """The target at the centre, the other tasks on a circle, edges weighted by ``weights`` (one per task).

    With more than ``limit`` other tasks, only the ``limit`` with the largest ``|weight|`` are drawn.
    """
    import altair as alt

    others = [(t, float(w)) for t, w in zip(tasks, weights, strict=True) if t != target]
    if len(others) > limit:
        others = sorted(others, key=lambda tw: -abs(tw[1]) if np.isfinite(tw[1]) else 0.0)[:limit]
    n = max(len(others), 1)
    nodes = [{"task": target, "x": 0.0, "y": 0.0, "role": "target", kind: None}]
    edges = []
    for k, (task, w) in enumerate(others):
        angle = 2 * math.pi * k / n
        x, y = math.cos(angle), math.sin(angle)
        value = w if np.isfinite(w) else 0.0
        nodes.append({"task": task, "x": x, "y": y, "role": "helper", kind: round(value, 4)})
        edges.append(
            {"task": task, "x": 0.0, "y": 0.0, "x2": x, "y2": y, kind: round(value, 4), "strength": abs(value),
             "sign": "positive" if value >= 0 else "negative"}
        )  # fmt: skip
    pick = alt.selection_point(fields=["task"], on="click", empty=True)
    axis = alt.Axis(labels=False, ticks=False, grid=False, domain=False, title=None)
    scale = alt.Scale(domain=[-1.35, 1.35])
    lines = (
        alt.Chart(pd.DataFrame(edges))
        .mark_rule()
        .encode(
            x=alt.X("x:Q", axis=axis, scale=scale),
            y=alt.Y("y:Q", axis=axis, scale=scale),
            x2="x2:Q",
            y2="y2:Q",
            strokeWidth=alt.StrokeWidth("strength:Q", scale=alt.Scale(range=[0.5, 8]), legend=None),
            color=alt.Color("sign:N", scale=alt.Scale(domain=["positive", "negative"], range=["#1f77b4", "#d62728"])),
            opacity=alt.condition(pick, alt.value(0.85), alt.value(0.12)),
            tooltip=["task:N", alt.Tooltip(f"{kind}:Q", format=".3f")],
        )
    )
    dots = (
        alt.Chart(pd.DataFrame(nodes))
        .mark_circle(size=220, stroke="white")
        .encode(
            x=alt.X("x:Q", axis=axis, scale=scale),
            y=alt.Y("y:Q", axis=axis, scale=scale),
            color=alt.Color("role:N", scale=alt.Scale(domain=["target", "helper"], range=["#ff7f0e", "#7f7f7f"])),
            tooltip=["task:N", "role:N", alt.Tooltip(f"{kind}:Q", format=".3f")],
        )
        .add_params(pick)
    )
    labels = (
        alt.Chart(pd.DataFrame(nodes))
        .mark_text(dy=-13, fontSize=10)
        .encode(x=alt.X("x:Q", axis=axis, scale=scale), y=alt.Y("y:Q", axis=axis, scale=scale), text="label:N")
        .transform_calculate(label="length(datum.task) > 18 ? slice(datum.task, 0, 17) + '…' : datum.task")
    )
    return (lines + dots + labels).properties(width=420, height=420, title=title or None)


def arm_bars(summary: pd.DataFrame, title: str = "") -> alt.LayerChart:
    """Bars of ``roc_auc`` per ``arm`` with ± ``sd`` whiskers (a :func:`~workbench.transfer.results.arm_summary`)."""
    import altair as alt

    data = summary.assign(
        low=summary["roc_auc"] - summary["sd"].fillna(0), high=summary["roc_auc"] + summary["sd"].fillna(0)
    )
    order = list(summary["arm"])
    bars = (
        alt.Chart(data)
        .mark_bar()
        .encode(
            x=alt.X("arm:N", sort=order, title=None),
            y=alt.Y("roc_auc:Q", title="test ROC-AUC", scale=alt.Scale(domain=[0.4, 1.0], clamp=True)),
            color=alt.condition(alt.datum.arm == "single", alt.value("#7f7f7f"), alt.value("#1f77b4")),
            tooltip=[
                "arm:N",
                "what:N",
                alt.Tooltip("roc_auc:Q", format=".3f"),
                alt.Tooltip("sd:Q", format=".3f"),
                "n:Q",
            ],
        )
    )
    whiskers = alt.Chart(data).mark_rule().encode(x=alt.X("arm:N", sort=order), y="low:Q", y2="high:Q")
    return (bars + whiskers).properties(width=max(240, 60 * len(order)), height=260, title=title or None)
