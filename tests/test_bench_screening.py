"""The screening benchmark: its sample, its memory sampler, its report, and one real cell end to end."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from bench import screening
from bench.cells import read_cells


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "library.csv"
    pd.DataFrame({"SMILES": ["CCO", "c1ccccc1O", "CC(=O)O", "CCN(CC)CC", "O=C(O)c1ccccc1", "CCCl"] * 5}).to_csv(
        path, index=False
    )
    return path


def test_the_sample_is_seeded_written_once_and_refuses_more_molecules_than_the_library(tmp_path, source):
    first = screening.sample_library(12, tmp_path / "a", source=source)
    again = screening.sample_library(12, tmp_path / "b", source=source)
    frame = pd.read_csv(first)
    assert list(frame.columns) == ["smiles"] and len(frame) == 12
    assert frame.equals(pd.read_csv(again))  # same seed, same molecules
    assert screening.sample_library(12, tmp_path / "a", source=tmp_path / "missing.csv") == first  # reused
    with pytest.raises(SystemExit, match="more than the library"):
        screening.sample_library(31, tmp_path / "c", source=source)


def test_tree_memory_sees_the_memory_of_a_child_process():
    child = "b = bytearray(300_000_000); import time; time.sleep(2.0)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"
    process = subprocess.Popen([sys.executable, "-c", parent])
    with screening.TreeMemory(process.pid, every=0.1) as memory:
        process.wait()
    assert memory.peak_rss > 250e6  # the grandchild's bytearray is counted
    assert 0 < memory.peak_pss <= memory.peak_rss


def test_screen_commands_name_the_engine_the_workers_and_the_case():
    command = screening.screen_command("lib.csv", "out.parquet", "admet_ai", "ray:2", {"gin": "g", "prompt": "p"})
    assert command[1:4] == ["screen", "lib.csv", "-o"]
    assert command[command.index("--engine") + 1] == "ray" and command[command.index("--workers") + 1] == "2"
    assert "admet_ai:BBB_Martins > 0.8" in command
    full = screening.screen_command(None, "out.parquet", "prompt", "local:1", {"gin": "g", "prompt": "a text"})
    assert full[2:4] == ["--library", "moses"] and full[full.index("--prompt") + 1] == "a text"


def _cells() -> pd.DataFrame:
    base = {"library": "moses_100_seed0.csv", "errors": 0, "molecules": 100, "peak_pss_gb": 0.5, "load_at_start": 0.1}
    rows = [
        {**base, "case": "gin", "setup": "local:1", "wall_s": 10.0, "cli_molecules_per_s": 100.0, "peak_rss_gb": 0.6},
        {**base, "case": "gin", "setup": "local:2", "wall_s": 6.0, "cli_molecules_per_s": 160.0, "peak_rss_gb": 1.0},
        {**base, "case": "gin", "setup": "ray:1", "wall_s": 30.0, "cli_molecules_per_s": 50.0, "peak_rss_gb": 2.0},
    ]
    frame = pd.DataFrame(rows)
    frame["molecules_per_s"] = frame["molecules"] / frame["wall_s"]
    frame["cli_s"], frame["said"], frame["options"] = 1.0, "ok", "gin=g; prompt=p"
    return frame


def test_the_report_has_efficiency_a_labelled_projection_and_says_the_full_run_is_missing():
    text = screening.report(_cells(), command="python -m bench.screening", machine="box (2 CPUs)", cpus=2)
    assert "| local | 2 | 100 | 0 | 6.0 | 17 | 160 | 0.80 |" in text  # 160 / (2 × 100)
    assert "not a measurement" in text
    hours = 10_000_000 / (100 * 2 * 0.8) / 3600
    assert f"| gin | 100 | 0.80 | {hours:,.1f} | {hours / 10:,.1f} | {hours / 100:,.1f} |" in text
    assert "Not run yet" in text


def test_the_full_run_row_is_reported_with_its_memory_verdict():
    full = _cells().iloc[[0]].assign(library="moses (full)", peak_rss_gb=3.5, options="one go", cli_s=4000.0)
    text = screening.report(pd.concat([_cells(), full]), command="c", machine="m", cpus=2)
    assert "| one go | 100 | 0 | 4,000 |" in text and "no (3.50 GB RSS)" in text


def test_a_bad_setup_is_refused(tmp_path):
    with pytest.raises(SystemExit, match="ENGINE:WORKERS"):
        screening.main(["--setups", "gpu:1", "--out", str(tmp_path), "--report-only"])


def test_one_real_cell_runs_a_screen_and_stores_its_figures(tmp_path, source):
    out = tmp_path / "results"
    argv = ["--molecules", "20", "--source", str(source), "--cases", "gin", "--setups", "local:1", "--out", str(out)]
    assert screening.main([*argv, "--work", str(tmp_path / "work")]) == 0
    cells = read_cells(out / "screening.csv")
    assert len(cells) == 1 and cells.loc[0, "molecules"] == 20 and cells.loc[0, "errors"] == 0
    assert cells.loc[0, "peak_rss_gb"] > 0.05 and cells.loc[0, "molecules_per_s"] > 0
    assert screening.main([*argv, "--work", str(tmp_path / "work")]) == 0  # resumes: nothing new to run
    assert len(read_cells(out / "screening.csv")) == 1
    assert "### gin" in (out / "screening.md").read_text()
