"""Pretraining lab: does pretraining help, how the shipped encoders trained, how they arrange molecules."""

import streamlit as st

from workbench.app import current_molecule
from workbench.app.lazy_tabs import lazy_tabs
from workbench.app.render import plain, show_depiction
from workbench.data import DataUnavailableError
from workbench.encoders.comparison import BENCH_COMMAND, EVERY_ARM_SETS, comparison_table, every_arm_table
from workbench.encoders.curves import find_run, loss_curve
from workbench.encoders.figures import comparison_figure, loss_figure, map_figure
from workbench.encoders.lab import RANDOM_INIT, encoder_maps, neighbour_tables
from workbench.encoders.maps import MAP_DATASETS
from workbench.encoders.model import list_encoders
from workbench.models import CheckpointError

PRETRAIN_COMMAND = "workbench train pretrain --method attrmask --molecules 250000 --epochs 5"
METHODS = {"pca": "PCA", "tsne": "t-SNE"}
MAPS = "pretrain_lab_maps"

st.title("Pretraining lab")
st.caption(
    "A GIN pretrained here on the workbench corpus (self-supervised, e.g. AttrMask) is an initialization for "
    "fine-tuning. This page shows whether it helps, how it trained, and how it arranges molecules."
)

encoders = list_encoders()
folders = tuple(str(c.path) for c in encoders)
if not encoders:
    st.info(
        "No pretrained encoder is shipped yet (models/encoders/ is empty). Make one with "
        f"`{PRETRAIN_COMMAND}` (after `workbench data corpus`); it ships to models/encoders/attrmask."
    )


def _comparison() -> None:
    """Ours beside the published averages."""
    comparison = comparison_table()
    if comparison.available:
        readout = st.radio(
            "Read-out",
            ["best_valid", "last"],
            format_func={"best_valid": "test at the best-validation epoch", "last": "test at the last epoch"}.get,
            horizontal=True,
            key="pretrain_lab_readout",
        )
        st.altair_chart(comparison_figure(comparison, readout), key="pretrain_lab_bars")
        partial = comparison.averages[comparison.averages["sets"] < 8] if len(comparison.averages) else []
        if len(partial):
            st.caption(
                "Not drawn (an average over fewer than the 8 classification sets is not comparable with the published "
                "ones): "
                + ", ".join(f"{a} ({n} of 8 sets)" for a, n in zip(partial["arm"], partial["sets"], strict=True))
                + ". HIV and MUV run only for no pretraining and the best encoder; every arm is compared on the "
                "other six below."
            )
        every_arm = every_arm_table(comparison, readout).round(2)
        st.dataframe(
            every_arm.rename(columns={"roc_auc": "ROC-AUC × 100"}), hide_index=True, key="pretrain_lab_every_arm"
        )
        st.caption(
            f"Every arm over the {len(EVERY_ARM_SETS)} classification sets they all run "
            f"({', '.join(EVERY_ARM_SETS)}; HIV and MUV only for no pretraining and the best encoder): mean test "
            "ROC-AUC × 100, and the difference from no pretraining on the same sets and seeds."
        )
        st.caption(
            "Arm `none` is a GIN fine-tuned from random weights. Published rows: GraphMVP (Liu et al., ICLR 2022), "
            "100 fine-tuning epochs and the paper's own pretraining data, not run here. Per data set (ROC-AUC × 100 "
            "or RMSE; mean and sd over seeds):"
        )
        st.dataframe(comparison.per_dataset.round(3), hide_index=True, key="pretrain_lab_cells")
    else:
        st.info(
            f"No benchmark cell has finished yet ({comparison.source.name} is missing or empty). "
            f"Produce it with `{BENCH_COMMAND}`; the published averages it will be compared with:"
        )
        st.dataframe(comparison.published, hide_index=True, key="pretrain_lab_published")


