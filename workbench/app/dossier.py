"""The molecule-dossier download: a "Build dossier" button, then the HTML file to download."""

from __future__ import annotations

import re

import streamlit as st

__all__ = ["dossier_download"]


def _file_name(inchikey: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9-]", "", inchikey)
    return f"dossier-{safe}.html" if safe else "dossier.html"


def dossier_download(smiles: str, models: list[str], key: str) -> None:
    """Build the molecule's dossier when the button is clicked (never on first view), then offer the HTML.

    Nothing heavy is imported before the click: the page's first view stays as fast as without the button.

    Args:
        smiles: the molecule.
        models: the models to include; an empty list means the dossier's default set (chosen on click).
        key: a widget-key prefix unique on the page.
    """
    wanted = (smiles, tuple(models))
    state = f"{key}_html"
    if st.button(
        "Build dossier",
        key=f"{key}_build",
        help="One self-contained HTML page with everything the workbench knows about this molecule: predictions "
        "with their spread and applicability domain, nearest training molecules, approved-drug percentiles, an "
        "attribution map, a 3D conformer and the closest text descriptions.",
    ):
        with st.spinner("Building the dossier (predictions, conformer, descriptions)…"):
            from workbench.report import build_dossier, default_models, render_html  # heavy: only on click

            try:
                dossier = build_dossier(smiles, list(models) or default_models())
            except Exception as exc:  # a widget never shows a traceback
                st.error(f"The dossier could not be built: {' '.join(str(exc).split())}")
                return
        if dossier.error:
            st.error(f"The dossier could not be built: {dossier.error}")
            return
        name = _file_name(dossier.identifiers.get("InChIKey", ""))
        st.session_state[state] = (wanted, render_html(dossier), name, len(dossier.problems))
    stored = st.session_state.get(state)
    if stored is None or stored[0] != wanted:
        return
    _, page, name, problems = stored
    st.download_button("Download dossier (HTML)", page, file_name=name, mime="text/html", key=f"{key}_download")
    if problems:
        st.caption(f"{problems} section(s) of the dossier say why they could not be filled in.")
