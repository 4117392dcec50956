"""``workbench screen --engine ray``: the actor-sizing rule, and the same output as the local engine on a local Ray."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_screen import MODEL, SCORE, SMILES, Stop, _csv, _plan
from workbench.cli import main
from workbench.predict.inference import list_models
from workbench.screen import ChunkEvent, actor_sizing, chunks_folder, iter_library, run_ray_screen, run_screen
from workbench.screen.engine import ScreenWorker
from workbench.screen.ray_engine import READ_CPUS, ScreenActor, read_file

#: 40 molecules, two of them not molecules.
LIBRARY = [
    *SMILES,
    "C1CC(",
    "CCOc1ccccc1",
    "CC(C)(C)O",
    "c1ccoc1",
    "CCCCC(=O)O",
    "NCCO",
    "CSC",
    "O=C1CCCC1",
    "CCF",
    "C",
]


@pytest.fixture(scope="module")
def esol():
    return [c for c in list_models() if c.name == MODEL]


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray of 2 CPUs for this module's tests, shut down after them."""
    ray = pytest.importorskip("ray")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    if started:
        ray.shutdown()


# --- the rule for the actors' resources ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cpus", "gpus", "actors", "expected"),
    [
        (2, 0, None, (2, 0.5, 0.0, 1.0)),  # the measured trap: two whole-CPU actors starve the read task
        (1, 0, None, (1, 0.5, 0.0, 0.5)),
        (4, 0, None, (3, 1.0, 0.0, 1.0)),
        (64, 0, None, (63, 1.0, 0.0, 1.0)),
        (16, 2, None, (2, 1.0, 1.0, 1.0)),  # one actor per GPU
        (16, 1, 2, (2, 1.0, 0.5, 1.0)),  # more actors than GPUs: they share
        (2, 0, 4, (4, 0.25, 0.0, 1.0)),  # --workers sets the count, never the rule
    ],
)
def test_actors_always_leave_a_cpu_for_the_read_tasks(cpus, gpus, actors, expected):
    sizing = actor_sizing(cpus, gpus, actors)
    assert (sizing.actors, sizing.cpus_per_actor, sizing.gpus_per_actor, sizing.read_cpus) == expected
    assert sizing.actors * sizing.cpus_per_actor + sizing.read_cpus <= cpus


def test_the_rule_holds_on_any_machine_and_refuses_what_cannot_fit():
    for cpus in (0.5, 1, 1.5, 2, 3, 5, 7.5, 12, 96):
        for actors in (None, 1, 2, 3, 8, 40):
            try:
                sizing = actor_sizing(cpus, 0, actors)
            except ValueError:
                assert actors is not None and (cpus - min(READ_CPUS, cpus / 2)) / actors < 0.01
                continue
            assert sizing.read_cpus > 0 and sizing.cpus_per_actor > 0
            assert sizing.actors * sizing.cpus_per_actor + sizing.read_cpus <= cpus + 1e-9
            assert sizing.threads >= 1
    with pytest.raises(ValueError, match="at least 1"):
        actor_sizing(2, 0, 0)


def test_ray_address_needs_the_ray_engine(tmp_path, capsys):
    lib = _csv(tmp_path / "lib.csv", LIBRARY)
    assert main(["screen", str(lib), "-o", str(tmp_path / "x.parquet"), "--ray-address", "auto"]) == 2
    assert "--ray-address goes with --engine ray" in capsys.readouterr().err


# --- the stages, without Ray ---------------------------------------------------------------------------------------


def test_the_stages_give_the_local_workers_chunks_resume_markers_and_failures(tmp_path, esol, monkeypatch):
    lib = _csv(tmp_path / "lib.csv", LIBRARY)
    plan = _plan(esol)
    chunks = list(iter_library(lib, chunk_size=16))
    done = {chunks[0].chunk_id: chunks[0].digest()}  # finished by an earlier run
    blocks = pd.concat([t.to_pandas() for t in read_file(lib, "lib.csv", 16, None, True, done)], ignore_index=True)
    assert blocks["kind"].tolist() == ["resumed", "chunk", "chunk"]
    assert len(blocks["smiles"][0]) == 0 and list(blocks["smiles"][2]) == LIBRARY[32:]
    out = ScreenActor(plan)(blocks)
    assert out["kind"].tolist() == ["resumed", "chunk", "chunk"] and out["payload"][0] == b""
    worker = ScreenWorker.load(plan)
    for k, errors in ((1, 1), (2, 0)):  # "C1CC(" is row 30
        expected = worker.table(chunks[k])
        assert pq.read_table(pa.BufferReader(out["payload"][k])).equals(expected)
        assert (out["rows"][k], out["errors"][k]) == (expected.num_rows, errors)

    monkeypatch.setenv("WORKBENCH_DEVICE", "cuda:99")  # a device that is not there: the models cannot be loaded
    failed = ScreenActor(plan)(blocks)
    assert failed["kind"].tolist() == ["resumed", "failed", "failed"]
    assert failed["message"][1].startswith("the screening worker could not load its models: device 'cuda:99'")

    broken = tmp_path / "broken.csv.gz"
    broken.write_bytes(b"this is not gzip")
    rows = [t.to_pylist()[0] for t in read_file(broken, "broken.csv.gz", 16, None, True, {})]
    assert [r["kind"] for r in rows] == ["fatal"] and "broken.csv.gz" in rows[0]["message"]
    rows = [t.to_pylist()[0] for t in read_file(broken, "broken.csv.gz", 16, None, False, {})]
    assert [r["kind"] for r in rows] == ["skip"] and rows[0]["message"].startswith("skipped broken.csv.gz")


