"""Charts of the Pretraining lab: ours beside the published averages, loss curves, embedding maps.

Vega-Lite (Altair), not Plotly: a new browser tab then does not wait ~1.5 s for Plotly.js to compile.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.encoders.comparison import Comparison

__all__ = ["comparison_figure", "loss_figure", "map_figure"]

#: Vega's ten distinct colours (blue, orange, green, red, ...), in order of the scale's domain.
_PALETTE = "category10"
#: A legend above the plot, close to it (Streamlit's theme leaves a wide gap otherwise).
_TOP = {"orient": "top", "title": None, "offset": 4}


#: Long bar names ("AttrMask (GraphMVP Table 1)") on level lines, broken before "(" and "Table": narrow bars fit.
_short_lines = {
    "labelAngle": 0,
    "labelLimit": 200,
    "labelOverlap": False,
    "labelExpr": "split(replace(replace(datum.label, ' (', '|('), ' Table ', '|Table '), '|')",
}


def comparison_figure(comparison: Comparison, readout: str = "best_valid"):  # -> altair.Chart
    """Bars of the mean test ROC-AUC over the 8 classification sets: each of our arms, then each published row.

    Only arms that have all 8 sets get a bar: an average over fewer sets is not comparable with the published ones.
    """
    import altair as alt

    ours = comparison.averages
    ours = ours[ours["sets"] == 8] if len(ours) else ours
    rows = [(f"ours: {a}", float(v), "this workbench") for a, v in zip(ours["arm"], ours[readout], strict=True)]
    published = comparison.published
    rows += [(str(m), float(v), "published") for m, v in zip(published["method"], published["roc_auc"], strict=True)]
    bars = pd.DataFrame(rows, columns=["bar", "roc_auc", "source"]).dropna(subset=["roc_auc"])
    low = min(bars["roc_auc"], default=50.0)
    colour = alt.Color(
        "source:N",
        scale=alt.Scale(domain=["this workbench", "published"], scheme=_PALETTE),
        legend=alt.Legend(**_TOP),
    )
    return (
        alt.Chart(bars)
        .mark_bar(clip=True)
        .encode(
            x=alt.X("bar:N", sort=list(bars["bar"]), title=None, axis=_short_lines),
            y=alt.Y(
                "roc_auc:Q",
                title=["mean test ROC-AUC × 100,", "8 classification sets"],
                scale=alt.Scale(domain=[max(0.0, low - 10), 100], clamp=True, zero=False),
            ),
            color=colour,
            tooltip=[alt.Tooltip("bar:N", title="arm"), alt.Tooltip("roc_auc:Q", title="ROC-AUC × 100", format=".1f")],
        )
        .properties(height=360)
    )


def _stage_starts(curve: pd.DataFrame) -> pd.DataFrame:
    """The step and label of the first point wholly in each new stage (none without a ``stage`` column)."""
    if "stage" not in curve.columns:
        return pd.DataFrame(columns=["step", "text"])
    # the curve holds means over steps: a point that straddles two stages averages them, so whole stages count
    stages = np.floor(curve["stage"].to_numpy(dtype=float) + 1e-9)
    rows = [i for i in range(1, len(stages)) if stages[i] != stages[i - 1]]
    return pd.DataFrame(
        {"step": [float(curve["step"].iloc[i]) for i in rows], "text": [f"stage {stages[i]:.0f}" for i in rows]}
    )


def loss_figure(curve: pd.DataFrame):  # -> altair.LayerChart
    """The loss and its terms (left axis, terms dotted) and accuracies (independent right axis) against the step.

    A ``stage`` column (Mole-BERT: 0 tokenizer, 1 masked atom modelling + contrastive) is not a series: a dashed
    rule marks the first point wholly in each new stage.
    """
    import altair as alt

    extra = [c for c in curve.columns if c not in ("step", "epoch", "loss", "stage") and curve[c].notna().any()]
    rates = [c for c in extra if "accuracy" in c]
    terms = [c for c in extra if c not in rates]
    series = ["loss", *terms, *rates]
    long = curve.melt(id_vars=["step"], value_vars=series, var_name="series", value_name="value").dropna()
    colour = alt.Color(
        "series:N",
        scale=alt.Scale(domain=series, scheme=_PALETTE),
        legend=alt.Legend(**_TOP),
    )
    x = alt.X("step:Q", title="step")
    tooltip = ["series:N", "step:Q", alt.Tooltip("value:Q", format=".4g")]

    def lines(names: list[str], **mark):
        return alt.Chart(long[long["series"].isin(names)]).mark_line(**mark).encode(x=x, color=colour, tooltip=tooltip)

    left_title = "loss" + (" and its terms" if terms else "")
    left = [lines(["loss"]).encode(y=alt.Y("value:Q", title=left_title))]
    if terms:
        left.append(lines(terms, strokeWidth=1, strokeDash=[2, 2]).encode(y=alt.Y("value:Q", title=left_title)))
    starts = _stage_starts(curve)
    if len(starts):
        marks = alt.Chart(starts).encode(x="step:Q")
        left.append(marks.mark_rule(strokeDash=[5, 4], color="#555"))
        left.append(
            marks.mark_text(align="left", baseline="top", dx=4, dy=4, color="#555").encode(
                y=alt.value(0), text="text:N"
            )
        )
    chart = alt.layer(*left)
    if rates:
        right = lines(rates).encode(y=alt.Y("value:Q", title=", ".join(rates), axis=alt.Axis(orient="right")))
        chart = alt.layer(chart, right).resolve_scale(y="independent")
    return chart.properties(height=300)


def map_figure(points: pd.DataFrame, title: str, classification: bool):  # -> altair.Chart
    """A scatter of ``x``, ``y`` coloured by ``label`` (two colours for a class, a scale for a value)."""
    import altair as alt

    data = points[["x", "y", "label", "smiles"]].copy()
    if classification:
        data["class"] = [f"label {v:g}" for v in data["label"]]
        names = sorted(data["class"].unique(), key=lambda s: float(s.split()[1]))
        colour = alt.Color(
            "class:N",
            scale=alt.Scale(domain=names, scheme=_PALETTE),
            legend=alt.Legend(**_TOP),
        )
    else:
        colour = alt.Color("label:Q", scale=alt.Scale(scheme="viridis"), legend=alt.Legend(title="label"))
    hidden = alt.Axis(labels=False, ticks=False, title=None)
    return (
        alt.Chart(data)
        .mark_circle(size=36, opacity=0.85)
        .encode(
            x=alt.X("x:Q", axis=hidden, scale=alt.Scale(zero=False)),
            y=alt.Y("y:Q", axis=hidden, scale=alt.Scale(zero=False)),
            color=colour,
            tooltip=[alt.Tooltip("smiles:N", title="SMILES")],
        )
        .properties(title=alt.Title(title, offset=4), height=360)
    )
