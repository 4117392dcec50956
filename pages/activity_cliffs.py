"""Activity cliffs: MoleculeACE cliff pairs, SAS map, pair view, cliff network and model comparison."""

import streamlit as st

from workbench import cliffs
from workbench.app.cliff_models import models_panel
from workbench.app.lazy_tabs import lazy_tabs
from workbench.app.render import plain
from workbench.app.upload import CLIFF_LIMITS, table_upload
from workbench.cliffs.columns import ColumnError, cliff_input, column_menu
from workbench.cliffs.figures import network_figure, pair_summary, sas_map_figure
from workbench.cliffs.live import moleculeace_input, pair_predictions
from workbench.cliffs.potency import format_potency
from workbench.cliffs.views import pair_depictions, ranked_cliffs, selected_pair
from workbench.data import list_moleculeace

#: The result tabs; only the open one runs (``st.tabs(..., on_change="rerun")``), the first on a first view.
CLIFF_TABS = ("SAS map & pair", "Cliff pairs", "Cliff network", "Models")

st.title("Activity cliffs")
st.caption(
    "Near-identical molecules with very different potency, found with MoleculeACE's rules: a pair is similar "
    "when ECFP4 Tanimoto, generic-framework Tanimoto or normalised SMILES Levenshtein similarity is ≥ 0.9, "
    "and a cliff when the potency fold change is > 10."
)


@st.cache_data(show_spinner=False)
def _targets() -> list[str]:
    return list_moleculeace()


_target = st.cache_data(show_spinner="Loading the MoleculeACE target…")(moleculeace_input)
_pair_svgs = st.cache_data(show_spinner=False, max_entries=64)(pair_depictions)


@st.cache_data(show_spinner="Finding cliffs…", max_entries=8)
def _analysis(smiles: tuple, potency: tuple, unit: str, min_sim: float, labels: tuple | None) -> cliffs.CliffAnalysis:
    return cliffs.analyse_cliffs(smiles, potency, unit, min_similarity=min_sim, labels=labels)


source = st.radio("Data", ["MoleculeACE target", "Upload a CSV"], horizontal=True, key="cliff_source")
dataset_key, frame, labels = "", None, None
if source == "MoleculeACE target":
    targets = _targets()
    target = st.selectbox(
        "Target", targets, index=targets.index("CHEMBL2835_Ki") if "CHEMBL2835_Ki" in targets else 0, key="target"
    )
    frame, labels = _target(target)
    unit, dataset_key, labels = "nM", target, tuple(labels)
else:
    target = None
    upload = table_upload("CSV with SMILES and potency", key="cliff_upload", limits=CLIFF_LIMITS)
    if upload is not None:
        try:
            table = upload.table
            menu = column_menu(table)
            left, mid, right = st.columns(3)
            smiles_col = left.selectbox("SMILES column", menu.smiles_options, index=menu.smiles_index, key="up_smiles")
            chosen = column_menu(table, smiles_col)  # the potency options follow the SMILES column chosen
            potency_col = mid.selectbox(
                "Potency column", chosen.potency_options, index=chosen.potency_index, key="up_potency"
            )
            unit = right.radio("Unit", ["nM", "pActivity"], key="up_unit", help="nM for Ki / IC50 / EC50")
            if menu.message or chosen.message:
                st.warning(plain(menu.message or chosen.message))
            frame = cliff_input(table, smiles_col, potency_col)
            dataset_key = f"upload:{upload.name}:{len(table)}:{smiles_col}:{potency_col}:{unit}"
        except ColumnError as exc:
            st.error(plain(f"Cannot use {upload.name}: {exc}."))
    else:
        st.info("Upload a CSV with a SMILES column and a potency column (MoleculeACE's files work as they are).")

