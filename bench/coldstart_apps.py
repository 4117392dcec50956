"""The reference apps of the cold-start benchmark: Streamlit apps that show one small table, one three-point
Vega-Lite chart (what the pages draw), one three-point Plotly chart (what they drew until the warm times showed
Plotly.js compiling again in every new tab) or one 3Dmol.js viewer of aspirin drawn as the 3D conformers page draws
it (inlined 3Dmol.js in an iframe), and nothing else."""

REFERENCE_APP = 'import streamlit as st\n\nst.dataframe({"a": [1, 2, 3]})\n'
PLOTLY_APP = (
    "import plotly.express as px\nimport streamlit as st\n\nst.plotly_chart(px.scatter(x=[1, 2, 3], y=[1, 3, 2]))\n"
)
ALTAIR_APP = (
    "import altair as alt\nimport pandas as pd\nimport streamlit as st\n\n"
    'st.altair_chart(alt.Chart(pd.DataFrame({"x": [1, 2, 3], "y": [1, 3, 2]})).mark_point().encode(x="x", y="y"))\n'
)
THREEDMOL_APP = (
    "import streamlit as st\n\nfrom workbench.conformers import generate_conformers\n"
    "from workbench.conformers.view3d import ensemble_view, view_html\n\n"
    'st.iframe(view_html(ensemble_view(generate_conformers("CC(=O)Oc1ccccc1C(=O)O", n=1))), height=490)\n'
)
