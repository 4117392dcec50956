"""Home: what the workbench does, one-click example molecules, the molecule's structure and descriptors."""

import streamlit as st

from workbench.app import current_molecule, molecule_input, show_depiction
from workbench.app.descriptors import DESCRIPTOR_HELP, descriptor_frame
from workbench.app.dossier import dossier_download
from workbench.app.molecule_input import QUERY_KEY
from workbench.app.render import plain
from workbench.chem import descriptor_table

#: (page file, title, icon, what it does) — one card each, in the navigation's order
PAGES = (
    (
        "pages/predict.py",
        "Property prediction",
        ":material/query_stats:",
        "Predict ADMET and MoleculeNet properties with the shipped models, with uncertainty, "
        "applicability domain and atom-level explanations.",
    ),
    (
        "pages/train_own_data.py",
        "Train on your data",
        ":material/model_training:",
        "Upload measured values and get a validated, calibrated model with test metrics, ready to predict with.",
    ),
    (
        "pages/task_transfer.py",
        "Task transfer",
        ":material/hub:",
        "Learn an assay with few labels from related assays: single-task vs multi-task vs task-relation transfer.",
    ),
    (
        "pages/virtual_screening.py",
        "Virtual screening",
        ":material/filter_alt:",
        "Screen a library of molecules through the models, filter and rank the hits, download them.",
    ),
    (
        "pages/model_zoo.py",
        "Model zoo",
        ":material/inventory_2:",
        "Every shipped model with its card (data, split, test metrics) and the benchmark against published numbers.",
    ),
    (
        "pages/conformers.py",
        "3D conformers",
        ":material/view_in_ar:",
        "Generate a conformer ensemble with force-field energies and turn it around in 3D.",
    ),
    (
        "pages/activity_cliffs.py",
        "Activity cliffs",
        ":material/landslide:",
        "Find near-identical molecules with very different potency in MoleculeACE targets or your own data.",
    ),
    (
        "pages/ifm_lab.py",
        "IFM lab",
        ":material/waves:",
        "See how the Independent Feature Embedding lets a network fit non-smooth structure–activity data.",
    ),
    (
        "pages/text_retrieval.py",
        "Text retrieval",
        ":material/manage_search:",
        "Find molecules from a description in words, describe a molecule, or screen a library by a prompt.",
    ),
    (
        "pages/pretraining_lab.py",
        "Pretraining lab",
        ":material/school:",
        "See whether self-supervised pretraining of a GIN helps, how the shipped encoders trained, and how "
        "they arrange molecules.",
    ),
)


st.title("Molecular ML Workbench")
st.caption(
    "Enter a molecule as a SMILES or a drug name, or pick an example: every page starts from it, and the "
    "address bar keeps it for a reload or a shared link."
)

molecule_side, pages_side = st.columns([1, 1], gap="large")
with molecule_side:
    parsed = molecule_input()
    if parsed is None:
        st.info("Enter a SMILES string or a drug name, or pick an example.")
    elif not parsed.ok:
        st.error(f"Cannot use this input — {plain(parsed.error)}")
    else:
        show_depiction(parsed.smiles)
        st.code(parsed.smiles, language=None)
        st.caption(f"InChIKey: {parsed.inchikey}")
        dossier_download(parsed.smiles, [], key="home_dossier")

with pages_side:
    st.subheader("What you can do")
    molecule = current_molecule()
    link_query = {QUERY_KEY: molecule["query"]} if molecule else None
    for row in range(0, len(PAGES), 2):
        for column, (path, title, icon, blurb) in zip(st.columns(2), PAGES[row : row + 2], strict=False):
            with column.container(border=True, height="stretch"):
                st.markdown(f"{icon} **{title}**")
                st.caption(blurb)
                # "Open", not the title: the sidebar already has a link named after each page
                st.page_link(path, label="Open", icon=":material/arrow_forward:", query_params=link_query)

if parsed is not None and parsed.ok:
    st.subheader("Descriptors")
    st.dataframe(
        descriptor_frame(parsed.mol),
        hide_index=True,
        column_config={"help": st.column_config.TextColumn("meaning", width="large")},
    )

with st.expander("Descriptors for many molecules"):
    batch = st.text_area("One SMILES per line", key="batch_smiles", height=120)
    if batch.strip():
        table = descriptor_table(batch.splitlines())
        failed = int((table["error"] != "").sum())
        if failed:
            st.warning(f"{failed} of {len(table)} rows could not be used; see the error column.")
        st.dataframe(table, hide_index=True)
        st.download_button("Download CSV", table.to_csv(index=False), "descriptors.csv", "text/csv")
    st.caption("Descriptor definitions: " + "; ".join(f"{k}: {v}" for k, v in DESCRIPTOR_HELP.items()))
