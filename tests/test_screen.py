"""``workbench screen``: library reading, the --where parser, the local engine, resume, top N and the CLI verb."""

from __future__ import annotations

import gzip
import importlib.metadata
import importlib.util
import sys
import types

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from workbench.cli import main
from workbench.predict.inference import list_models
from workbench.screen import (
    ChunkEvent,
    LibraryError,
    UnreadableFileWarning,
    WhereError,
    chunks_folder,
    iter_library,
    moses_path,
    parse_where,
    plan_screen,
    resolve_library,
    run_screen,
)
from workbench.screen import library as library_module

MODEL = "esol_svr"  # the cheapest shipped predictor: an ECFP SVR walked with numpy
SCORE = f"{MODEL}:log_solubility"

SMILES = [
    "CCO",
    "c1ccccc1O",
    "CC(=O)Oc1ccccc1C(=O)O",
    "not a smiles",
    "CCN(CC)CC",
    "C1CCCCC1",
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "O=C(O)c1ccccc1",
    "Clc1ccccc1",
    "CCCCCCCCO",
    "c1ccc2ccccc2c1",
    "CC(=O)Nc1ccc(O)cc1",
    "CN1CCC[C@H]1c1cccnc1",
    "OCC(O)CO",
    "C[C@@H](N)C(=O)O",
    "c1ccncc1",
    "CCOC(=O)C",
    "Cn1cnc2c1c(=O)n(C)c(=O)n2C",
    "FC(F)(F)c1ccccc1",
    "CCCCBr",
    "C1=CC=CC=C1C=O",
    "CC(C)O",
    "OC(=O)CCC(=O)O",
    "[Na+].CC(=O)[O-]",
    "COc1ccccc1",
    "C#N",
    "NC(=O)c1ccccc1",
    "CCCCCC",
    "Oc1ccc(Cl)cc1",
    "C1CCOC1",
]


@pytest.fixture(autouse=True)
def plain_main(monkeypatch):
    """A bare ``__main__`` while a test runs: worker processes start by spawn, which re-runs the parent's main
    script, and an earlier AppTest in the same pytest process leaves the Streamlit app there (as a command-line
    run of ``workbench screen`` never does)."""
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))


@pytest.fixture(scope="module")
def esol():
    return [c for c in list_models() if c.name == MODEL]


def _csv(path, smiles=SMILES, column="smiles"):
    pd.DataFrame({"id": range(len(smiles)), column: smiles}).to_csv(path, index=False)
    return path


def _plan(checkpoints, **options):
    return plan_screen(checkpoints, registered=list_models(), **options)


# --- the --where parser -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('x')", "function call"),
        ("(MW).real > 1", "attribute access"),
        ("abs(MW) > 1", "function call"),
        ("MW[0] > 1", "indexing"),
        ("MW * 2 > 1", "arithmetic"),
        ("MW", "comparison"),
        ("MW in (1, 2)", "'in'"),
        ("lambda: 1", "not a valid filter"),
        ("MW >", "not a valid filter"),
    ],
)
def test_where_refuses_everything_but_comparisons(text, message):
    with pytest.raises(WhereError, match=message):
        parse_where(text)


def test_where_accepts_the_example_and_names_only_the_descriptors_it_needs(esol):
    admet = [c for c in list_models() if c.name == "admet_ai"]
    plan = _plan(admet, where="admet_ai:BBB_Martins > 0.7 and MW < 450")
    assert plan.where.columns == ["admet_ai:BBB_Martins", "MW"]
    assert plan.descriptors == ("MW",)
    assert "admet_ai:BBB_Martins" in plan.columns and "MW" in plan.columns and "QED" not in plan.columns


def test_where_refuses_unknown_columns_before_the_run_naming_them(esol):
    with pytest.raises(WhereError, match=r"unknown column 'esol_svr:log_solubilty'.*'esol_svr:log_solubility'"):
        _plan(esol, where="esol_svr:log_solubilty > 1")
    with pytest.raises(WhereError, match=r"unknown column 'MWT'.*'MW'"):
        _plan(esol, where="MWT < 450")
    with pytest.raises(WhereError, match=r"'bbbp_champion:p_np'.*add it to --models"):
        _plan(esol, where="bbbp_champion:p_np > 0.5")
    with pytest.raises(WhereError, match="unknown column 'nothing' in --by"):
        _plan(esol, top=3, by="nothing")
    with pytest.raises(WhereError, match="go together"):
        _plan(esol, top=3)


