"""Property prediction: a curated panel with verdicts and recommended models; every model and task one click away."""

import pandas as pd
import streamlit as st

from workbench.app import show_depiction
from workbench.app.dossier import dossier_download
from workbench.app.models import cached_model, model_picker, page_predictions, registered_models
from workbench.app.molecule_list import molecule_list_input
from workbench.app.prediction_details import every_model_expander, explain_prediction
from workbench.app.prediction_view import (
    has_stored_reference,
    load_references,
    radar_svg_of,
    show_panel,
    show_row_notes,
)
from workbench.chem import parse_one
from workbench.predict.endpoints import ENDPOINTS
from workbench.predict.panel import champion, panel
from workbench.predict.row_tables import (
    screen_table,
)
from workbench.predict.table import MAX_ROWS, TooManyRowsError
from workbench.predict.user_columns import join_user_columns

#: Endpoints the batch screen shows first (others can be added).
SCREEN_DEFAULT = ("solubility", "lipophilicity", "bbb", "herg", "ames", "clintox")


def _model(name: str):
    return cached_model(name)


def _single(row: pd.Series, table: pd.DataFrame, models: list[str], cards: dict) -> None:
    show_row_notes(row)
    if row["error"]:
        return
    smiles = row["smiles"]
    missing = [m for m in models if not has_stored_reference(_model(m))]
    compute = bool(missing) and st.toggle(
        f"Compute approved-drug percentiles for {', '.join(missing)} (no stored reference; takes a while once)",
        key="pred_percentiles",
    )
    references = load_references([m for m in models if m not in missing or compute], _model)
    curated = panel(row, cards, references, smiles=smiles)

    st.subheader("This molecule")
    left, right = st.columns([1.2, 2])
    with left:
        show_depiction(smiles, width=320, height=260)
        radar = radar_svg_of(curated)
        if radar is not None:
            st.image(radar, width=380)
            st.caption(
                "Approved-drug percentiles of the curated endpoints, outward = favourable (for risks: the share "
                "of approved drugs predicted at a higher risk)."
            )
    with right:
        if not curated["column"].astype(bool).any():
            st.info("None of the selected models answers the curated endpoints; see every model and task below.")
        if not curated.empty:
            show_panel(curated)
            st.caption(
                "Verdicts: 🟢 favourable · 🟡 borderline or uncertain · 🔴 unfavourable · 🔵 depends on the "
                "project · ⚪ no agreed threshold. Prediction = ensemble mean ± spread across ensemble members."
            )
    with st.expander("How the verdicts and the recommended models are chosen"):
        st.dataframe(
            curated[["endpoint", "rule", "source", "model", "why"]].rename(
                columns={
                    "endpoint": "Endpoint",
                    "rule": "Threshold",
                    "source": "Source",
                    "model": "Model",
                    "why": "Why this model",
                }
            ),
            hide_index=True,
        )
    dossier_download(smiles, models, key="pred_dossier")
    every_model_expander(row, table, cards, references)
    explain_prediction(parse_one(smiles), row, models)


def _batch(table: pd.DataFrame, user: pd.DataFrame, cards: dict) -> None:
    failed = int((table["error"] != "").sum())
    if failed:
        st.warning(f"{failed} of {len(table)} rows could not be predicted; see the error column.")
    changed = int((table["warnings"] != "").sum())
    if changed:
        st.caption(f"{changed} rows were standardized (salts removed, charges neutralized…); see the warnings column.")
    offered = [e for e in ENDPOINTS if champion(e, cards) is not None]
    keys = st.multiselect(
        "Endpoints on screen (each from its recommended model)",
        [e.key for e in offered],
        default=[e.key for e in offered if e.key in SCREEN_DEFAULT],
        format_func={e.key: e.name for e in offered}.get,
        key="pred_endpoints",
    )
    st.dataframe(screen_table(table, cards, keys, user), hide_index=True)
    every_model_expander(None, table, cards, {})


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
        with st.spinner("Predicting and checking each model's applicability domain…"):
            table, notes = page_predictions(
                smiles, models, callback=lambda done, total: bar.progress(done / max(total, 1))
            )
    except TooManyRowsError as exc:
        st.error(str(exc))
        st.stop()
    bar.empty()
    st.session_state.update(pred_key=key, pred_table=table, pred_notes=notes)
table, notes = st.session_state["pred_table"], st.session_state["pred_notes"]
cards = {m: _model(m).checkpoint.card for m in models}

for note in notes:
    st.caption(note)
if len(smiles) == 1:
    _single(table.iloc[0], table, models, cards)
else:
    _batch(table, molecules.columns, cards)
st.download_button(
    "Download CSV (your columns first, then every model and task)",
    join_user_columns(molecules.columns, table).to_csv(index=False),
    "predictions.csv",
    "text/csv",
    key="pred_download",
)
