"""Tabs of which only the open one runs, without losing the values of the widgets in the closed ones.

``st.tabs(..., on_change="rerun")`` lets a page run only the open tab (``tab.open``), so a first view draws one
view instead of all of them. Streamlit forgets the value of a widget in any run that does not draw it, so a query
typed in one tab would be back to its default after a visit to another. :func:`lazy_tabs` keeps the values of the
widgets named for each closed tab by writing them back to the session state (Streamlit's documented way to keep a
widget's value across runs that do not draw it). File uploaders, buttons and chart selections cannot be written:
leave them out (an upload in a closed tab is gone when the tab opens again).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import streamlit as st

__all__ = ["keep_values", "lazy_tabs"]


def keep_values(keys: Sequence[str]) -> None:
    """Keep these widgets' values through a run that does not draw them."""
    state = st.session_state
    for key in keys:
        if key in state:
            state[key] = state[key]


def lazy_tabs(labels: Sequence[str], *, key: str, keep: Mapping[str, Sequence[str]] | None = None) -> list:
    """``st.tabs`` where only the open tab runs; ``keep`` maps a tab's label to the keys of its widgets whose
    values survive while the tab is closed. Returns the tab containers (test ``tab.open`` before drawing one)."""
    unknown = set(keep or {}) - set(labels)
    if unknown:
        raise ValueError(f"no tab named {sorted(unknown)}")
    tabs = st.tabs(list(labels), key=key, on_change="rerun")
    for label, tab in zip(labels, tabs, strict=True):
        if not tab.open:
            keep_values((keep or {}).get(label, ()))
    return tabs
