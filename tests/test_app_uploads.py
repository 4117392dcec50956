"""AppTests of uploads on every page: one sentence for a bad file, UTF-16 read, SMILES column by content, row limits."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.test_app_predict import tiny  # noqa: F401  (fixture: a tiny registered checkpoint)
from tests.test_app_text_retrieval import tiny_shipped  # noqa: F401  (fixture: a tiny retrieval model)
from workbench.app.upload import CLIFF_LIMITS, LIBRARY_LIMITS

ROOT = Path(__file__).resolve().parent.parent
A, B = "CCCCCCCCCCCCCCCO", "CCCCCCCCCCCCCCCN"  # similar; 100-fold apart below: one cliff
IDS_FIRST = b"id,canonical,pIC50\nA1,CCO,5\nA2,c1ccccc1,6\nA3,C1CC(,7\n"
UTF16 = f"name,smiles,pIC50\na,{A},9.0\nb,{B},7.0\nc,c1ccccc1CO,6.0\n".encode("utf-16")


def shown(text: str) -> str:
    """What the user reads: the page escapes Markdown in user-supplied text (workbench.app.render.plain)."""
    return text.replace("\\", "")


def _rows(n: int) -> bytes:
    return b"id,smiles\n" + b"".join(b"%d,CCO\n" % i for i in range(n))


def _molecule_list_script() -> None:
    import streamlit as st

    from workbench.app.molecule_list import molecule_list_input

    molecules = molecule_list_input("pred")
    st.session_state["got"] = (molecules.smiles, molecules.columns.columns.tolist(), len(molecules.columns))


def _molecule_list() -> AppTest:
    st.cache_data.clear()
    at = AppTest.from_function(_molecule_list_script, default_timeout=60)
    at.run()
    at.radio(key="pred_source").set_value("Upload CSV/SDF").run()
    assert not at.exception, at.exception
    return at


def _upload(at: AppTest, key: str, data: bytes, name: str = "mine.csv") -> AppTest:
    at.file_uploader(key=key).upload(name, data, "text/csv").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_prediction_upload_finds_the_smiles_column_by_content_and_lets_the_user_change_it():
    at = _upload(_molecule_list(), "pred_upload", IDS_FIRST, "ids.csv")
    assert at.selectbox(key="pred_upload_column").value == "canonical"
    assert any("SMILES column: canonical (2 of 3 sampled cells are molecules)" in shown(c.value) for c in at.caption)
    smiles, columns, rows = at.session_state["got"]
    assert smiles == ["CCO", "c1ccccc1", "C1CC("] and columns == ["id", "pIC50"] and rows == 3
    at.selectbox(key="pred_upload_column").set_value("id").run()
    assert at.session_state["got"][0] == ["A1", "A2", "A3"]
    assert any("most rows will fail" in shown(w.value) for w in at.warning)  # the user's choice, with its reason
    _upload(at, "pred_upload", b"smiles,x\nCCN,1\n", "next.csv")  # a new file starts from its own column
    assert at.selectbox(key="pred_upload_column").value == "smiles"
    assert at.session_state["got"][0] == ["CCN"]


@pytest.mark.slow
def test_prediction_upload_errors_are_one_sentence_and_utf16_is_read():
    at = _upload(_molecule_list(), "pred_upload", b"", "empty.csv")
    assert [shown(e.value) for e in at.error] == ["empty.csv is empty (0 bytes)."]
    assert at.session_state["got"][0] == []
    _upload(at, "pred_upload", bytes(range(256)) * 8, "binary.csv")
    assert "binary.csv is not a text file" in shown(at.error[0].value)
    _upload(at, "pred_upload", UTF16, "excel.csv")
    assert not at.error and at.session_state["got"][0] == [A, B, "c1ccccc1CO"]


@pytest.mark.slow
def test_prediction_upload_of_331000_rows_is_refused_with_the_command_line():
    at = _upload(_molecule_list(), "pred_upload", _rows(331_000), "big.csv")
    assert [shown(e.value) for e in at.error] == [
        "big.csv has 331,000 rows, more than the 10,000 this page takes at once; split it, or run "
        "`workbench predict big.csv -o predictions.csv` on the command line for all of them."
    ]
    assert at.session_state["got"][0] == []


@pytest.mark.slow
def test_prediction_page_predicts_the_column_found_by_content(tiny):  # noqa: F811
    at = AppTest.from_file(str(ROOT / "pages" / "predict.py"), default_timeout=120)
    at.run()
    at.radio(key="pred_source").set_value("Upload CSV/SDF").run()
    _upload(at, "pred_upload", IDS_FIRST, "ids.csv")
    table = at.session_state["pred_table"]  # what the page predicted, row for row
    assert table["input"].tolist() == ["CCO", "c1ccccc1", "C1CC("]
    assert (table["error"] != "").tolist() == [False, False, True]


def _cliffs() -> AppTest:
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/activity_cliffs.py").run()
    at.radio(key="cliff_source").set_value("Upload a CSV").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_cliffs_upload_errors_utf16_and_the_molecule_cap():
    at = _upload(_cliffs(), "cliff_upload", b"", "empty.csv")
    assert [shown(e.value) for e in at.error] == ["empty.csv is empty (0 bytes)."] and not at.metric
    _upload(at, "cliff_upload", _rows(CLIFF_LIMITS.max_rows + 1), "many.csv")
    assert shown(at.error[0].value).startswith(f"many.csv has {CLIFF_LIMITS.max_rows + 1:,} rows, more than the 5,000")
    assert "`workbench cliffs many.csv -o pairs.csv`" in shown(at.error[0].value) and not at.metric
    _upload(at, "cliff_upload", UTF16, "excel.csv")
    assert not at.error
    assert at.selectbox(key="up_smiles").value == "smiles" and at.selectbox(key="up_potency").value == "pIC50"
    at.radio(key="up_unit").set_value("pActivity").run()
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Molecules"] == "3" and metrics["Cliff pairs"] == "1"


def _retrieval() -> AppTest:
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(ROOT / "pages" / "text_retrieval.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_retrieval_uploads_errors_utf16_and_the_row_limit(tiny_shipped):  # noqa: F811
    at = _retrieval()
    at.text_input(key="tr_query").set_value("The molecule is a naphthalene number 19.").run()  # no examples here
    at.radio(key="tr_library").set_value("upload").run()
    _upload(at, "tr_upload", b"", "empty.csv")
    assert [shown(e.value) for e in at.error] == ["empty.csv is empty (0 bytes)."]
    _upload(at, "tr_upload", _rows(331_000), "big.csv")
    assert shown(at.error[0].value).startswith(f"big.csv has 331,000 rows, more than the {LIBRARY_LIMITS.max_rows:,}")
    assert '`workbench search "TEXT" --library big.csv -k 100 -o hits.csv`' in shown(at.error[0].value)
    _upload(at, "tr_upload", b"id,name,mol\n1,naphthalene,c1ccc2ccccc2c1\n2,ethanol,CCO\n", "lib.csv")
    assert not at.error and at.selectbox(key="tr_upload_column").value == "mol"
    assert set(at.dataframe[0].value["name"]) == {"naphthalene", "ethanol"}  # hits keep the user's columns
    at.session_state["tr_tab"] = "Screening"  # only the open tab runs
    at.run()
    _upload(at, "tr_screen", UTF16, "screen.csv")
    at.text_input(key="tr_prompt").set_value("The molecule is a naphthalene number 19.").run()
    at.button(key="tr_screen_go").click().run()
    assert not at.exception, at.exception
    ranked = at.dataframe[-1].value
    assert sorted(ranked["input"]) == sorted([A, B, "c1ccccc1CO"]) and "name" in ranked.columns