def test_where_evaluates_vectorised_with_missing_values_false():
    frame = pd.DataFrame(
        {"a:b": [0.5, np.nan, 2.0, 0.9], "MW": [100.0, 100.0, 600.0, np.nan], "error": ["", "x", "", ""]}
    )
    assert parse_where("a:b > 0.7 or MW < 450").evaluate(frame).tolist() == [True, True, True, True]
    assert parse_where("a:b > 0.7 and MW < 450").evaluate(frame).tolist() == [False, False, False, False]
    assert parse_where("0 < a:b <= 1 and error == ''").evaluate(frame).tolist() == [True, False, False, True]
    assert parse_where("a:b != 0.5").evaluate(frame).tolist() == [False, False, True, True]
    assert parse_where("not (`MW` >= -1e3)").evaluate(frame).tolist() == [False, False, False, True]


# --- library reading ----------------------------------------------------------------------------------------


def test_parquet_and_gzipped_csv_libraries_read_with_sources_and_row_numbers(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    with gzip.open(folder / "a.csv.gz", "wt") as handle:
        pd.DataFrame({"SMILES": SMILES[:7]}).to_csv(handle, index=False)
    pq.write_table(pa.table({"id": range(5), "smiles": SMILES[7:12]}), folder / "b.parquet")
    (folder / "c.smi.gz").write_bytes(gzip.compress(("\n".join(SMILES[12:15]) + "\n").encode()))
    chunks = list(iter_library(folder, chunk_size=3))
    assert [(c.source, c.index, c.first_row, len(c)) for c in chunks] == [
        ("a.csv.gz", 0, 0, 3),
        ("a.csv.gz", 1, 3, 3),
        ("a.csv.gz", 2, 6, 1),
        ("b.parquet", 0, 0, 3),
        ("b.parquet", 1, 3, 2),
        ("c.smi.gz", 0, 0, 3),
    ]
    assert [s for c in chunks for s in c.smiles] == SMILES[:15]
    assert len({c.chunk_id for c in chunks}) == len(chunks)


def test_an_unreadable_file_in_a_folder_is_reported_and_skipped(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    _csv(folder / "good.csv", SMILES[:4])
    (folder / "broken.csv.gz").write_bytes(b"this is not gzip")
    (folder / "notes.doc").write_text("hello")
    with pytest.warns(UnreadableFileWarning) as caught:
        chunks = list(iter_library(folder, chunk_size=10))
    messages = " | ".join(str(w.message) for w in caught)
    assert "broken.csv.gz" in messages and "notes.doc" in messages
    assert [c.source for c in chunks] == ["good.csv"] and chunks[0].smiles == SMILES[:4]
    with pytest.raises(LibraryError, match=r"broken\.csv\.gz"):  # a single file that cannot be read is an error
        list(iter_library(folder / "broken.csv.gz", chunk_size=10))


def test_moses_is_found_without_importing_it_and_missing_molsets_is_explained(monkeypatch):
    import sys

    if importlib.util.find_spec("moses") is not None:
        path = moses_path()
        assert path.name == "train.csv.gz" and path.is_file()
        assert "moses" not in sys.modules
    monkeypatch.setattr(library_module.importlib.util, "find_spec", lambda name: None)

    def missing(name):
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(library_module.importlib.metadata, "files", missing)
    with pytest.raises(LibraryError, match=r"pip install --no-deps molsets==0\.3\.1"):
        resolve_library(name="moses")


# --- the engine ---------------------------------------------------------------------------------------------


def test_one_output_row_per_input_row_in_order_with_errors(tmp_path, esol):
    lib = _csv(tmp_path / "lib.csv")
    out = tmp_path / "hits.parquet"
    summary = run_screen(lib, out, _plan(esol), chunk_size=7, workers=1)
    table = pd.read_parquet(out)
    assert table["smiles"].tolist() == SMILES
    assert table["row"].tolist() == list(range(len(SMILES)))
    assert set(table["source"]) == {"lib.csv"}
    assert list(table.columns) == [
        "source",
        "row",
        "smiles",
        "canonical_smiles",
        SCORE,
        f"{SCORE}:std",
        f"{SCORE}:lo",  # the checkpoint's calibration gives a conformal interval
        f"{SCORE}:hi",
        "error",
        "warnings",
    ]
    ok = table[SCORE].notna()
    assert (
        (table.loc[ok, f"{SCORE}:lo"] < table.loc[ok, SCORE]) & (table.loc[ok, SCORE] < table.loc[ok, f"{SCORE}:hi"])
    ).all()
    bad = table["smiles"] == "not a smiles"
    assert table.loc[bad, "error"].str.len().gt(0).all() and table.loc[bad, SCORE].isna().all()
    assert (table.loc[~bad, "error"] == "").all() and table.loc[~bad, SCORE].notna().all()
    assert "removed fragment" in table.loc[table["smiles"] == "[Na+].CC(=O)[O-]", "warnings"].item()
    assert summary.rows == len(SMILES) and summary.errors == 1 and summary.chunks == 5
    assert not chunks_folder(out).exists()  # removed after a finished run


def test_where_and_top_equal_filtering_and_sorting_the_full_output(tmp_path, esol):
    lib = _csv(tmp_path / "lib.csv")
    out = tmp_path / "hits.parquet"
    run_screen(lib, out, _plan(esol, where="MW > 0"), chunk_size=4, workers=1, keep_chunks=True)
    full = pd.read_parquet(out)
    assert len(full) == len(SMILES) - 1 and "MW" in full.columns  # the bad row has no MW

    def again(**options):  # kept chunks + resume: filter and rank again without predicting again
        events: list[ChunkEvent] = []
        plan = _plan(esol, **options)
        run_screen(lib, out, plan, chunk_size=4, workers=1, keep_chunks=True, resume=True, on_chunk=events.append)
        assert all(e.resumed for e in events)
        return pd.read_parquet(out)

    expected = full[(full[SCORE] > -2) & (full["MW"] < 150)].reset_index(drop=True)
    pd.testing.assert_frame_equal(again(where=f"{SCORE} > -2 and MW < 150"), expected)
    for ascending in (False, True):
        ranked = full.sort_values(SCORE, ascending=ascending, kind="stable").head(6).reset_index(drop=True)
        pd.testing.assert_frame_equal(again(top=6, by=SCORE, ascending=ascending, where="MW > 0"), ranked)


class Stop(Exception):
    """Stands for a kill after some chunks."""


def test_an_interrupted_run_resumes_to_the_same_output_without_recomputing(tmp_path, esol):
    lib = _csv(tmp_path / "lib.csv")
    run_screen(lib, tmp_path / "whole.parquet", _plan(esol), chunk_size=5, workers=1)
    out = tmp_path / "hits.parquet"

    def stop_after_two(event: ChunkEvent) -> None:
        if event.index == 1:
            raise Stop

    with pytest.raises(Stop):
        run_screen(lib, out, _plan(esol), chunk_size=5, workers=1, on_chunk=stop_after_two)
    assert not out.exists() and not list(tmp_path.glob(".hits.parquet.*.partial"))
    folder = chunks_folder(out)
    finished = sorted(folder.glob("*.parquet"))
    assert len(finished) == 2
    stamps = {f.name: f.stat().st_mtime_ns for f in finished}
    with pytest.raises(Exception, match="--resume"):  # a new run does not silently reuse or clear the chunks
        run_screen(lib, out, _plan(esol), chunk_size=5, workers=1)
    with pytest.raises(Exception, match="other settings"):
        run_screen(lib, out, _plan(esol, where="MW > 1"), chunk_size=5, workers=1, resume=True)
    events: list[ChunkEvent] = []
    summary = run_screen(
        lib, out, _plan(esol), chunk_size=5, workers=1, resume=True, keep_chunks=True, on_chunk=events.append
    )
    assert [e.resumed for e in events] == [True, True, False, False, False, False]
    assert {f.name: f.stat().st_mtime_ns for f in finished} == stamps  # not written again
    assert summary.resumed_chunks == 2 and summary.rows == len(SMILES) and summary.errors == 1
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(tmp_path / "whole.parquet"))


def test_resume_keeps_unchanged_chunks_and_recomputes_changed_ones(tmp_path, esol):
    lib = _csv(tmp_path / "lib.csv")
    out = tmp_path / "hits.parquet"
    run_screen(lib, out, _plan(esol), chunk_size=10, workers=1, keep_chunks=True)
    changed = list(SMILES)
    changed[25] = "CCCl"
    _csv(lib, changed)
    events: list[ChunkEvent] = []
    run_screen(lib, out, _plan(esol), chunk_size=10, workers=1, resume=True, on_chunk=events.append)
    assert [e.resumed for e in events] == [True, True, False]
    assert pd.read_parquet(out)["smiles"].tolist() == changed


@pytest.mark.slow
def test_two_worker_processes_stop_resume_and_match_one(tmp_path, esol):
    lib = _csv(tmp_path / "lib.csv")
    run_screen(lib, tmp_path / "one.parquet", _plan(esol, where="QED > 0.3"), chunk_size=4, workers=1)
    out = tmp_path / "two.parquet"

    def stop(event: ChunkEvent) -> None:
        raise Stop

    with pytest.raises(Stop):  # the worker processes are stopped, nothing half-written is left
        run_screen(lib, out, _plan(esol, where="QED > 0.3"), chunk_size=4, workers=2, on_chunk=stop)
    assert not out.exists() and len(list(chunks_folder(out).glob("*.parquet"))) >= 1
    summary = run_screen(lib, out, _plan(esol, where="QED > 0.3"), chunk_size=4, workers=2, resume=True)
    assert summary.resumed_chunks >= 1 and summary.rows == len(SMILES)
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(tmp_path / "one.parquet"))


