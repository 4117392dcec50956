"""IFM lab: the Independent Feature Embedding, the kernel it induces, and MLP vs IFM-MLP live."""

import streamlit as st

from workbench.app.render import plain
from workbench.cliffs.figures import ifm_encoding_figure, ifm_kernel_figure, rmse_bars, rotation_bars
from workbench.cliffs.ifm_results import ifm_table, ifm_verdict, read_ifm_cells, summarize_ifm_cells
from workbench.cliffs.lab import ifm_curves, lab_frame, mlp_vs_ifm, rotation_scores
from workbench.data import list_moleculeace

_lab_frame = st.cache_data(show_spinner=False)(lab_frame)

# A run is queued by its button's callback, so that the whole rerun that trains draws every setting
# disabled (moving σ mid-run would otherwise restart the page and silently drop the run). A job still
# "running" when the page runs again was stopped before it finished (another control, or leaving the page).
JOB = "lab_job"
JOB_NAMES = {"compare": "MLP vs IFM-MLP training", "rotation": "rotation experiment"}


# The settings' defaults live in the session (the widgets take no default of their own), so that the
# button's callback can pin the values sent with the click: Streamlit drops a value reaching a disabled widget.
TARGETS = list_moleculeace()
DEFAULTS = {
    "sigma": 8.0,
    "d": 4,
    "lab_target": "CHEMBL2835_Ki" if "CHEMBL2835_Ki" in TARGETS else TARGETS[0],
    "lab_epochs": 40,
    "lab_max_train": 4000,
    "lab_rotate": False,
    "lab_trees": 50,
    "lab_rot_models": ["RF", "MLP"],
}
for _key, _value in DEFAULTS.items():
    st.session_state.setdefault(_key, _value)


def _queue(kind: str) -> None:
    st.session_state[JOB] = {"kind": kind, "state": "queued"}
    for key in DEFAULTS:
        st.session_state[key] = st.session_state[key]


job = st.session_state.get(JOB)
stopped = None
if job is not None and job["state"] == "running":
    stopped, job = job["kind"], None
    del st.session_state[JOB]
busy = job is not None  # a run starts in this rerun: every setting is drawn disabled until it is done


def _stopped_note(kind: str) -> None:
    if stopped == kind:
        st.warning(
            f"The {JOB_NAMES[kind]} was cancelled before it finished: the page reloaded (a control was used "
            "or the page was left) while it ran. Nothing was kept from it; press the button again to rerun it."
        )


def _settings_note(key: str, settings: dict) -> None:
    done = st.session_state[key]["settings"]
    text = ", ".join(f"{name} {value}" for name, value in done.items())
    st.caption(f"Computed with {plain(text)}.")
    if done != settings:
        st.info("The settings have changed since; press the button to compute the results for the current ones.")


st.title("IFM lab")
st.caption(
    "Xia et al. (NeurIPS 2023): deep models struggle with non-smooth structure–activity functions. The "
    "Independent Feature Embedding maps each feature x to [cos 2πc_j x]_j ‖ [sin 2πc_j x]_j with c_j = σ^(j/d)."
)

left, right = st.columns(2)
sigma = left.slider("σ (frequency scale)", 1.0, 64.0, step=1.0, key="sigma", disabled=busy)
d = right.slider("d (frequencies per feature)", 1, 16, key="d", disabled=busy)
curves = ifm_curves(sigma, d)
st.caption("Frequencies c_j: " + ", ".join(f"{c:.2f}" for c in curves.frequencies))

a, b = st.columns(2)
with a:
    st.altair_chart(ifm_encoding_figure(curves.encoding), key="encoding_plot", width="stretch")
    st.caption("The encoding of one feature value x ∈ [0, 1].")
with b:
    st.altair_chart(ifm_kernel_figure(curves.kernel), key="kernel_plot", width="stretch")
    st.caption("Induced kernel k(δ) = mean_j cos(2π c_j δ): larger σ gives a narrower, more local kernel.")

