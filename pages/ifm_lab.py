"""IFM lab: the Independent Feature Embedding, the kernel it induces, and MLP vs IFM-MLP live."""

import pandas as pd
import plotly.express as px
import streamlit as st
import torch

from workbench.cliffs import qsar
from workbench.data import list_moleculeace, load_moleculeace
from workbench.nn.ifm import ifm_encode, ifm_frequencies, ifm_kernel

st.title("IFM lab")
st.caption(
    "Xia et al. (NeurIPS 2023): deep models struggle with non-smooth structure–activity functions. The "
    "Independent Feature Embedding maps each feature x to [cos 2πc_j x]_j ‖ [sin 2πc_j x]_j with c_j = σ^(j/d)."
)

left, right = st.columns(2)
sigma = left.slider("σ (frequency scale)", 1.0, 64.0, 8.0, 1.0, key="sigma")
d = right.slider("d (frequencies per feature)", 1, 16, 4, key="d")
freqs = ifm_frequencies(sigma, d)
st.caption("Frequencies c_j: " + ", ".join(f"{c:.2f}" for c in freqs.tolist()))

x = torch.linspace(0, 1, 201)
enc = ifm_encode(x.unsqueeze(1), freqs).numpy()  # [201, 2d]
enc_frame = pd.DataFrame(enc, columns=[f"cos c{j}" for j in range(d)] + [f"sin c{j}" for j in range(d)])
enc_frame["x"] = x.numpy()
delta = torch.linspace(-1, 1, 401)
kern = pd.DataFrame({"δ": delta.numpy(), "kernel": ifm_kernel(delta, freqs).numpy()})
a, b = st.columns(2)
with a:
    st.plotly_chart(
        px.line(enc_frame.melt(id_vars="x", var_name="component"), x="x", y="value", color="component", height=320),
        key="encoding_plot",
    )
    st.caption("The encoding of one feature value x ∈ [0, 1].")
with b:
    st.plotly_chart(px.line(kern, x="δ", y="kernel", height=320), key="kernel_plot")
    st.caption("Induced kernel k(δ) = mean_j cos(2π c_j δ): larger σ gives a narrower, more local kernel.")

st.divider()
st.subheader("MLP vs IFM-MLP on a MoleculeACE target")
targets = list_moleculeace()
c1, c2, c3 = st.columns(3)
target = c1.selectbox("Target", targets, index=targets.index("CHEMBL2835_Ki"), key="lab_target")
epochs = c2.number_input("Max epochs", 1, 200, 40, key="lab_epochs")
max_train = c3.number_input("Training molecules (at most)", 20, 4000, 4000, key="lab_max_train")


@st.cache_data(show_spinner=False)
def _frame(target: str, max_train: int) -> pd.DataFrame:
    frame = load_moleculeace(target).frame
    train = frame[frame["split"] == "train"].head(max_train)
    return pd.concat([train, frame[frame["split"] == "test"]]).reset_index(drop=True)


frame = _frame(target, int(max_train))
if st.button("Train MLP and IFM-MLP", key="lab_train"):
    torch.set_num_threads(1)
    bar = st.progress(0.0, text="training…")
    scores, _ = qsar.evaluate(
        frame, ["MLP", "IFM-MLP"], target=target, epochs=int(epochs), ifm_grid=((sigma, d),),
        progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
    )  # fmt: skip
    bar.progress(1.0, text="done")
    st.session_state["lab_scores"] = scores.drop(columns=["params"]).assign(sigma=sigma, d=d)
if "lab_scores" in st.session_state:
    scores = st.session_state["lab_scores"]
    st.dataframe(scores, hide_index=True)
    st.plotly_chart(
        px.bar(
            scores.melt(id_vars="model", value_vars=["rmse", "rmse_cliff"], var_name="metric", value_name="RMSE"),
            x="model",
            y="RMSE",
            color="metric",
            barmode="group",
            height=300,
        ),
        key="lab_bars",
    )

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
        torch.set_num_threads(1)
        split = frame["split"].astype(str)
        tr, te = frame[split == "train"], frame[split == "test"]
        bar = st.progress(0.0, text="rotating…")
        table = qsar.rotation_experiment(
            qsar.ecfp_features(tr["smiles"]), tr["y"].to_numpy(), qsar.ecfp_features(te["smiles"]), te["y"].to_numpy(),
            rot_models, ifm=(sigma, d), epochs=int(epochs), rf_trees=int(trees),
            progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
        )  # fmt: skip
        st.session_state["lab_rotation"] = table
    if "lab_rotation" in st.session_state:
        table = st.session_state["lab_rotation"]
        st.dataframe(table, hide_index=True)
        st.plotly_chart(
            px.bar(
                table.melt(id_vars="model", value_vars=["rmse_original", "rmse_rotated"], var_name="features"),
                x="model",
                y="value",
                color="features",
                barmode="group",
                labels={"value": "test RMSE"},
                height=300,
            ),
            key="rot_bars",
        )
        worst = table.loc[table["ratio"].idxmax()]
        st.caption(f"Largest degradation: {worst['model']} ({worst['ratio']:.2f}× the RMSE on rotated features).")
