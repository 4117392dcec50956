"""Widgets of the property-prediction page: row notes, the curated panel, its radar, the per-task bars."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st

from workbench.app.render import plain
from workbench.models import CheckpointError, reference_path
from workbench.predict.inference import LoadedModel
from workbench.predict.panel import display_panel, radar_axes
from workbench.predict.percentile_svg import radar_svg
from workbench.predict.percentiles import reference_predictions

__all__ = ["bars_figure", "has_stored_reference", "load_references", "radar_svg_of", "show_panel", "show_row_notes"]


def show_row_notes(row: pd.Series) -> None:
    """One ``st.warning`` line per thing standardization changed, and the row's error, if any."""
    if str(row.get("error", "") or ""):
        st.error(f"This molecule could not be predicted: {plain(row['error'])}")
    for note in (w.strip() for w in str(row.get("warnings", "") or "").split(";")):
        if note:
            st.warning(f"Standardization: {plain(note)}. The predictions are for the standardized molecule.")


def has_stored_reference(model: LoadedModel) -> bool:
    """Whether the checkpoint ships its approved-drug predictions (``percentiles.npz``, verified)."""
    try:
        return reference_path(model.checkpoint, "percentile_reference") is not None
    except CheckpointError:
        return False


def load_references(models: Sequence[str], model: Callable[[str], LoadedModel]) -> dict[str, pd.DataFrame]:
    """Approved-drug predictions per model: read where stored, else computed once per process (slow)."""
    with st.spinner("Reading the approved-drug references…"):
        return {name: reference_predictions(model(name)) for name in models}


def show_panel(table: pd.DataFrame) -> None:
    """The curated panel as a table: verdict colours, percentile bars, domain and recommended model."""
    st.dataframe(
        display_panel(table),
        hide_index=True,
        column_config={
            "Approved-drug percentile": st.column_config.ProgressColumn(
                "Approved-drug percentile",
                min_value=0,
                max_value=100,
                format="%.0f",
                help="Share of ~2,600 approved drugs predicted at or below this value by the same model.",
            ),
        },
        key="pred_panel",
    )


def radar_svg_of(table: pd.DataFrame) -> str | None:
    """A radar of at most 8 curated endpoints (outward = favourable) as SVG; ``None`` below three axes.

    SVG, not a Plotly figure: the page's first view then does not wait for Plotly.js to compile in the browser.
    """
    axes = radar_axes(table)
    if len(axes) < 3:
        return None
    return radar_svg(axes["axis"].tolist(), axes["score"].astype(float).tolist(), size=440, font_size=13)


def bars_figure(bars: pd.DataFrame):  # -> altair.LayerChart
    """Horizontal probability bars with the ensemble spread (± std) as error rules, one row per ``label``.

    Vega-Lite (Altair), not Plotly: opening the expander then does not wait for Plotly.js to compile.
    """
    import altair as alt

    data = bars[["label", "probability", "std"]].copy()
    data["std"] = data["std"].fillna(0.0)
    data["low"] = (data["probability"] - data["std"]).clip(0, 1)
    data["high"] = (data["probability"] + data["std"]).clip(0, 1)
    base = alt.Chart(data).encode(
        y=alt.Y("label:N", sort=list(data["label"]), title=None, axis=alt.Axis(labelLimit=360)),
        tooltip=[
            "label:N",
            alt.Tooltip("probability:Q", format=".3f"),
            alt.Tooltip("std:Q", title="ensemble std", format=".3f"),
        ],
    )
    x = alt.X("probability:Q", title="probability (± ensemble std)", scale=alt.Scale(domain=[0, 1]))
    errors = base.mark_rule(color="black").encode(x="low:Q", x2="high:Q")
    # the plot area: 22 px a row and a little room, so the whole chart is about the 80 + 22·n px it was
    return alt.layer(base.mark_bar().encode(x=x), errors).properties(height=30 + 22 * len(data))
