"""The load benchmark's pure parts: session summaries, budget verdicts, the two report sections, the big CSV."""

from __future__ import annotations

import csv
import io

from bench import load
from bench.load import CpuShare, SessionRun, UploadRun


def _session_runs() -> list[SessionRun]:
    return [
        SessionRun(2, "browser", [12.0, None], 0.4, 1.2e9, 1.5e9, CpuShare(30, 1, 9, 15, 5), 3.0, ["no result"]),
        SessionRun(3, "protocol", [3.0, 5.0, 4.0], 0.0, 1.5e9, 1.6e9, CpuShare(10, 0.5, 5.5, 0.3, 4), None),
        SessionRun(1, "protocol", [1.0], 0.0, 1.5e9, 1.6e9, None, None),
    ]


def test_summary_counts_unanswered_sessions_and_ranges_the_answered_ones():
    assert load.summarize([4.0, None, 1.0, 3.0]) == {"n": 4, "answered": 3, "min": 1.0, "median": 3.0, "max": 4.0}
    assert load.summarize([None]) == {"n": 1, "answered": 0, "min": None, "median": None, "max": None}


def test_sessions_are_within_budget_only_when_every_one_answered_in_time():
    assert SessionRun(2, "browser", [1.0, 20.0], 0, 0, 0).within_budget
    assert not SessionRun(2, "browser", [1.0, 20.1], 0, 0, 0).within_budget
    assert not SessionRun(2, "browser", [1.0, None], 0, 0, 0).within_budget


def test_sessions_section_has_a_row_per_run_the_cpu_split_compute_and_command():
    compute = {
        "models": ["a", "b"],
        "load_s": 3.0,
        "per_molecule_s": [0.2, 0.4, 0.3],
        "cpu_s": [0.2, 0.3, 0.25],
        "cpu_no_domain_s": [0.1, 0.2, 0.15],
    }
    lines = load.format_sessions_section(
        _session_runs(), command="python -m bench.load", machine="box (2 CPUs)", compute=compute, warm_s=40.0
    )
    assert lines[0] == load.LOAD_HEADING and "`python -m bench.load` on box (2 CPUs)." in lines
    rows = [line for line in lines if line.startswith("| 2 |") or line.startswith("| 3 |")]
    assert rows[0] == "| 2 | browser | 1 of 2 | 12.0 | 12.0 | 12.0 | 0.4 | no | 1.20 / 1.50 | 3.0 |"
    assert rows[1] == "| 3 | protocol | 3 of 3 | 3.0 | 4.0 | 5.0 | 0.0 | yes | 1.50 / 1.60 |  |"
    assert rows[2] == "| 2 | browser | 30.0 | 1 s (3 %) | 9 s (30 %) | 15 s (50 %) | 7.5 | 5 s (17 %) |"
    assert rows[3] == "| 3 | protocol | 10.0 | 0 s (5 %) | 6 s (53 %) | 0 s (3 %) | 0.1 | 4 s (39 %) |"
    assert len(rows) == 4 and sum(line.startswith("| 1 |") for line in lines) == 1  # no CPU row without a meter
    text = "\n".join(lines)
    assert "CPU median 0.25 s per molecule (of which the applicability domain 0.10 s), wall median 0.30 s" in text
    assert (
        "Server CPU per session in the protocol runs (page script, models, messages): 3 at once 2.00 s." in text
        and "(40.0 s)" in text
        and "- no result" in text
    )


def test_uploads_section_reports_sentence_peak_and_verdict():
    runs = [
        UploadRun(
            "Text retrieval", 331_000, 20_500_000, "big.csv has 331,000 rows, more than…", 4.2, 1.1e9, 1.3e9, 1.2e9
        ),
        UploadRun("Activity cliffs", 331_000, 20_500_000, None, None, 1.0e9, 3.2e9, 3.1e9),
    ]
    lines = load.format_uploads_section(runs, command="cmd", machine="box")
    assert lines[0] == load.UPLOAD_HEADING
    assert "| Text retrieval | 331,000 | 20.5 | 4.2 | 1.10 / 1.30 / 1.20 | yes |" in lines
    assert "| Activity cliffs | 331,000 | 20.5 | — | 1.00 / 3.20 / 3.10 | no |" in lines
    assert "- Text retrieval: big.csv has 331,000 rows, more than…" in lines
    assert "- Activity cliffs: (none within the timeout)" in lines


def test_big_csv_has_the_rows_asked_for_cycling_the_molecules():
    rows = list(csv.reader(io.StringIO(load.big_csv(["CCO", "c1ccccc1"], 5).decode())))
    assert rows == [["id", "smiles"], ["0", "CCO"], ["1", "c1ccccc1"], ["2", "CCO"], ["3", "c1ccccc1"], ["4", "CCO"]]


def test_sections_splice_into_the_results_file_keeping_the_others():
    text = "# Prediction throughput (CPU)\n\n## Other\n\nkept\n"
    once = load.splice(text, load.LOAD_HEADING, [load.LOAD_HEADING, "", "first", ""])
    twice = load.splice(once, load.LOAD_HEADING, [load.LOAD_HEADING, "", "second", ""])
    assert "## Other\n\nkept" in twice and "second" in twice and "first" not in twice
    assert twice.count(load.LOAD_HEADING) == 1


def test_workbench_bench_load_takes_the_benchmark_options():
    from workbench.cli import build_parser
    from workbench.cli.bench_cmd import run_bench

    args = build_parser().parse_args(
        ["bench", "load", "--sessions", "2", "--clients", "protocol", "--parts", "sessions"]
    )
    assert (
        args.func.func is run_bench
        and args.func.args == ("load",)
        and args.sessions == [2]
        and args.clients == ["protocol"]
    )
    assert args.parts == ["sessions"] and args.out == load.RESULTS


def test_a_browser_run_over_budget_is_explained_by_cpu_costs_and_the_server_alone():
    runs = [
        SessionRun(4, "browser", [30.0, 40.0, 41.0, 42.0], 0, 0, 0, CpuShare(50, 1, 7, 36, 6)),
        SessionRun(4, "protocol", [2.0, 3.0, 3.5, 4.0], 0, 0, 0, CpuShare(5, 0, 6, 0, 1)),
        SessionRun(1, "browser", [3.0], 0, 0, 0, CpuShare(5, 0, 1, 6, 1)),  # within budget: nothing to explain
    ]
    assert load.why_missed(runs, cpus=2) == [
        "",
        "Why 4 browser sessions miss: Chromium on the same 2 CPUs used 36 CPU s (9.0 s a session: Streamlit's "
        "front end building and drawing the page), so even alone on the machine it needs at least 18 s of wall "
        "time for them, against a budget of 20 s; the server used 8 CPU s (2.00 s a session). Without a browser "
        "on the machine, the server answered 4 of 4 sessions in at most 4.0 s (within budget).",
    ]


def test_protocol_request_names_the_page_and_query_and_server_frames_are_read():
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    from workbench.app.protocol import ServerMessage, read_message, run_request

    request = BackMsg()
    request.ParseFromString(run_request("property-prediction", "smiles=CCO"))
    assert request.rerun_script.page_name == "property-prediction"
    assert request.rerun_script.query_string == "smiles=CCO"
    heading = ForwardMsg()
    heading.delta.new_element.heading.body = "This molecule"
    assert read_message(heading.SerializeToString()) == ServerMessage("delta", "heading", "This molecule")
    done = ForwardMsg()
    done.script_finished = 0
    assert read_message(done.SerializeToString()) == ServerMessage("script_finished", "", "")