def _loss_curves() -> None:
    """Each shipped encoder's loss curve, read from its card folder."""
    if not encoders:
        st.caption("A shipped encoder's loss curve appears here.")
    for checkpoint in encoders:
        training = checkpoint.card.training or {}
        st.subheader(plain(checkpoint.name), anchor=False)
        st.text(
            f"{checkpoint.card.data.molecules or 0:,} molecules · {training.get('epochs', '?')} epochs · "
            f"{training.get('steps', '?')} steps · {training.get('molecules_per_s', 0) or 0:,.0f} molecules/s · "
            f"wall time {float(training.get('wall_time_s', 0) or 0) / 3600:.1f} h"
        )
        try:
            curve = loss_curve(checkpoint.path)
        except (CheckpointError, OSError, ValueError) as exc:
            st.warning(str(exc))
            continue
        if curve is None:
            run = find_run(checkpoint.path)
            st.info(
                "This encoder has no loss_curve.csv. Add it from its run folder with "
                f"`python -m workbench.encoders.curves {checkpoint.path} {run or 'runs/pretrain/<run name>'}`."
            )
        else:
            st.altair_chart(loss_figure(curve), key=f"pretrain_lab_loss_{checkpoint.name}")


def _maps_and_neighbours() -> None:
    """A sample mapped to 2D under each encoder, and the current molecule's neighbours in it."""
    st.caption(
        f"A sample of a MoleculeNet set, mean-pooled GIN embeddings under each encoder and a GIN from random weights "
        f"({RANDOM_INIT}) for contrast, mapped to 2D and coloured by the label."
    )
    left, mid, right = st.columns(3)
    dataset = left.selectbox("Data set", MAP_DATASETS, key="pretrain_lab_dataset")
    n = mid.number_input("Molecules", 30, 2000, 300, step=50, key="pretrain_lab_n")
    method = right.radio(
        "Map",
        list(METHODS),
        format_func=METHODS.get,
        horizontal=True,
        key="pretrain_lab_method",
        help="PCA takes about a second; t-SNE (on 50 principal components) takes longer on a busy CPU.",
    )
    _maps = st.cache_data(show_spinner="Embedding and mapping…", max_entries=8)(encoder_maps)
    if st.button("Compute the maps", key="pretrain_lab_compute"):
        try:
            st.session_state[MAPS] = _maps(folders, dataset, int(n), method, 0)
        except DataUnavailableError:
            st.warning(
                f"{dataset} is not on disk here: set WORKBENCH_DATA_DIR to a folder holding it, or pick freesolv."
            )
        except (CheckpointError, OSError, ValueError) as exc:
            st.warning(str(exc))
    maps = st.session_state.get(MAPS)
    if maps is not None:
        st.text(f"{len(maps.molecules)} molecules from {maps.source}")
        columns = st.columns(min(3, len(maps.points)))
        for i, (name, points) in enumerate(maps.points.items()):
            with columns[i % len(columns)]:
                st.altair_chart(map_figure(points, name, maps.classification), key=f"pretrain_lab_map_{i}")

    st.subheader("Neighbours of the current molecule")
    molecule = current_molecule()
    if molecule is None:
        st.info("Choose a molecule on Home to see its nearest neighbours here.")
    elif maps is None:
        st.info("Compute the maps above: the neighbours are looked up in that sample.")
    else:
        st.text(f"Query: {molecule.get('name') or molecule['smiles']}")
        space = st.selectbox("Embedding space", list(maps.embeddings), key="pretrain_lab_space")
        st.caption(
            "Cosine similarity of the embeddings after centring on the sample's mean (mean-pooled GIN embeddings share "
            "a large common part); Tanimoto on ECFP4 (2048 bits). Both search the sample above."
        )
        try:
            cosine, tanimoto = neighbour_tables(molecule["smiles"], maps, space, folders)
        except (CheckpointError, ValueError) as exc:
            st.warning(str(exc))
        else:
            for title, table, label in (
                (f"Nearest in the {plain(space)} space", cosine, "cosine"),
                ("Nearest by ECFP4 Tanimoto", tanimoto, "Tanimoto"),
            ):
                st.subheader(title, anchor=False)
                cells = st.columns(max(1, len(table)))
                for cell, row in zip(cells, table.itertuples(), strict=False):
                    with cell:
                        show_depiction(row.smiles, width=200, height=160, caption=f"{label} {row.similarity:.3f}")


#: Only the open tab runs (``on_change="rerun"``): a first view draws the comparison, not every chart of the page.
TABS = ("Does pretraining help?", "Loss curves", "Embedding maps and neighbours")
KEEP = {TABS[0]: ("pretrain_lab_readout",), TABS[2]: ("pretrain_lab_dataset", "pretrain_lab_n", "pretrain_lab_method")}
for tab, view in zip(
    lazy_tabs(TABS, key="pretrain_lab_tab", keep=KEEP), (_comparison, _loss_curves, _maps_and_neighbours), strict=True
):
    if tab.open:
        with tab:
            view()
