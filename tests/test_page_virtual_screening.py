"""AppTests of "Virtual screening": the page renders, MOSES and files above 200,000 molecules get the command lines,
a bad filter or file is one st.error sentence, and a screen of 20 molecules runs in the background to its results.
"""

from __future__ import annotations

import io

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import ROOT, app_test
from tests.test_screen import SMILES
from workbench.app.screening import PAGE_MAX_MOLECULES, ScreenCancelled, ScreenRequest, run_page_screen
from workbench.app.screening_view import screening_registry
from workbench.predict.inference import list_models

pytestmark = pytest.mark.slow

MODEL = "esol_svr"
SCORE = f"{MODEL}:log_solubility"
TINY = ("smiles\n" + "\n".join(SMILES[:20]) + "\n").encode()  # 20 molecules, one of them not a molecule


def shown(text: str) -> str:
    """What the user reads: the page escapes Markdown in user-supplied text (workbench.app.render.plain)."""
    return text.replace("\\", "")


def _has_run_button(at: AppTest) -> bool:
    return "screen_run" in [b.key for b in at.button]


def _upload(at: AppTest, data: bytes, name: str) -> AppTest:
    at.radio(key="screen_library").set_value("upload").run()
    at.file_uploader(key="screen_upload").upload(name, data, "text/csv").run()
    assert not at.exception, at.exception
    return at


def _choose(at: AppTest, *, where: str | None = None, top: int | None = None) -> AppTest:
    at.multiselect(key="screen_models").set_value([MODEL]).run()
    if where is not None:
        at.text_input(key="screen_where").set_value(where).run()
    if top is not None:
        at.number_input(key="screen_top").set_value(top).run()
    assert not at.exception, at.exception
    return at


def test_the_page_renders_with_the_approved_drugs_and_their_command():
    at = app_test("virtual_screening.py")
    assert at.title[0].value == "Virtual screening"
    assert not at.error, [e.value for e in at.error]
    assert at.button(key="screen_run") and not at.button(key="screen_run").disabled
    assert any("approved small-molecule drugs" in c.value for c in at.caption)
    _choose(at, where="MW < 500")
    assert at.code[0].value == (
        f"workbench screen approved_drugs.csv -o hits.parquet --models {MODEL} --where 'MW < 500' --top 100 "
        f"--by {SCORE}"
    )


def test_moses_and_files_above_the_page_limit_get_the_command_lines_not_a_run():
    at = _choose(app_test("virtual_screening.py"), where="MW < 450", top=50)
    at.radio(key="screen_library").set_value("moses").run()
    assert not at.exception and not at.error
    assert not _has_run_button(at)  # the page does not run it
    local = (
        f"workbench screen --library moses -o hits.parquet --models {MODEL} --where 'MW < 450' --top 50 --by {SCORE}"
    )
    assert [c.value for c in at.code] == [local, f"{local} --engine ray"]
    assert any("1,584,663 molecules, more than the 200,000" in shown(i.value) for i in at.info)

    big = b"smiles\n" + b"C\n" * (PAGE_MAX_MOLECULES + 1)
    _upload(at, big, "big.csv")
    assert not at.error and not _has_run_button(at)
    local = f"workbench screen big.csv -o hits.parquet --models {MODEL} --where 'MW < 450' --top 50 --by {SCORE}"
    assert [c.value for c in at.code] == [local, f"{local} --engine ray"]
    assert any("big.csv holds 200,001 molecules" in shown(i.value) for i in at.info)


def test_a_bad_filter_or_file_is_one_error_sentence():
    at = _choose(app_test("virtual_screening.py"), where="MWT < 450")
    assert [shown(e.value) for e in at.error] == ["unknown column 'MWT' in --where; did you mean 'MW'?"]
    assert at.button(key="screen_run").disabled
    at.text_input(key="screen_where").set_value("__import__('os').system('echo hacked')").run()
    assert len(at.error) == 1 and "function call is not allowed" in shown(at.error[0].value)
    at.text_input(key="screen_where").set_value("").run()
    assert not at.error and not at.button(key="screen_run").disabled

    _upload(at, b"", "empty.csv")
    assert [shown(e.value) for e in at.error] == ["empty.csv is empty (0 bytes)."]
    _upload(at, b"\x00\x01\x02binary" * 50, "blob.csv")
    assert len(at.error) == 1 and not at.exception


def test_twenty_molecules_are_screened_in_the_background_to_histograms_hits_and_downloads():
    at = _upload(app_test("virtual_screening.py"), TINY, "mols.csv")
    _choose(at, top=5)
    assert at.code[0].value == f"workbench screen mols.csv -o hits.parquet --models {MODEL} --top 5 --by {SCORE}"
    at.button(key="screen_run").click().run()
    job_id = at.session_state["screen_job"]
    assert at.query_params["screen_job"] == job_id
    job = screening_registry().get(job_id)
    assert job is not None and job.wait(120)
    at.run()
    assert not at.exception and not at.error, (at.exception, job.error)
    assert any("20 molecules screened (1 with an error)" in shown(c.value) for c in at.caption)
    assert any(f"the top 5 by {SCORE}" in shown(c.value) for c in at.caption)
    assert at.multiselect(key="screen_histograms").value == [SCORE]
    hits = at.dataframe[-1].value
    expected = pd.read_csv(io.BytesIO(TINY))
    expected = expected[expected["smiles"] != "not a smiles"]
    assert len(hits) == 5 and hits[SCORE].is_monotonic_decreasing and set(hits["source"]) == {"mols.csv"}
    assert set(hits["smiles"]) <= set(expected["smiles"])
    assert [b.label for b in at.get("download_button")] == ["Download Parquet", "Download CSV", "Download SDF"]
    assert [shown(c.value) for c in at.caption if c.value.startswith("**1.**")] == [
        f"**1.** {SCORE} {hits[SCORE].iloc[0]:.3g}"
    ]

    second = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)  # a second tab with the run's URL
    second.query_params["screen_job"] = job_id
    second.run()
    second.switch_page("pages/virtual_screening.py").run()
    assert not second.exception and second.session_state["screen_job"] == job_id
    assert second.dataframe[-1].value.equals(hits)


def test_a_cancelled_screen_stops_at_its_next_chunk():
    request = ScreenRequest("upload", "mols.csv", (MODEL,), molecules=20)
    with pytest.raises(ScreenCancelled):
        run_page_screen(request, TINY, list_models(), lambda fraction, message: None, lambda: True)
