"""Streamlit widgets for the 3D conformers page: settings and the offline 3D viewer."""

from __future__ import annotations

import py3Dmol
import streamlit as st

from workbench.conformers import DEFAULT_SEED
from workbench.conformers.view3d import view_html

__all__ = ["FORCE_FIELD_CHOICES", "conformer_settings", "show_viewer"]

FORCE_FIELD_CHOICES = {
    "MMFF94s": "MMFF94s",
    "MMFF94": "MMFF94",
    "UFF": "UFF",
    "none (embedding only)": None,
}


def conformer_settings() -> dict[str, object]:
    """Settings widgets (number of conformers, force field, pruning, seed); returns generate_conformers kwargs."""
    with st.expander("Settings", expanded=False):
        a, b, c, d = st.columns(4)
        n = a.slider("Conformers", 1, 50, 10, key="conf_n", help="conformers to embed; pruning may keep fewer")
        force_field = b.selectbox(
            "Force field",
            list(FORCE_FIELD_CHOICES),
            key="conf_ff",
            help="MMFF94s falls back to UFF when it has no parameters for the molecule",
        )
        prune = c.number_input(
            "Pruning RMSD (Å)",
            0.0,
            3.0,
            0.5,
            0.1,
            key="conf_prune",
            help="heavy-atom RMSD under which two conformers count as one; 0 keeps all",
        )
        seed = d.number_input("Seed", 0, 2**31 - 1, DEFAULT_SEED, 1, key="conf_seed")
    return {"n": int(n), "optimize": FORCE_FIELD_CHOICES[force_field], "prune_rms": float(prune), "seed": int(seed)}


def show_viewer(view: py3Dmol.view, *, height: int = 480) -> None:
    """Render a py3Dmol view in the page with 3Dmol.js inlined (no network).

    ``st.iframe`` with an HTML string is the successor of ``components.v1.html`` (deprecated in
    Streamlit 1.5x): the document goes into the iframe's ``srcdoc``, scripts run, nothing is fetched.
    """
    st.iframe(view_html(view), height=height + 10)