@pytest.mark.slow
def test_a_prompt_scores_each_molecule_with_the_retrieval_model(tmp_path):
    lib = _csv(tmp_path / "lib.csv", SMILES[:6])
    plan = _plan([], prompt="an analgesic", top=3, by="prompt_score")
    run_screen(lib, tmp_path / "p.parquet", _plan([], prompt="an analgesic"), workers=1)
    scores = pd.read_parquet(tmp_path / "p.parquet")
    assert scores["prompt_score"].isna().tolist() == [s == "not a smiles" for s in SMILES[:6]]
    run_screen(lib, tmp_path / "top.parquet", plan, workers=1)
    ranked = scores.sort_values("prompt_score", ascending=False, kind="stable").head(3).reset_index(drop=True)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "top.parquet"), ranked)


# --- the CLI verb -------------------------------------------------------------------------------------------


def test_cli_screens_a_folder_and_refuses_bad_arguments_before_any_work(tmp_path, capsys):
    folder = tmp_path / "lib"
    folder.mkdir()
    _csv(folder / "a.csv", SMILES[:12])
    pq.write_table(pa.table({"SMILES": SMILES[12:]}), folder / "b.parquet")
    out = tmp_path / "hits.parquet"
    args = ["screen", str(folder), "-o", str(out), "--models", MODEL, "--workers", "1", "--no-progress"]
    assert main([*args, "--where", "MWT < 450"]) == 2
    assert "unknown column 'MWT'" in capsys.readouterr().err and not chunks_folder(out).exists()
    assert main([*args, "--where", "__import__('os').system('echo hacked')"]) == 2
    assert "function call is not allowed" in capsys.readouterr().err
    assert main([*args, "--chunk-size", "5", "--top", "5", "--by", "QED"]) == 0
    err = capsys.readouterr().err
    assert f"{len(SMILES)} molecules (1 with an error)" in err and "5 rows written" in err
    top = pd.read_parquet(out)
    assert len(top) == 5 and top["QED"].is_monotonic_decreasing and set(top["source"]) <= {"a.csv", "b.parquet"}
    assert main(["screen", "-o", str(out)]) == 2
    assert main(["screen", str(folder), "-o", str(folder / "x.parquet")]) == 2
    assert "inside the library folder" in capsys.readouterr().err