if frame is not None:
    min_sim = st.slider(
        "Show pairs down to similarity", 0.7, 0.9, 0.85, 0.05, key="min_sim", help="for the SAS map; cliffs use 0.9"
    )
    view = _analysis(tuple(frame["smiles"]), tuple(frame["potency"].astype(float)), unit, min_sim, labels)
    result = view.result
    pairs, cliff_pairs = result.pairs, result.cliffs
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Molecules", len(frame))
    c2.metric("Cliff pairs", len(cliff_pairs))
    c3.metric("Cliff molecules", int(result.cliff_mol.sum()))
    if view.agreement is not None:
        c4.metric("Agreement with MoleculeACE cliff_mol", f"{view.agreement:.1%}")
    elif view.left_out:
        c4.metric("Rows left out", view.left_out)
        st.warning(f"{view.left_out} rows were left out (unparsable SMILES or missing potency).")

    # only the open tab runs and is drawn: a first view draws the SAS map, not four views at once
    keep = {CLIFF_TABS[0]: ("sas_x",), CLIFF_TABS[3]: ("live_models", "live_epochs")}  # kept while closed
    tab_map, tab_table, tab_net, tab_models = lazy_tabs(CLIFF_TABS, key="cliff_tab", keep=keep)
    ranked = ranked_cliffs(result)

    if tab_map.open:
        with tab_map:
            sim_col = st.radio(
                "Similarity on the x axis", list(cliffs.SIMILARITY_COLUMNS), horizontal=True, key="sas_x"
            )
            if view.sas_note:
                st.caption(view.sas_note)
            fig = sas_map_figure(view.sas_pairs, sim_col)
            picked = selected_pair(st.altair_chart(fig, on_select="rerun", key="sas_map", width="stretch"))
            row = None
            if picked is None and len(ranked):
                choice = st.selectbox(
                    "Open a cliff pair (highest SALI first; or select a point on the map)",
                    list(ranked.index[:200]),
                    format_func=lambda k: (
                        f"#{k}: fold {ranked.at[k, 'fold_change']:.0f}, SALI {ranked.at[k, 'sali']:.1f}"
                    ),
                    key="pair_choice",
                )
                row = ranked.loc[choice]
            elif picked is not None:
                row = pairs.loc[picked]
            else:
                st.info("No cliff pairs in this data set.")
            if row is not None:
                st.subheader("Pair")
                svg_a, svg_b = _pair_svgs(row["smiles_i"], row["smiles_j"])
                left, right = st.columns(2)
                preds = st.session_state.get("cliff_predictions", {}).get(dataset_key)
                for col, svg, side in ((left, svg_a, "i"), (right, svg_b, "j")):
                    with col:
                        st.image(svg, width=380)
                        st.markdown(
                            f"`{row[f'smiles_{side}']}`"
                        )  # not st.code: its highlighter chunk cost a new tab ~0.5 s
                        potency = format_potency(row[f"potency_{side}_nM"])
                        st.markdown(f"**{potency}** · pActivity {row[f'pactivity_{side}']:.2f}")
                        if preds is not None:
                            pred_table, split = pair_predictions(preds, int(row[side]))
                            st.dataframe(pred_table, hide_index=True)
                            st.caption(f"this molecule is in the {split} split")
                st.markdown(pair_summary(row))
                st.caption("Highlighted: atoms outside the maximum common substructure.")
                if preds is None:
                    st.caption("Train models in the Models tab to see their predictions for this pair.")

    if tab_table.open:
        with tab_table:
            pair_table = ranked.drop(columns=["is_similar", "is_cliff"])
            st.dataframe(pair_table, hide_index=True, height=420)
            st.download_button(
                "Download cliff pairs (CSV)", pair_table.to_csv(index=False), "cliff_pairs.csv", "text/csv"
            )

    if tab_net.open:
        with tab_net:
            nodes = view.network.nodes
            if len(nodes):
                fig = network_figure(view.network)
                st.altair_chart(fig, key="cliff_net", width="stretch")
                st.caption(
                    f"{len(nodes)} cliff molecules (size: number of cliff partners), {view.network.n_edges} cliffs."
                )
            else:
                st.info("No cliffs to draw.")

    if tab_models.open:
        with tab_models:
            models_panel(frame, result, unit, target, dataset_key)
