"""Streamlit entry point: builds the navigation; every page lives in pages/.

Each page has a hyphenated ``url_path`` (``/property-prediction``). A link by file stem (``/predict``,
``/model_zoo``: the paths of Streamlit's ``pages/`` folder convention) reaches a hidden page that switches
to the real one with the same query, so no link ends in Streamlit's "Page not found" dialog. ``sync_url``
keeps the current molecule in the URL (``?smiles=``) on every page. The tab icon is an emoji (drawn as an
inline SVG): a ``:material/...:`` tab icon would be fetched from a public font server.
"""

from collections.abc import Callable

import streamlit as st

from workbench.app.molecule_input import sync_url
from workbench.app.warmup import page_priority, start_warmup

st.set_page_config(page_title="Molecular ML Workbench", page_icon="🧪", layout="wide")

home = st.Page("pages/home.py", title="Home", icon=":material/home:", default=True, url_path="start")
predict = st.Page(
    "pages/predict.py", title="Property prediction", icon=":material/query_stats:", url_path="property-prediction"
)
train_own_data = st.Page(
    "pages/train_own_data.py",
    title="Train on your data",
    icon=":material/model_training:",
    url_path="train-on-your-data",
)
task_transfer = st.Page(
    "pages/task_transfer.py", title="Task transfer", icon=":material/hub:", url_path="task-transfer"
)
virtual_screening = st.Page(
    "pages/virtual_screening.py",
    title="Virtual screening",
    icon=":material/filter_alt:",
    url_path="virtual-screening",
)
model_zoo = st.Page("pages/model_zoo.py", title="Model zoo", icon=":material/inventory_2:", url_path="model-zoo")
conformers = st.Page(
    "pages/conformers.py", title="3D conformers", icon=":material/view_in_ar:", url_path="3d-conformers"
)
activity_cliffs = st.Page(
    "pages/activity_cliffs.py", title="Activity cliffs", icon=":material/landslide:", url_path="activity-cliffs"
)
ifm_lab = st.Page("pages/ifm_lab.py", title="IFM lab", icon=":material/waves:", url_path="ifm-lab")
text_retrieval = st.Page(
    "pages/text_retrieval.py", title="Text retrieval", icon=":material/manage_search:", url_path="text-retrieval"
)
pretraining_lab = st.Page(
    "pages/pretraining_lab.py", title="Pretraining lab", icon=":material/school:", url_path="pretraining-lab"
)

#: file stem -> page, for links by stem
STEM_LINKS = {
    "home": home,
    "predict": predict,
    "train_own_data": train_own_data,
    "virtual_screening": virtual_screening,
    "task_transfer": task_transfer,
    "model_zoo": model_zoo,
    "conformers": conformers,
    "activity_cliffs": activity_cliffs,
    "ifm_lab": ifm_lab,
    "text_retrieval": text_retrieval,
    "pretraining_lab": pretraining_lab,
}


def _switch_to(target: st.Page) -> Callable[[], None]:
    def switch() -> None:
        st.switch_page(target, query_params=st.query_params.to_dict())

    return switch


stem_pages = [
    st.Page(_switch_to(page), title=page.title, url_path=stem, visibility="hidden") for stem, page in STEM_LINKS.items()
]

sync_url()  # ?smiles= read on the session's first run, written back when the URL lost it
navigation = st.navigation(
    {
        "Start": [home, *stem_pages],
        "Predict": [predict, train_own_data, task_transfer, virtual_screening, model_zoo],
        "Explore": [conformers],
        "Activity cliffs": [activity_cliffs, ifm_lab],
        "Search": [text_retrieval],
        "Learn": [pretraining_lab],
    }
)
start_warmup(navigation.url_path)  # loads the models in a background thread, once per process
with page_priority(navigation.url_path):  # the warm-up waits while a page that needs none of its models runs
    navigation.run()
