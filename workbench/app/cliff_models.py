"""The Activity cliffs page's Models tab: the benchmark's scores for the target and models trained live."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.cliffs.figures import rmse_bars
from workbench.cliffs.live import LIVE_MODELS, train_live
from workbench.cliffs.results import target_scores

__all__ = ["models_panel"]


def models_panel(frame: pd.DataFrame, result, unit: str, target: str | None, dataset_key: str) -> None:
    """Benchmark bars for ``target``, the live-training form, and this data set's live scores.

    Trained predictions and scores are kept in ``st.session_state`` (``cliff_predictions`` / ``cliff_scores``,
    by ``dataset_key``), where the pair view reads them.
    """
    bench = target_scores(target)
    if len(bench):
        st.altair_chart(rmse_bars(bench, 360), key="bench_bars", width="stretch")
        st.caption("From `workbench bench cliffs` (MoleculeACE split, seed 0); see bench/results/cliffs.md.")
    elif target:
        st.caption("The benchmark has no result for this target yet; train models live below.")
    st.markdown("**Train models live** (MoleculeACE's split, or a seeded random 80/20 split for uploads)")
    models = st.multiselect("Models", list(LIVE_MODELS), ["KNN", "SVM", "MLP"], key="live_models")
    epochs = st.number_input("Max epochs (MLP, IFM-MLP)", 1, 300, 60, key="live_epochs")
    if st.button("Train", key="live_train", disabled=not models):
        bar = st.progress(0.0, text="training…")
        scores, full = train_live(
            frame, result, unit, models, target=target, epochs=int(epochs),
            progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
        )  # fmt: skip
        st.session_state.setdefault("cliff_predictions", {})[dataset_key] = full
        st.session_state.setdefault("cliff_scores", {})[dataset_key] = scores
        st.rerun()  # the scores below, and the pair view when its tab is opened, show them at once
    scores = st.session_state.get("cliff_scores", {}).get(dataset_key)
    if scores is not None:  # the scores of this data set only
        st.dataframe(scores, hide_index=True)
        st.altair_chart(rmse_bars(scores, 320), key="live", width="stretch")
