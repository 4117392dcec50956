"""Streamlit entry point: builds the navigation; every page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="Molecular ML Workbench", page_icon=":material/science:", layout="wide")

navigation = st.navigation(
    {
        "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
    }
)
navigation.run()