# --- the same output as the local engine ----------------------------------------------------------------------------


def _folder(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    _csv(folder / "a.csv", LIBRARY[:25])
    pq.write_table(pa.table({"SMILES": LIBRARY[25:]}), folder / "b.parquet")
    (folder / "broken.csv.gz").write_bytes(b"this is not gzip")
    return folder


@pytest.mark.slow
def test_the_ray_cli_writes_the_local_engines_rows_ids_and_errors(tmp_path, esol, local_ray, capsys):
    folder = _folder(tmp_path)
    skipped: list[str] = []
    local = tmp_path / "local.parquet"
    run_screen(
        folder, local, _plan(esol, where="MW > 0 or error != ''"), chunk_size=7, workers=1, on_skip=skipped.append
    )
    out = tmp_path / "ray.parquet"
    args = ["screen", str(folder), "-o", str(out), "--models", MODEL, "--engine", "ray", "--no-progress"]
    assert main([*args, "--chunk-size", "7", "--where", "MW > 0 or error != ''"]) == 0
    err = capsys.readouterr().err
    assert "Ray: 2 actors of 0.5 CPU each, 1 CPU kept for reading" in err
    assert f"{len(LIBRARY)} molecules (2 with an error)" in err and "skipped broken.csv.gz" in err
    assert len(skipped) == 1 and skipped[0] in err  # the same sentence from both engines
    table = pd.read_parquet(out)
    pd.testing.assert_frame_equal(table, pd.read_parquet(local))
    assert out.read_bytes() == local.read_bytes()  # the very same file
    assert table["smiles"].tolist() == LIBRARY
    assert table["source"].tolist() == ["a.csv"] * 25 + ["b.parquet"] * 15
    assert table["row"].tolist() == [*range(25), *range(15)]
    bad = table["smiles"].isin(["not a smiles", "C1CC("])
    assert table.loc[bad, "error"].str.len().gt(0).all() and table.loc[~bad, "error"].eq("").all()
    assert table.loc[bad, SCORE].isna().all() and table.loc[~bad, SCORE].notna().all()
    assert not chunks_folder(out).exists()


@pytest.mark.slow
def test_a_featurize_stage_forced_on_cpus_writes_the_local_engines_file(tmp_path, local_ray, capsys):
    checkpoints = [c for c in list_models() if c.name in (MODEL, "bbbp_gin")]
    lib = _csv(tmp_path / "lib.csv", LIBRARY)
    local = tmp_path / "local.parquet"
    run_screen(lib, local, _plan(checkpoints, where="MW < 300"), chunk_size=9, workers=1)
    out = tmp_path / "staged.parquet"
    args = ["screen", str(lib), "-o", str(out), "--models", f"bbbp_gin,{MODEL}", "--engine", "ray", "--no-progress"]
    assert main([*args, "--chunk-size", "9", "--where", "MW < 300", "--featurize-stage", "on"]) == 0
    err = capsys.readouterr().err
    assert "Ray: 2 actors of 0.25 CPU each after 1 featurizer of 0.5 CPU, 1 CPU kept for reading" in err
    assert out.read_bytes() == local.read_bytes()


def test_the_featurize_stage_needs_the_ray_engine(tmp_path, capsys):
    lib = _csv(tmp_path / "lib.csv", LIBRARY)
    assert main(["screen", str(lib), "-o", str(tmp_path / "x.parquet"), "--featurize-stage", "on"]) == 2
    assert "--featurize-stage goes with --engine ray" in capsys.readouterr().err


@pytest.mark.slow
def test_ray_resumes_a_local_run_and_ranks_the_same_top_rows(tmp_path, esol, local_ray):
    lib = _csv(tmp_path / "lib.csv", LIBRARY)
    plan = _plan(esol, top=8, by=SCORE)
    whole = tmp_path / "whole.parquet"
    run_screen(lib, whole, plan, chunk_size=6, workers=1)
    out = tmp_path / "hits.parquet"

    def stop_after_three(event: ChunkEvent) -> None:
        if event.index == 2:
            raise Stop

    with pytest.raises(Stop):
        run_screen(lib, out, plan, chunk_size=6, workers=1, on_chunk=stop_after_three)
    events: list[ChunkEvent] = []
    summary = run_ray_screen(lib, out, plan, chunk_size=6, resume=True, on_chunk=events.append)
    assert sorted(e.index for e in events if e.resumed) == [0, 1, 2]
    assert sorted(e.index for e in events if not e.resumed) == [3, 4, 5, 6]
    assert summary.rows == len(LIBRARY) and summary.errors == 2 and summary.resumed_chunks == 3
    assert summary.written == 8
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(whole))


def test_a_ray_that_cannot_start_is_a_one_line_error_not_a_traceback(monkeypatch):
    import ray

    from workbench.screen import ray_engine

    def timed_out(**_: object) -> None:
        raise Exception("The current node timed out during startup.")  # what Ray raises on a busy machine

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", timed_out)
    monkeypatch.setattr(ray, "shutdown", lambda: None)
    with pytest.raises(RuntimeError, match=r"could not start a local Ray: The current node timed out.*--engine local"):
        ray_engine.connect(num_cpus=2)
    with pytest.raises(RuntimeError, match="could not join the Ray cluster at auto"):
        ray_engine.connect("auto")
