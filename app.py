"""Streamlit entry point: builds the navigation; every page lives in pages/.

Each page gets an explicit hyphenated ``url_path``: Streamlit still auto-registers the files in
``pages/`` under their stems (legacy multipage), and a deep link to such a stem would run the page
file without this navigation. Hyphenated paths never collide with those stems.
"""

import streamlit as st

st.set_page_config(page_title="Molecular ML Workbench", page_icon=":material/science:", layout="wide")

navigation = st.navigation(
    {
        "Start": [st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)],
        "Predict": [
            st.Page(
                "pages/predict.py",
                title="Property prediction",
                icon=":material/query_stats:",
                url_path="property-prediction",
            ),
            st.Page("pages/model_zoo.py", title="Model zoo", icon=":material/inventory_2:", url_path="model-zoo"),
        ],
        "Explore": [
            st.Page(
                "pages/conformers.py", title="3D conformers", icon=":material/view_in_ar:", url_path="3d-conformers"
            )
        ],
        "Activity cliffs": [
            st.Page(
                "pages/activity_cliffs.py",
                title="Activity cliffs",
                icon=":material/landslide:",
                url_path="activity-cliffs",
            ),
            st.Page("pages/ifm_lab.py", title="IFM lab", icon=":material/waves:", url_path="ifm-lab"),
        ],
        "Search": [
            st.Page(
                "pages/text_retrieval.py",
                title="Text retrieval",
                icon=":material/manage_search:",
                url_path="text-retrieval",
            )
        ],
    }
)
navigation.run()
