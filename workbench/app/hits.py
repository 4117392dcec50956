"""Search hits shown as a grid of depictions with scores, and their CSV/SDF downloads."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from workbench.app.render import plain
from workbench.chem import depict_svg
from workbench.retrieval import hits_to_sdf

__all__ = ["hit_downloads", "hit_grid", "molecule_svg"]


@st.cache_data(show_spinner=False, max_entries=256)
def molecule_svg(smiles: str) -> str:
    """A 220×170 depiction (cached per SMILES)."""
    return depict_svg(smiles, width=220, height=170)  # drawn as written (a library may hold metal complexes)


def hit_grid(hits: pd.DataFrame, columns: int = 5) -> None:
    """Rows of ``columns`` cells: depiction, rank, score (and its percentile among random pairs) and name, the
    description's sentence closest to the query (``snippet``) and the whole description in a popover."""
    for start in range(0, len(hits), columns):
        cells = st.columns(columns)
        for cell, row in zip(cells, hits.iloc[start : start + columns].to_dict("records"), strict=False):
            with cell:
                if row.get("smiles"):
                    st.image(molecule_svg(row["smiles"]), width=220)
                label = str(row.get("name") or "")
                pct = row.get("percentile")
                pct_text = f" ({pct:.1f} pct)" if pct is not None and pct == pct else ""
                st.caption(
                    f"**{row['rank']}.** score {row['score']:.3f}{pct_text}" + (f" · {plain(label)}" if label else "")
                )
                if row.get("snippet"):
                    st.caption(f"“{plain(row['snippet'])}”")
                if row.get("description"):
                    with st.popover("description"):
                        st.markdown(plain(row["description"]))


def hit_downloads(hits: pd.DataFrame, stem: str, key: str) -> None:
    """CSV and SDF download buttons side by side (keys ``{key}_csv`` and ``{key}_sdf``)."""
    a, b = st.columns(2)
    a.download_button("Download CSV", hits.to_csv(index=False), f"{stem}.csv", "text/csv", key=f"{key}_csv")
    b.download_button("Download SDF", hits_to_sdf(hits), f"{stem}.sdf", "chemical/x-mdl-sdfile", key=f"{key}_sdf")
