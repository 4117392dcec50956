"""Lazy tabs: only the open tab runs, and the widgets of a closed tab keep their values."""

from __future__ import annotations

import textwrap

from streamlit.testing.v1 import AppTest

SCRIPT = textwrap.dedent(
    """
    import streamlit as st
    from workbench.app.lazy_tabs import lazy_tabs

    a, b = lazy_tabs(["A", "B"], key="tabs", keep={"A": ["q", "n"]} if KEEP else None)
    if a.open:
        with a:
            st.text_input("q", "default", key="q")
            st.slider("n", 1, 10, 3, key="n")
    if b.open:
        with b:
            st.write("tab B ran")
    """
)


def _app(keep: bool) -> AppTest:
    at = AppTest.from_string(f"KEEP = {keep}\n" + SCRIPT)
    at.run()
    assert not at.exception, at.exception
    return at


def _round_trip(at: AppTest) -> AppTest:
    at.text_input(key="q").set_value("mine").run()
    at.slider(key="n").set_value(7).run()
    at.session_state["tabs"] = "B"
    at.run()
    assert [m.value for m in at.markdown] == ["tab B ran"] and not at.text_input  # only the open tab ran
    at.session_state["tabs"] = "A"
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_closed_tab_keeps_its_widgets_values():
    at = _round_trip(_app(keep=True))
    assert at.text_input(key="q").value == "mine" and at.slider(key="n").value == 7
    assert not at.markdown  # tab B does not run while A is open


def test_without_keep_streamlit_forgets_them():  # why the helper exists: this is Streamlit's behaviour
    at = _round_trip(_app(keep=False))
    assert at.text_input(key="q").value == "default" and at.slider(key="n").value == 3


def test_keep_names_only_existing_tabs():
    at = AppTest.from_string(
        "from workbench.app.lazy_tabs import lazy_tabs\nlazy_tabs(['A'], key='t', keep={'Z': ['q']})\n"
    )
    at.run()
    assert at.exception and "no tab named ['Z']" in at.exception[0].value
