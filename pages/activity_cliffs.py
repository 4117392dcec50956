"""Activity cliffs: MoleculeACE cliff pairs, SAS map, pair view, cliff network and model comparison."""

import io

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from rdkit import Chem

from workbench import cliffs
from workbench.chem import depict_svg
from workbench.cliffs import qsar
from workbench.cliffs.results import benchmark_scores
from workbench.data import list_moleculeace, load_moleculeace

st.title("Activity cliffs")
st.caption(
    "Near-identical molecules with very different potency, found with MoleculeACE's rules: a pair is similar "
    "when ECFP4 Tanimoto, generic-framework Tanimoto or normalised SMILES Levenshtein similarity is ≥ 0.9, "
    "and a cliff when the potency fold change is > 10."
)


@st.cache_data(show_spinner=False)
def _targets() -> list[str]:
    return list_moleculeace()


@st.cache_data(show_spinner="Loading the MoleculeACE target…")
def _target_frame(target: str) -> pd.DataFrame:
    frame = load_moleculeace(target).frame
    return frame.assign(potency=frame["exp_mean [nM]"], pactivity=frame["y"] + 9)


@st.cache_data(show_spinner="Finding cliffs…", max_entries=8)
def _cliffs(smiles: tuple[str, ...], potency: tuple[float, ...], unit: str, min_sim: float) -> cliffs.CliffResult:
    return cliffs.find_cliffs(list(smiles), list(potency), unit, min_similarity=min_sim)


@st.cache_data(show_spinner=False, max_entries=64)
def _pair_svgs(a: str, b: str) -> tuple[str, str]:
    diff_a, diff_b = cliffs.pair_difference(a, b)
    return (
        depict_svg(Chem.MolFromSmiles(a), width=380, height=280, highlight_atoms=diff_a),
        depict_svg(Chem.MolFromSmiles(b), width=380, height=280, highlight_atoms=diff_b),
    )


source = st.radio("Data", ["MoleculeACE target", "Upload a CSV"], horizontal=True, key="cliff_source")
dataset_key = ""
frame = None
if source == "MoleculeACE target":
    targets = _targets()
    target = st.selectbox(
        "Target", targets, index=targets.index("CHEMBL2835_Ki") if "CHEMBL2835_Ki" in targets else 0, key="target"
    )
    raw = _target_frame(target)
    frame = pd.DataFrame({"smiles": raw["smiles"], "potency": raw["potency"], "split": raw["split"]})
    unit, dataset_key = "nM", target
else:
    target = None
    upload = st.file_uploader("CSV with SMILES and potency", type=["csv"], key="cliff_upload")
    if upload is not None:
        table = pd.read_csv(io.BytesIO(upload.getvalue()))
        cols = list(table.columns)
        left, mid, right = st.columns(3)
        smiles_col = left.selectbox(
            "SMILES column", cols, index=cols.index("smiles") if "smiles" in cols else 0, key="up_smiles"
        )
        numeric = [c for c in cols if c != smiles_col and table[c].dtype.kind in "fi"] or cols
        potency_col = mid.selectbox("Potency column", numeric, key="up_potency")
        unit = right.radio("Unit", ["nM", "pActivity"], key="up_unit", help="nM for Ki / IC50 / EC50")
        frame = pd.DataFrame(
            {"smiles": table[smiles_col].astype(str), "potency": pd.to_numeric(table[potency_col], errors="coerce")}
        )
        if "split" in table.columns:
            frame["split"] = table["split"]
        dataset_key = f"upload:{upload.name}:{len(table)}:{smiles_col}:{potency_col}:{unit}"
    else:
        st.info("Upload a CSV with a SMILES column and a potency column (MoleculeACE's files work as they are).")

