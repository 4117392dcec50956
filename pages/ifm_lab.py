"""IFM lab: the Independent Feature Embedding, the kernel it induces, and MLP vs IFM-MLP live."""

import streamlit as st

from workbench.cliffs.figures import ifm_encoding_figure, ifm_kernel_figure, rmse_bars, rotation_bars
from workbench.cliffs.lab import ifm_curves, lab_frame, mlp_vs_ifm, rotation_scores
from workbench.data import list_moleculeace

_lab_frame = st.cache_data(show_spinner=False)(lab_frame)

st.title("IFM lab")
st.caption(
    "Xia et al. (NeurIPS 2023): deep models struggle with non-smooth structure–activity functions. The "
    "Independent Feature Embedding maps each feature x to [cos 2πc_j x]_j ‖ [sin 2πc_j x]_j with c_j = σ^(j/d)."
)

left, right = st.columns(2)
sigma = left.slider("σ (frequency scale)", 1.0, 64.0, 8.0, 1.0, key="sigma")
d = right.slider("d (frequencies per feature)", 1, 16, 4, key="d")
curves = ifm_curves(sigma, d)
st.caption("Frequencies c_j: " + ", ".join(f"{c:.2f}" for c in curves.frequencies))

a, b = st.columns(2)
with a:
    st.plotly_chart(ifm_encoding_figure(curves.encoding), key="encoding_plot")
    st.caption("The encoding of one feature value x ∈ [0, 1].")
with b:
    st.plotly_chart(ifm_kernel_figure(curves.kernel), key="kernel_plot")
    st.caption("Induced kernel k(δ) = mean_j cos(2π c_j δ): larger σ gives a narrower, more local kernel.")

st.divider()
st.subheader("MLP vs IFM-MLP on a MoleculeACE target")
targets = list_moleculeace()
c1, c2, c3 = st.columns(3)
target = c1.selectbox("Target", targets, index=targets.index("CHEMBL2835_Ki"), key="lab_target")
epochs = c2.number_input("Max epochs", 1, 200, 40, key="lab_epochs")
max_train = c3.number_input("Training molecules (at most)", 20, 4000, 4000, key="lab_max_train")

frame = _lab_frame(target, int(max_train))
if st.button("Train MLP and IFM-MLP", key="lab_train"):
    bar = st.progress(0.0, text="training…")
    scores = mlp_vs_ifm(frame, target, sigma, d, int(epochs), progress=lambda f, m: bar.progress(min(f, 1.0), text=m))
    bar.progress(1.0, text="done")
    st.session_state["lab_scores"] = scores
if "lab_scores" in st.session_state:
    scores = st.session_state["lab_scores"]
    st.dataframe(scores, hide_index=True)
    st.plotly_chart(rmse_bars(scores, 300), key="lab_bars")

st.divider()
st.subheader("Orthogonal rotation")
st.caption(
    "Rotate the ECFP4 features by a random orthogonal matrix. Distances are unchanged, so an MLP (whose first "
    "layer can absorb the rotation) should not care; tree models split one feature at a time and degrade."
)
rotate = st.toggle("Run the rotation experiment on this target", key="lab_rotate")
if rotate:
    rc1, rc2 = st.columns(2)
    trees = rc1.number_input("RF trees", 5, 300, 50, key="lab_trees")
    rot_models = rc2.multiselect("Models", ["RF", "XGBoost", "MLP", "IFM-MLP"], ["RF", "MLP"], key="lab_rot_models")
    if st.button("Run", key="lab_rot_run", disabled=not rot_models):
        bar = st.progress(0.0, text="rotating…")
        st.session_state["lab_rotation"] = rotation_scores(
            frame,
            rot_models,
            sigma,
            d,
            int(epochs),
            int(trees),
            progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
        )
    if "lab_rotation" in st.session_state:
        table = st.session_state["lab_rotation"]
        st.dataframe(table, hide_index=True)
        st.plotly_chart(rotation_bars(table), key="rot_bars")
        worst = table.loc[table["ratio"].idxmax()]
        st.caption(f"Largest degradation: {worst['model']} ({worst['ratio']:.2f}× the RMSE on rotated features).")
