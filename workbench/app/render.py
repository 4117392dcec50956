"""Rendering helpers: molecule depictions, and user text made safe to show inside Markdown."""

from __future__ import annotations

import re
import string

import streamlit as st
from rdkit import Chem

from workbench.chem import depict_svg

__all__ = ["duration_text", "plain", "show_depiction"]

_SPECIAL = re.compile("([" + re.escape(string.punctuation) + "])")
_LINE_BREAKS = re.compile(r"[\r\n\u2028\u2029]+")


def plain(text: object) -> str:
    """``text`` escaped so that Markdown (and HTML inside it) shows it literally, on one line.

    Every ASCII punctuation character gets a backslash (CommonMark renders an escaped character as
    itself), so links, images, emphasis, headings, HTML tags, entities, ``$`` maths and Streamlit's
    ``:color[...]`` directives in names, descriptions, file or column names and SMILES stay text.
    Line breaks become spaces. Use it for every piece of user-supplied text put into ``st.markdown``,
    ``st.caption``, ``st.write``, ``st.info``/``warning``/``error`` and widget labels (not inside code spans).
    """
    return _SPECIAL.sub(r"\\\1", _LINE_BREAKS.sub(" ", str(text)))


@st.cache_data(show_spinner=False, max_entries=256)
def _svg(smiles: str, width: int, height: int) -> str:
    return depict_svg(Chem.MolFromSmiles(smiles), width=width, height=height)


def show_depiction(smiles: str, *, width: int = 420, height: int = 320, caption: str = "") -> None:
    """Draw a molecule's 2D depiction from its canonical SMILES."""
    st.image(_svg(smiles, width, height), width=width, caption=caption or None)


def duration_text(seconds: float) -> str:
    """``45 s``, ``3 min 20 s``, ``2 h 05 min``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
