"""Streamlit entry point: builds the navigation; every page lives in pages/."""

import streamlit as st

st.set_page_config(page_title="Molecular ML Workbench", page_icon=":material/science:", layout="wide")

navigation = st.navigation(
    {
        "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
        "Predict": [
            st.Page("pages/predict.py", title="Property prediction", icon=":material/query_stats:"),
            st.Page("pages/model_zoo.py", title="Model zoo", icon=":material/inventory_2:"),
        ],
        "Explore": [st.Page("pages/conformers.py", title="3D conformers", icon=":material/view_in_ar:")],
        "Activity cliffs": [
            st.Page("pages/activity_cliffs.py", title="Activity cliffs", icon=":material/landslide:"),
            st.Page("pages/ifm_lab.py", title="IFM lab", icon=":material/waves:"),
        ],
    }
)
navigation.run()
