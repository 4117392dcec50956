"""Featurizing apart from the networks (a Ray screen's CPU stage): the same predictions as featurizing inside."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.test_screen import _csv, _plan
from tests.test_screen_ray import LIBRARY
from workbench import chem
from workbench.predict.inference import featurize_parsed, featurizes_apart, list_models, load_model, predict_parsed
from workbench.screen import iter_library
from workbench.screen.engine import PreparedChunk, ScreenWorker, prepare_chunk, screen_frame
from workbench.screen.ray_engine import FeaturizeActor, ScreenActor, read_file
from workbench.screen.ray_sizing import staged_sizing
from workbench.screen.staging import StagingError, decode_staged, encode_staged

MOLECULES = ["CCO", "c1ccccc1O", "not a smiles", "CC(=O)Oc1ccccc1C(=O)O", "[Na+].[Cl-]", "C1CCCCC1", "CCN(CC)CC"]


def _same_apart(name: str) -> None:
    model = load_model(name)
    assert featurizes_apart(model)
    parsed = chem.parse(MOLECULES, inchikey=False)
    inside = predict_parsed(parsed, [model], batch_size=3)
    featurized = decode_staged(encode_staged(featurize_parsed(parsed, [model], batch_size=3)))
    apart = predict_parsed(parsed, [model], batch_size=3, featurized=featurized)
    pd.testing.assert_frame_equal(apart, inside)
    assert apart[f"{name}:{model.tasks[0]}"].notna().sum() >= 4


@pytest.mark.parametrize("name", ["esol_svr", "bbbp_gin", "minimol_bbbp", "admet_ai"])
def test_featurized_inputs_survive_staging_and_give_the_same_predictions(name):
    _same_apart(name)


def test_a_booster_baseline_featurized_apart_gives_the_same_predictions(data_dirs, models_dir, few_reference_drugs):
    from tests.data_fixtures import tiny_tables
    from workbench.train.baselines import BaselineConfig, train_baseline

    tiny_tables(data_dirs[0])  # no XGBoost baseline is shipped any more: a tiny one of the same architecture
    train_baseline(BaselineConfig("bbbp", "xgboost", "tiny_xgboost", seeds=[0]), models_dir=models_dir)
    _same_apart("tiny_xgboost")


def test_staging_refuses_what_it_did_not_write_and_objects_it_does_not_know():
    class Other:
        pass

    with pytest.raises(StagingError, match="cannot be staged"):
        encode_staged({"x": Other()})
    with pytest.raises(StagingError, match="cannot be staged"):
        encode_staged(np.array(["text"], dtype=object))
    staged = encode_staged({"rows": np.arange(3), "note": "ok", "nan": float("nan")})
    back = decode_staged(staged)
    assert back["note"] == "ok" and np.isnan(back["nan"]) and back["rows"].tolist() == [0, 1, 2]
    from safetensors.numpy import save

    forged = save({}, metadata={"workbench_staged": '{"dataclass": "Popen", "fields": {"args": "rm"}}'})
    with pytest.raises(StagingError, match="'Popen', which is not a staged type"):
        decode_staged(forged)
    wrong = save({}, metadata={"workbench_staged": '{"dataclass": "LibraryChunk", "fields": {"source": "x"}}'})
    with pytest.raises(StagingError, match="has fields"):
        decode_staged(wrong)
    with pytest.raises(StagingError, match="too short"):
        decode_staged(b"1234")
    with pytest.raises(StagingError, match="safetensors header, over the"):
        decode_staged(b"\xff" * 8 + staged[8:])  # a header length out of range
    with pytest.raises(StagingError):
        decode_staged(staged[:-3])  # truncated


def test_featurized_inputs_for_another_frame_are_refused():
    model = load_model("esol_svr")
    featurized = featurize_parsed(chem.parse(MOLECULES, inchikey=False), [model])
    with pytest.raises(ValueError, match="featurized inputs for 6 molecules, not 2"):
        predict_parsed(chem.parse(["CCO", "CCC"], inchikey=False), [model], featurized=featurized)


def test_a_prepared_chunk_gives_the_rows_of_the_chunk_itself(tmp_path):
    checkpoints = [c for c in list_models() if c.name in ("esol_svr", "bbbp_gin")]
    plan = _plan(checkpoints, where="MW < 300 and esol_svr:log_solubility > -3")
    worker = ScreenWorker.load(plan)
    lib = _csv(tmp_path / "lib.csv", LIBRARY)
    for chunk in iter_library(lib, chunk_size=16):
        prepared = decode_staged(encode_staged(worker.prepare(chunk)))
        assert isinstance(prepared, PreparedChunk) and set(prepared.featurized) == {"esol_svr", "bbbp_gin"}
        expected = screen_frame(chunk, plan, worker.models)
        pd.testing.assert_frame_equal(screen_frame(prepared, plan, worker.models), expected)
        assert expected["MW"].notna().sum() == len(chunk) - int(expected["error"].ne("").sum())
    unfeaturized = prepare_chunk(chunk, plan, worker.models)
    assert unfeaturized.featurized == {}


def test_the_featurize_stage_hands_the_screening_actors_prepared_chunks(tmp_path):
    checkpoints = [c for c in list_models() if c.name in ("esol_svr", "bbbp_gin")]
    plan = _plan(checkpoints)
    lib = _csv(tmp_path / "lib.csv", LIBRARY)
    chunks = list(iter_library(lib, chunk_size=16))
    done = {chunks[0].chunk_id: chunks[0].digest()}
    blocks = pd.concat([t.to_pandas() for t in read_file(lib, "lib.csv", 16, None, True, done)], ignore_index=True)
    featurized = FeaturizeActor(plan)(blocks)
    assert featurized["kind"].tolist() == ["resumed", "chunk", "chunk"]
    assert featurized["prepared"][0] == b"" and len(featurized["prepared"][1]) > 0
    assert len(featurized["smiles"][1]) == 0  # the SMILES travel inside the prepared chunk only
    out = ScreenActor(plan)(featurized)
    worker = ScreenWorker.load(plan)
    for k in (1, 2):
        assert pq.read_table(pa.BufferReader(out["payload"][k])).equals(worker.table(chunks[k]))


def test_a_featurizer_that_cannot_load_its_models_fails_the_chunk_with_its_message(tmp_path, monkeypatch):
    plan = _plan([c for c in list_models() if c.name == "esol_svr"])
    lib = _csv(tmp_path / "lib.csv", LIBRARY[:5])
    blocks = pd.concat([t.to_pandas() for t in read_file(lib, "lib.csv", 16, None, True, {})], ignore_index=True)

    def broken(*args, **kwargs):
        raise OSError("weights unreadable")

    monkeypatch.setattr("workbench.predict.inference.load_model", broken)
    failed = FeaturizeActor(plan)(blocks)
    assert failed["kind"].tolist() == ["failed"]
    assert failed["message"][0] == "the screening worker could not load its models: weights unreadable"
    passed = ScreenActor(plan)(failed)  # the screening actors pass a failed row on as it is
    assert passed["kind"].tolist() == ["failed"] and passed["message"][0] == failed["message"][0]


@pytest.mark.parametrize(
    ("cpus", "gpus", "actors", "expected"),
    [
        (2, 0, None, (2, 0.25, 1, 0.5)),  # forced on a 2-CPU machine: everything still fits beside the read task
        (2, 0, 1, (1, 0.5, 1, 0.5)),
        (16, 1, None, (1, 1.0, 14, 1.0)),  # a GPU node: networks on the GPU, 14 CPUs featurize
        (64, 8, None, (8, 1.0, 55, 1.0)),
        (1, 0, None, (1, 0.25, 1, 0.25)),
    ],
)
def test_the_featurize_stage_leaves_the_read_task_its_cpu(cpus, gpus, actors, expected):
    stages = staged_sizing(cpus, gpus, actors)
    screen = stages.screen
    got = (screen.actors, screen.cpus_per_actor, stages.featurizers, stages.cpus_per_featurizer)
    assert got == expected
    reserved = screen.actors * screen.cpus_per_actor + stages.featurizers * stages.cpus_per_featurizer
    assert reserved + screen.read_cpus <= cpus + 1e-9
    assert np.isclose(screen.read_cpus, min(1.0, cpus / 2))