st.divider()
st.subheader("MLP vs IFM-MLP on a MoleculeACE target")
c1, c2, c3 = st.columns(3)
target = c1.selectbox("Target", TARGETS, key="lab_target", disabled=busy)
epochs = c2.number_input("Max epochs", 1, 200, key="lab_epochs", disabled=busy)
max_train = c3.number_input("Training molecules (at most)", 20, 4000, key="lab_max_train", disabled=busy)
settings = {"target": target, "σ": sigma, "d": d, "max epochs": int(epochs), "training molecules": int(max_train)}

frame = _lab_frame(target, int(max_train))
st.button("Train MLP and IFM-MLP", key="lab_train", on_click=_queue, args=("compare",), disabled=busy)
if busy and job["kind"] == "compare":
    job["state"] = "running"
    bar = st.progress(0.0, text="training… (the settings are locked until it is done)")
    scores = mlp_vs_ifm(frame, target, sigma, d, int(epochs), progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
    st.session_state["lab_scores"] = {"settings": settings, "scores": scores}
    del st.session_state[JOB]
    st.rerun()  # draw the page again with the settings unlocked
_stopped_note("compare")
if "lab_scores" in st.session_state:
    scores = st.session_state["lab_scores"]["scores"]
    st.dataframe(scores, hide_index=True)
    st.altair_chart(rmse_bars(scores, 300), key="lab_bars", width="stretch")
    _settings_note("lab_scores", settings)

st.divider()
st.subheader("The paper's setting: descriptors, a search, repeated splits")
faithful = summarize_ifm_cells(read_ifm_cells())
st.caption(
    "The live comparison above feeds ECFP4 bits, where sin / cos of 0 and 1 add nothing. The IFM paper's MLPs "
    "read standardized continuous descriptors and search σ (log-uniform 0.01–100), d (1–127) and the MLP's own "
    "settings on validation. `workbench bench ifm` reruns that (RDKit 2D descriptors + MACCS keys for MOE "
    "descriptors + PubChem keys; random 81/9/10 splits, MoleculeACE targets on their own split); test scores, "
    "mean ± std over repetitions (`bench/results/ifm.md`)."
)
if faithful.empty:
    st.info("No results yet: run `workbench bench ifm`.")
else:
    st.dataframe(ifm_table(faithful), hide_index=True, key="lab_faithful")
    st.markdown(plain(ifm_verdict(faithful)))

st.divider()
st.subheader("Orthogonal rotation")
st.caption(
    "Rotate the ECFP4 features by a random orthogonal matrix. Distances are unchanged, so an MLP (whose first "
    "layer can absorb the rotation) should not care; tree models split one feature at a time and degrade."
)
rotate = st.toggle("Run the rotation experiment on this target", key="lab_rotate", disabled=busy)
if rotate:
    rc1, rc2 = st.columns(2)
    trees = rc1.number_input("RF trees", 5, 300, key="lab_trees", disabled=busy)
    rot_models = rc2.multiselect("Models", ["RF", "XGBoost", "MLP", "IFM-MLP"], key="lab_rot_models", disabled=busy)
    rot_settings = {**settings, "RF trees": int(trees), "models": ", ".join(rot_models)}
    st.button("Run", key="lab_rot_run", on_click=_queue, args=("rotation",), disabled=busy or not rot_models)
    if busy and job["kind"] == "rotation":
        job["state"] = "running"
        bar = st.progress(0.0, text="rotating… (the settings are locked until it is done)")
        table = rotation_scores(
            frame,
            rot_models,
            sigma,
            d,
            int(epochs),
            int(trees),
            progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
        )
        st.session_state["lab_rotation"] = {"settings": rot_settings, "scores": table}
        del st.session_state[JOB]
        st.rerun()
    _stopped_note("rotation")
    if "lab_rotation" in st.session_state:
        table = st.session_state["lab_rotation"]["scores"]
        st.dataframe(table, hide_index=True)
        st.altair_chart(rotation_bars(table), key="rot_bars", width="stretch")
        worst = table.loc[table["ratio"].idxmax()]
        st.caption(f"Largest degradation: {worst['model']} ({worst['ratio']:.2f}× the RMSE on rotated features).")
        _settings_note("lab_rotation", rot_settings)
elif busy and job["kind"] == "rotation":  # the toggle was switched off before the run started
    del st.session_state[JOB]
