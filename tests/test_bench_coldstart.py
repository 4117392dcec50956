"""The cold-start benchmark's report: one row per page with its budget verdict, messages, machine and command."""

from __future__ import annotations

import json
from pathlib import Path

from bench import coldstart
from bench.coldstart import PageResult


def _rows() -> list[PageResult]:
    return [
        PageResult("Home", 3.25, 0.5, 15, 2, load_average=1.5, idle_wait_s=12.34, nav_s=0.4),
        PageResult("Property prediction", 12.0, 1.0, 10, 2, load_average=2.0),
        PageResult("Text retrieval", None, None, 15, 2, messages=["This library is not available here"]),
    ]


def test_report_has_one_row_per_page_with_times_budget_and_verdict():
    text = coldstart.format_report(_rows(), machine="box (2 CPUs)", command="workbench bench coldstart")
    table = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| page")]
    assert table == [
        "| Home | 3.2 | 0.5 | 0.4 | 15 / 2 | yes / yes / yes | 12.3 | 1.5 |",
        "| Property prediction | 12.0 | 1.0 | no result | 10 / 2 | no / yes / no |  | 2.0 |",
        "| Text retrieval | no result | no result | no result | 15 / 2 | no / no / no |  |  |",
    ]
    assert "- Text retrieval: This library is not available here" in text
    assert "Machine: box (2 CPUs)." in text and "workbench bench coldstart" in text


def test_within_budget_needs_both_times_inside_their_budgets():
    assert PageResult("p", 15.0, 2.0, 15, 2).within_budget
    assert not PageResult("p", 15.1, 1.0, 15, 2).within_budget
    assert not PageResult("p", 1.0, 2.1, 15, 2).within_budget
    assert not PageResult("p", 1.0, None, 15, 2).within_budget


def test_write_report_writes_markdown_and_json(tmp_path):
    md, js = tmp_path / "out" / "coldstart.md", tmp_path / "coldstart.json"
    coldstart.write_report(_rows(), md, machine="box", command="cmd", note="busy machine", json_path=js)
    assert "busy machine" in md.read_text()
    payload = json.loads(js.read_text())
    assert payload["command"] == "cmd" and [r["page"] for r in payload["rows"]] == [
        "Home",
        "Property prediction",
        "Text retrieval",
    ]
    assert [r["within_budget"] for r in payload["rows"]] == [True, False, False]
    assert payload["rows"][2]["cold_s"] is None


def test_every_page_has_a_result_selector_and_the_predict_page_the_stricter_budget():
    by_name = {spec.name: spec for spec in coldstart.PAGES}
    pages = sorted((Path(__file__).resolve().parents[1] / "pages").glob("*.py"))
    assert len(by_name) == len(pages) == 11 and all(spec.result for spec in coldstart.PAGES)  # every page timed
    assert by_name["Property prediction"].cold_budget_s == coldstart.PREDICT_COLD_BUDGET_S == 10
    assert {spec.cold_budget_s for name, spec in by_name.items() if name != "Property prediction"} == {15}


def test_wait_idle_returns_at_once_when_no_server_serves_the_url():
    assert coldstart.wait_idle("http://127.0.0.1:1", cap_s=5) < 1.0


def test_the_reference_row_has_no_budget_verdict():
    row = PageResult("Reference: a one-table Streamlit app", 2.0, 1.5, 15, 2, reference=True)
    text = coldstart.format_report([row], machine="box", command="c")
    assert "| Reference: a one-table Streamlit app | 2.0 | 1.5 |  | reference |  |  |  |" in text


def test_repeated_runs_give_the_median_with_the_range_and_a_failed_run_is_no_result():
    runs = [
        PageResult("Home", c, w, 15, 2, load_average=1.0, messages=["m"], nav_s=n)
        for c, w, n in ((4.0, 2.5, 0.3), (9.0, 1.5, 0.9), (5.0, 1.8, 0.5))
    ]
    row = coldstart.combine_runs(runs)
    assert (row.cold_s, row.warm_s, row.nav_s) == (5.0, 1.8, 0.5) and row.messages == ["m"] and row.within_budget
    text = coldstart.format_report([row], machine="m", command="c")
    assert "| Home | 5.0 (4.0–9.0) | 1.8 (1.5–2.5) | 0.5 (0.3–0.9) | 15 / 2 | yes / yes / yes |" in text
    runs[1].cold_s = None
    failed = coldstart.combine_runs(runs)
    assert failed.cold_s is None and not failed.within_budget
    assert "| Home | no result |" in coldstart.format_report([failed], machine="m", command="c")
    assert coldstart.combine_runs(runs[:1]).cold_runs == []  # one run: no range
