"""Streamlit widgets for the 3D conformers page: settings and the offline 3D viewer."""

from __future__ import annotations

import py3Dmol
import streamlit as st

from workbench.conformers import DEFAULT_SEED
from workbench.conformers.view3d import view_html

__all__ = [
    "FORCE_FIELD_CHOICES",
    "STATIC_FOLDER",
    "THREEDMOL_PATH",
    "conformer_settings",
    "served_script",
    "show_viewer",
]

#: Streamlit serves ``<app folder>/static`` (a link to ``workbench/static``) when ``server.enableStaticServing`` is on.
STATIC_FOLDER = "static"
#: The bundled 3Dmol.js inside it.
THREEDMOL_PATH = "3dmol/3Dmol-min.js"

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


def served_script() -> str | None:
    """3Dmol.js's URL on the app's own server, relative to the page (``server.enableStaticServing`` serves the
    repository's ``static/`` folder at ``app/static/``); None where the app does not serve it (then it is inlined)."""
    from workbench.app.serve import APP

    if not st.get_option("server.enableStaticServing"):
        return None
    served = APP.parent / STATIC_FOLDER / THREEDMOL_PATH
    return f"app/{STATIC_FOLDER}/{THREEDMOL_PATH}" if served.is_file() else None


def show_viewer(view: py3Dmol.view, *, height: int = 480) -> None:
    """Render a py3Dmol view in the page; 3Dmol.js comes from the app's own server, or inlined (no network).

    ``st.iframe`` with an HTML string is the successor of ``components.v1.html`` (deprecated in
    Streamlit 1.5x): the document goes into the iframe's ``srcdoc`` (same origin as the page), scripts run.
    A served 3Dmol.js is cached by the browser: a new tab or a redraw does not receive and parse 0.5 MB again.
    """
    st.iframe(view_html(view, script_src=served_script()), height=height + 10)
