"""Home: enter a molecule, see its structure and descriptors."""

import streamlit as st

from workbench.app import molecule_input, show_depiction
from workbench.app.descriptors import DESCRIPTOR_HELP, descriptor_frame
from workbench.chem import descriptor_table

st.title("Molecular ML Workbench")
st.caption("Paste or draw a molecule. It stays selected while you move between pages.")

parsed = molecule_input()
if parsed is None:
    st.info("Enter a SMILES string or pick an example.")
elif not parsed.ok:
    st.error(f"Cannot use this input — {parsed.error}")
else:
    left, right = st.columns([1, 1])
    with left:
        show_depiction(parsed.smiles)
        st.code(parsed.smiles, language=None)
        st.caption(f"InChIKey: {parsed.inchikey}")
    with right:
        st.subheader("Descriptors")
        st.dataframe(
            descriptor_frame(parsed.mol),
            hide_index=True,
            height=460,
            column_config={"help": st.column_config.TextColumn("meaning", width="medium")},
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