if frame is not None:
    min_sim = st.slider(
        "Show pairs down to similarity", 0.7, 0.9, 0.85, 0.05, key="min_sim", help="for the SAS map; cliffs use 0.9"
    )
    result = _cliffs(tuple(frame["smiles"]), tuple(frame["potency"].astype(float)), unit, min_sim)
    pairs = result.pairs
    cliff_pairs = result.cliffs
    bad = sum(1 for e in result.errors if e)
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Molecules", len(frame))
    c2.metric("Cliff pairs", len(cliff_pairs))
    c3.metric("Cliff molecules", int(result.cliff_mol.sum()))
    if target:
        agree = float(np.mean(result.cliff_mol == raw["cliff_mol"].astype(bool).to_numpy()))
        c4.metric("Agreement with MoleculeACE cliff_mol", f"{agree:.1%}")
    elif bad:
        c4.metric("Rows left out", bad)
        st.warning(f"{bad} rows were left out (unparsable SMILES or missing potency).")

    tab_map, tab_table, tab_net, tab_models = st.tabs(["SAS map & pair", "Cliff pairs", "Cliff network", "Models"])

    with tab_map:
        sim_col = st.radio("Similarity on the x axis", list(cliffs.SIMILARITY_COLUMNS), horizontal=True, key="sas_x")
        shown = pairs
        if len(shown) > 20_000:  # keep the browser responsive: every cliff plus a fixed sample of the rest
            rest = shown[~shown["is_cliff"]].sample(20_000 - int(shown["is_cliff"].sum()), random_state=0)
            shown = pd.concat([shown[shown["is_cliff"]], rest]).sort_index()
            st.caption(f"Showing all {int(pairs['is_cliff'].sum())} cliffs and a sample, 20,000 of {len(pairs)} pairs.")
        fig = px.scatter(
            shown.reset_index(),
            x=sim_col,
            y="delta_p",
            color="sali",
            symbol="is_cliff",
            color_continuous_scale="Viridis",
            hover_data={"index": True, "fold_change": ":.1f", "smiles_i": True, "smiles_j": True},
            labels={"delta_p": "|Δ pActivity|", sim_col: f"{sim_col} similarity", "sali": "SALI"},
            render_mode="webgl",
        )
        fig.add_hline(y=1.0, line_dash="dot", annotation_text="10-fold")
        fig.update_layout(height=430, margin={"t": 20})
        event = st.plotly_chart(fig, on_select="rerun", selection_mode="points", key="sas_map")
        picked = None
        points = (event or {}).get("selection", {}).get("points", []) if isinstance(event, dict) else []
        if not points and hasattr(event, "selection"):
            points = event.selection.get("points", [])
        if points:
            custom = points[0].get("customdata")
            if custom:
                picked = int(custom[0])
        ranked = cliff_pairs.sort_values("sali", ascending=False) if len(cliff_pairs) else pairs.head(0)
        if picked is None and len(ranked):
            options = list(ranked.index[:200])
            choice = st.selectbox(
                "Open a cliff pair (highest SALI first; or select a point on the map)",
                options,
                format_func=lambda k: (
                    f"#{k}: fold {ranked.loc[k, 'fold_change']:.0f}, SALI {ranked.loc[k, 'sali']:.1f}"
                ),
                key="pair_choice",
            )
            row = ranked.loc[choice]
        elif picked is not None:
            row = pairs.loc[picked]
        else:
            row = None
            st.info("No cliff pairs in this data set.")
        if row is not None:
            st.subheader("Pair")
            svg_a, svg_b = _pair_svgs(row["smiles_i"], row["smiles_j"])
            left, right = st.columns(2)
            preds = st.session_state.get("cliff_predictions", {}).get(dataset_key)
            for col, svg, side in ((left, svg_a, "i"), (right, svg_b, "j")):
                with col:
                    st.image(svg, width=380)
                    st.code(row[f"smiles_{side}"], language=None)
                    st.markdown(f"**{row[f'potency_{side}_nM']:.3g} nM** · pActivity {row[f'pactivity_{side}']:.2f}")
                    if preds is not None:
                        k = int(row[side])
                        p = preds.iloc[k]
                        models = [c for c in preds.columns if c not in ("smiles", "y", "cliff_mol", "split")]
                        st.dataframe(
                            pd.DataFrame(
                                {
                                    "model": models,
                                    "predicted pActivity": [p[m] + 9 for m in models],
                                    "error": [p[m] - p["y"] for m in models],
                                }
                            ),
                            hide_index=True,
                        )
                        st.caption(f"this molecule is in the {p['split']} split")
            st.markdown(
                f"Fold change **{row['fold_change']:.1f}×** · |Δ pActivity| {row['delta_p']:.2f} · "
                f"Tanimoto {row['tanimoto']:.2f} · scaffold {row['scaffold']:.2f} · "
                f"Levenshtein {row['levenshtein']:.2f} · SALI {row['sali']:.1f}"
            )
            st.caption("Highlighted: atoms outside the maximum common substructure.")
            if preds is None:
                st.caption("Train models in the Models tab to see their predictions for this pair.")

    with tab_table:
        view = cliff_pairs.drop(columns=["is_similar", "is_cliff"]).sort_values("sali", ascending=False)
        st.dataframe(view, hide_index=True, height=420)
        st.download_button("Download cliff pairs (CSV)", view.to_csv(index=False), "cliff_pairs.csv", "text/csv")

    with tab_net:
        nodes, edges = cliffs.cliff_network(result)
        if len(nodes):
            pos = nodes.set_index("index")
            ex, ey = [], []
            for i, j in zip(edges["i"], edges["j"], strict=True):
                ex += [pos.at[i, "x"], pos.at[j, "x"], None]
                ey += [pos.at[i, "y"], pos.at[j, "y"], None]
            net = go.Figure()
            net.add_trace(
                go.Scattergl(x=ex, y=ey, mode="lines", line={"width": 0.5, "color": "#aaa"}, hoverinfo="skip")
            )
            p_act = cliffs.pactivity(frame["potency"].to_numpy()) if unit == "nM" else frame["potency"].to_numpy()
            net.add_trace(
                go.Scattergl(
                    x=nodes["x"],
                    y=nodes["y"],
                    mode="markers",
                    marker={
                        "size": 4 + 2 * np.sqrt(nodes["degree"]),
                        "color": p_act[nodes["index"].to_numpy()],
                        "colorscale": "Viridis",
                        "colorbar": {"title": "pActivity"},
                    },
                    text=[
                        f"{frame['smiles'].iloc[k]}<br>degree {d}"
                        for k, d in zip(nodes["index"], nodes["degree"], strict=True)
                    ],
                    hoverinfo="text",
                )
            )
            net.update_layout(height=520, showlegend=False, xaxis_visible=False, yaxis_visible=False, margin={"t": 10})
            st.plotly_chart(net, key="cliff_net")
            st.caption(f"{len(nodes)} cliff molecules (size: number of cliff partners), {len(edges)} cliffs.")
        else:
            st.info("No cliffs to draw.")

    with tab_models:
        bench = benchmark_scores()
        if target and len(bench) and (bench["dataset"] == target).any():
            sub = bench[bench["dataset"] == target].melt(
                id_vars="model", value_vars=["rmse", "rmse_cliff"], var_name="metric", value_name="RMSE"
            )
            st.plotly_chart(
                px.bar(sub, x="model", y="RMSE", color="metric", barmode="group", height=360),
                key="bench_bars",
            )
            st.caption("From `workbench bench cliffs` (MoleculeACE split, seed 0); see bench/results/cliffs.md.")
        elif target:
            st.caption("The benchmark has no result for this target yet; train models live below.")
        st.markdown("**Train models live** (MoleculeACE's split, or a seeded random 80/20 split for uploads)")
        models = st.multiselect(
            "Models",
            list(qsar.FP_MODELS + qsar.KERNEL_MODELS + qsar.ENSEMBLE_MODELS + qsar.NEURAL_MODELS),
            ["KNN", "SVM", "MLP"],
            key="live_models",
        )
        epochs = st.number_input("Max epochs (MLP, IFM-MLP)", 1, 300, 60, key="live_epochs")
        if st.button("Train", key="live_train", disabled=not models):
            data = qsar.assign_split(frame, seed=0)
            data["y"] = -np.log10(cliffs.potency_nm(data["potency"], unit))  # log10 of molar potency − 9
            data["cliff_mol"] = result.cliff_mol
            data = data[[e == "" for e in result.errors]].reset_index(drop=True)
            bar = st.progress(0.0, text="training…")
            scores, preds = qsar.evaluate(
                data, models, target=target, epochs=int(epochs), ifm_grid=((8.0, 4),),
                progress=lambda f, m: bar.progress(min(f, 1.0), text=m),
            )  # fmt: skip
            bar.progress(1.0, text="done")
            full = pd.DataFrame(index=range(len(frame)), columns=preds.columns)
            full.loc[np.flatnonzero([e == "" for e in result.errors])] = preds.to_numpy()
            st.session_state.setdefault("cliff_predictions", {})[dataset_key] = full
            st.session_state["cliff_scores"] = scores.drop(columns=["params"])
        if "cliff_scores" in st.session_state:
            scores = st.session_state["cliff_scores"]
            st.dataframe(scores, hide_index=True)
            live = scores.melt(id_vars="model", value_vars=["rmse", "rmse_cliff"], var_name="metric", value_name="RMSE")
            st.plotly_chart(px.bar(live, x="model", y="RMSE", color="metric", barmode="group", height=320), key="live")
