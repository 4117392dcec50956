"""Streamlit entry point: builds the navigation; every page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="Molecular ML Workbench", page_icon=":material/science:", layout="wide")

navigation = st.navigation(
    {
        "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
        "Explore": [st.Page("pages/conformers.py", title="3D conformers", icon=":material/view_in_ar:")],
    }
)
navigation.run()
