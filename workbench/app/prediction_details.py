"""The detail views of the Property prediction page: every model and task, and one prediction explained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from workbench.app.models import cached_model
from workbench.app.prediction_view import bars_figure
from workbench.app.render import plain
from workbench.chem import ParsedMolecule, depict_svg
from workbench.data import DataUnavailableError
from workbench.predict.applicability import AD_THRESHOLD, nearest_neighbours
from workbench.predict.attribution import atom_attributions
from workbench.predict.endpoints import task_label
from workbench.predict.row_tables import all_percentiles, classification_bars, readable_columns, regression_values

__all__ = ["every_model_expander", "explain_prediction"]


def _label(value: float) -> str:
    """A training label as measured: 0 / 1 classes as integers, values to at most 3 decimals (5.602, not 5.60206)."""
    return f"{value:.3f}".rstrip("0").rstrip(".") if value == value else "missing"


def every_model_expander(row: pd.Series | None, table: pd.DataFrame, cards: dict, references: dict) -> None:
    """An expander with every model's bars, values and percentiles for ``row`` and the whole table, readable labels."""
    with st.expander(f"Every model and task ({sum(len(c.tasks) for c in cards.values())} tasks)"):
        if row is not None:
            bars = classification_bars(row, cards)
            if not bars.empty:
                st.altair_chart(bars_figure(bars), width="stretch")
            regression = regression_values(row, cards)
            if not regression.empty:
                st.dataframe(regression, hide_index=True)
            if references:
                st.markdown("**Percentiles among approved drugs, every task**")
                st.dataframe(all_percentiles(row, references, cards), hide_index=True)
        st.dataframe(table.rename(columns=readable_columns(list(table.columns), cards)), hide_index=True)
        st.caption(
            f"Each task: ensemble mean (probability for classification tasks) and its spread across ensemble "
            f"members; similarity to training set = max Tanimoto (ECFP4) to the model's training molecules, in "
            f"domain from {AD_THRESHOLD}. The CSV download keeps the machine column names (`MODEL:TASK`)."
        )


def explain_prediction(parsed: ParsedMolecule, row: pd.Series, models: list[str]) -> None:
    """Atom attribution, domain score and nearest training molecules for one chosen model and task."""
    st.subheader("Explain a prediction")
    name = st.selectbox("Model", models, key="explain_model")
    model = cached_model(name)
    card = model.checkpoint.card
    task = st.selectbox("Task", model.tasks, key="explain_task", format_func=lambda t: task_label(card, t))
    t = model.tasks.index(task)
    cols = st.columns([1, 1])
    with cols[0]:
        try:
            attribution = atom_attributions(model, parsed.mol, t)
            st.image(depict_svg(parsed.mol, atom_weights=attribution.weights, width=420, height=320), width=420)
            st.caption(
                f"Atom attribution by **{attribution.description}**. Red atoms push the prediction up, "
                "blue atoms push it down."
            )
        except ValueError as exc:
            st.info(str(exc))
        ad = row.get(f"{name}:AD", np.nan)
        if np.isfinite(ad):
            verdict = "inside" if ad >= AD_THRESHOLD else "**outside**"
            st.caption(
                f"Applicability domain: max Tanimoto to the training set {ad:.2f}, {verdict} the domain "
                f"(threshold {AD_THRESHOLD})."
            )
    with cols[1]:
        st.markdown("**Nearest training molecules**")
        try:
            neighbours = nearest_neighbours(parsed.mol, model.checkpoint, k=3)
            images = st.columns(3)
            for col, (_, nb) in zip(images, neighbours.iterrows(), strict=False):
                with col:
                    st.image(depict_svg(nb["smiles"], width=220, height=170))
                    st.caption(f"sim {nb['similarity']:.2f} · {plain(task)} = {_label(nb[task])}")
        except DataUnavailableError as exc:
            st.info(
                f"The training molecules are read from the data file '{plain(card.data.file)}', which is "
                f"not available here ({exc}). Put it in the folder named by WORKBENCH_DATA_DIR (see `workbench data "
                "list`) to see them."
            )
