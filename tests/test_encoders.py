"""Pretrained encoders at inference (workbench.encoders): load, embed, map, neighbours, loss curves, comparison."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from safetensors.torch import save_file

from workbench.encoders.comparison import PUBLISHED, comparison_table
from workbench.encoders.curves import LOSS_CURVE_FILE, add_loss_curve, find_run, loss_curve, loss_curve_means, main
from workbench.encoders.maps import embedding_map, embedding_neighbours, tanimoto_neighbours
from workbench.encoders.model import embed, list_encoders, load_encoder, random_encoder
from workbench.featurizers import GRAPH_FEATURIZER, featurizer_spec
from workbench.models import CheckpointError, load_card, write_card
from workbench.nn import GIN

SMILES = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O", "CCN(CC)CC", "C1CCCCC1"]


def save_tiny_encoder(folder: Path, name: str = "tiny", seed: int = 0) -> Path:
    """A 2 × 8 GIN saved as a shipped encoder would be: ``gnn.*`` float16 safetensors + a ``gin_encoder`` card."""
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(seed)
    state = {f"gnn.{k}": v.half() if v.is_floating_point() else v for k, v in GIN(2, 8, 0.0).state_dict().items()}
    save_file(state, str(folder / "encoder.safetensors"))
    card = {
        "name": name,
        "group": "Pretrained encoders",
        "architecture": {
            "type": "gin_encoder",
            "config": {"num_layer": 2, "emb_dim": 8, "drop_ratio": 0.0, "jk": "last", "weights_dtype": "float16"},
        },
        "featurizer": featurizer_spec(GRAPH_FEATURIZER),
        "tasks": [{"name": "masked_atom_type", "type": "classification"}],
        "data": {"dataset": "pretraining_corpus", "sha256": "0" * 64, "molecules": 5},
        "split": {"kind": "none"},
        "seeds": [seed],
        "metrics": {},
        "training": {"method": "attrmask", "epochs": 1, "steps": 4, "config_sha256": "ab" * 32},
        "command": "tests/test_encoders.py",
    }
    write_card(folder, card, [{"file": "encoder.safetensors", "format": "safetensors", "seed": seed}])
    return folder


def write_loss_csv(path: Path, steps: int = 120) -> Path:
    """A run's ``loss.csv``: loss = step, accuracy = step / 1000 (so block means are easy to check)."""
    path.mkdir(parents=True, exist_ok=True)
    step = np.arange(1, steps + 1)
    pd.DataFrame(
        {
            "step": step,
            "epoch": (step - 1) // 100,
            "loss": step.astype(float),
            "accuracy": step / 1000,
            "masked_atoms": 10,
            "molecules": 256,
            "train_seconds": step * 0.5,
        }
    ).to_csv(path / "loss.csv", index=False)
    return path


def test_list_encoders_finds_only_gin_encoder_cards(tmp_path):
    save_tiny_encoder(tmp_path / "encoders" / "tiny")
    found = list_encoders([tmp_path])
    assert [c.name for c in found] == ["tiny"]
    assert list_encoders([tmp_path / "empty"]) == []


def test_load_encoder_restores_the_saved_weights_in_float32(tmp_path):
    folder = save_tiny_encoder(tmp_path / "tiny")
    gin = load_encoder(folder)
    assert (gin.num_layer, gin.emb_dim, gin.training) == (2, 8, False)
    torch.manual_seed(0)
    expected = GIN(2, 8, 0.0).state_dict()
    got = gin.state_dict()
    assert got["x_embedding1.weight"].dtype == torch.float32
    assert torch.allclose(got["x_embedding1.weight"], expected["x_embedding1.weight"].half().float())


def test_load_encoder_refuses_modified_weights(tmp_path):
    folder = save_tiny_encoder(tmp_path / "tiny")
    data = bytearray((folder / "encoder.safetensors").read_bytes())
    data[-1] ^= 0xFF
    (folder / "encoder.safetensors").write_bytes(bytes(data))
    with pytest.raises(CheckpointError, match="sha256"):
        load_encoder(folder)


def test_embeddings_have_one_row_per_smiles_are_deterministic_and_nan_for_bad_rows(tmp_path):
    gin = load_encoder(save_tiny_encoder(tmp_path / "tiny"))
    first = embed(gin, [*SMILES, "not a smiles"], batch_size=2)
    again = embed(gin, [*SMILES, "not a smiles"], batch_size=64)
    assert first.shape == (6, 8) and first.dtype == np.float32
    assert np.isfinite(first[:5]).all() and np.isnan(first[5]).all()
    np.testing.assert_allclose(first, again, rtol=1e-5, atol=1e-6)  # batching does not change a molecule's row
    assert not np.allclose(first[0], first[1])


def test_random_encoder_is_seeded_and_leaves_the_global_generator_alone():
    like = GIN(2, 8)
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = random_encoder(like, seed=1), random_encoder(like, seed=1), random_encoder(like, seed=2)
    assert torch.equal(torch.rand(1), before)
    assert (a.num_layer, a.emb_dim) == (2, 8)
    assert torch.equal(a.x_embedding1.weight, b.x_embedding1.weight)
    assert not torch.equal(a.x_embedding1.weight, c.x_embedding1.weight)


def test_embedding_neighbours_rank_by_cosine_and_skip_nan_rows():
    library = np.array([[1.0, 0.0], [0.0, 1.0], [np.nan, np.nan], [1.0, 1.0]])
    idx, sim = embedding_neighbours(np.array([2.0, 0.1]), library, k=5, center=False)
    assert list(idx) == [0, 3, 1]
    assert sim[0] == pytest.approx(2.0 / np.hypot(2.0, 0.1))
    assert np.all(np.diff(sim) <= 0)


def test_centred_neighbours_remove_the_component_every_embedding_shares():
    shared = np.array([100.0, 100.0, 100.0])
    library = shared + np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    query = shared + np.array([0.0, 2.0, 0.0])
    _, raw = embedding_neighbours(query, library, k=3, center=False)
    assert raw.min() > 0.99  # every pair looks identical before centring
    idx, sim = embedding_neighbours(query, library, k=3)
    assert idx[0] == 1 and sim[0] > 0.9 and sim[1] < 0


def test_tanimoto_neighbours_put_the_molecule_itself_first():
    idx, sim = tanimoto_neighbours("CCO", ["c1ccccc1", "CCO", "CCCO"], k=2)
    assert list(idx) == [1, 2] and sim[0] == pytest.approx(1.0) and 0 < sim[1] < 1


@pytest.mark.slow
def test_pca_map_is_two_dimensional_and_seeded():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 6))
    a = embedding_map(x, "pca", seed=0)
    assert a.shape == (20, 2)
    np.testing.assert_allclose(a, embedding_map(x, "pca", seed=0))
    with pytest.raises(ValueError, match="unknown map method"):
        embedding_map(x, "mds")
    with pytest.raises(ValueError, match="three"):
        embedding_map(x[:2], "pca")


def test_loss_curve_means_average_blocks_of_steps(tmp_path):
    frame = pd.read_csv(write_loss_csv(tmp_path) / "loss.csv")
    curve = loss_curve_means(frame, every=50)
    assert list(curve.columns) == ["step", "epoch", "loss", "accuracy"]
    assert list(curve["step"]) == [50, 100, 120]
    assert list(curve["loss"]) == [25.5, 75.5, 110.5]  # means of 1..50, 51..100, 101..120
    assert list(curve["epoch"]) == [0, 0, 1]
    assert curve["accuracy"].iloc[0] == pytest.approx(0.0255)


def test_add_loss_curve_writes_the_file_and_records_its_sha256_in_the_card(tmp_path):
    folder = save_tiny_encoder(tmp_path / "tiny")
    run = write_loss_csv(tmp_path / "run")
    card = add_loss_curve(folder, run)
    record = card.training["loss_curve"]
    assert record["file"] == LOSS_CURVE_FILE and record["points"] == 3 and record["every_steps"] == 50
    assert load_card(folder).training["loss_curve"]["sha256"] == record["sha256"]
    assert load_card(folder).training["steps"] == 4  # the rest of the training record is kept
    assert list(loss_curve(folder)["loss"]) == [25.5, 75.5, 110.5]
    load_encoder(folder)  # weights still verify after the card was rewritten


def test_loss_curve_refuses_a_modified_file_and_reads_run_folders(tmp_path):
    folder = save_tiny_encoder(tmp_path / "tiny")
    assert loss_curve(folder) is None
    run = write_loss_csv(tmp_path / "run")
    assert len(loss_curve(run)) == 3  # a run folder: means of its loss.csv
    add_loss_curve(folder, run)
    (folder / LOSS_CURVE_FILE).write_text("step,loss\n1,0.0\n")
    with pytest.raises(CheckpointError, match="sha256"):
        loss_curve(folder)


def test_loss_curve_command_adds_the_curve_or_says_what_is_missing(tmp_path, capsys):
    folder = save_tiny_encoder(tmp_path / "tiny")
    assert main([str(folder), str(tmp_path / "no-run")]) == 1
    assert "loss.csv does not exist" in capsys.readouterr().err
    assert main([str(folder), str(write_loss_csv(tmp_path / "run"))]) == 0
    assert (folder / LOSS_CURVE_FILE).is_file()


def _cell(dataset: str, arm: str, seed: int, best: float, last: float) -> dict:
    return {"dataset": dataset, "arm": arm, "seed": seed, "metric": "x", "test_at_best_valid": best, "test_last": last}


def test_comparison_table_aggregates_mean_and_sd_per_dataset_and_arm(tmp_path):
    path = tmp_path / "cells.csv"
    rows = [
        _cell("bbbp", "none", 0, 0.60, 0.50),
        _cell("bbbp", "none", 1, 0.70, 0.60),
        _cell("bbbp", "attrmask", 0, 0.80, 0.75),
        _cell("esol", "none", 0, 1.5, 1.7),
    ]
    pd.DataFrame(rows).to_csv(path, index=False)
    table = comparison_table(path)
    assert table.available
    none_bbbp = table.per_dataset.query("dataset == 'bbbp' and arm == 'none'").iloc[0]
    assert none_bbbp["best_valid_mean"] == pytest.approx(65.0)  # ROC-AUC × 100
    assert none_bbbp["best_valid_sd"] == pytest.approx(5.0)  # population sd, as bench/pretraining.md
    assert none_bbbp["last_mean"] == pytest.approx(55.0) and none_bbbp["seeds"] == 2
    esol = table.per_dataset.query("dataset == 'esol'").iloc[0]
    assert esol["metric"] == "RMSE" and esol["best_valid_mean"] == pytest.approx(1.5)  # regression unscaled
    averages = table.averages.set_index("arm")
    assert averages.loc["none", "sets"] == 1 and averages.loc["attrmask", "best_valid"] == pytest.approx(80.0)
    assert dict(zip(table.published["method"], table.published["roc_auc"], strict=True)) == PUBLISHED


def test_every_arm_is_compared_on_the_six_sets_it_runs(tmp_path):
    from workbench.encoders.comparison import EVERY_ARM_SETS, every_arm_table

    path = tmp_path / "cells.csv"
    rows = [_cell(d, "none", 0, 0.60, 0.50) for d in (*EVERY_ARM_SETS, "hiv", "muv")]
    rows += [_cell(d, "molebert", 0, 0.65, 0.45) for d in EVERY_ARM_SETS]
    rows += [_cell(d, "graphmvp", 0, 0.90, 0.90) for d in EVERY_ARM_SETS[:5]]
    pd.DataFrame(rows).to_csv(path, index=False)
    table = comparison_table(path)
    assert table.averages.set_index("arm").loc["molebert", "sets"] == 6  # of 8: not drawn beside the published
    best = every_arm_table(table).set_index("arm")
    assert best.loc["none", "roc_auc"] == pytest.approx(60.0)  # HIV and MUV left out of this average
    assert best.loc["molebert", "vs none"] == pytest.approx(5.0) and best.loc["molebert", "sets"] == "6 of 6"
    assert best.loc["graphmvp", "sets"] == "5 of 6" and pd.isna(best.loc["graphmvp", "roc_auc"])
    assert every_arm_table(table, "last").set_index("arm").loc["molebert", "vs none"] == pytest.approx(-5.0)
    assert every_arm_table(comparison_table(tmp_path / "missing.csv")).empty


def test_comparison_table_without_results_is_empty_but_keeps_the_published_rows(tmp_path):
    for path in (tmp_path / "missing.csv", tmp_path / "empty.csv"):
        if path.name == "empty.csv":
            path.write_text("")
        table = comparison_table(path)
        assert not table.available and table.averages.empty
        assert len(table.published) == len(PUBLISHED)


def test_bench_pretraining_uses_the_library_published_averages():
    import bench.pretraining

    assert bench.pretraining.PUBLISHED is PUBLISHED


@pytest.mark.slow
def test_a_shipped_pretrained_encoder_carries_its_loss_curve_and_embeds(tmp_path):
    from tests.pretrain_helpers import build_tiny_corpus
    from tests.test_train_pretrain import SMILES as CORPUS_SMILES
    from tests.test_train_pretrain import tiny
    from workbench.train.pretrain import pretrain

    corpus = build_tiny_corpus(tmp_path / "corpus", CORPUS_SMILES).path
    out = tmp_path / "models" / "encoders" / "attrmask"
    card = pretrain(tiny(corpus, epochs=1), runs_dir=tmp_path / "runs", out_dir=out, log=lambda _m: 0, bar=False)
    assert card["training"]["loss_curve"]["file"] == LOSS_CURVE_FILE
    curve = loss_curve(out)
    assert list(curve["step"]) == [card["training"]["steps"]] and {"loss", "accuracy"} <= set(curve.columns)
    assert [c.name for c in list_encoders([tmp_path / "models"])] == ["attrmask"]
    assert embed(load_encoder(out), SMILES).shape == (len(SMILES), 32)


def test_reading_the_published_averages_loads_no_torch():
    import subprocess
    import sys

    code = "import sys; from workbench.encoders import PUBLISHED; print('torch' in sys.modules, len(PUBLISHED))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "4"]  # the benchmark's CLI options import it: keep `workbench --help` fast


def test_the_run_folder_is_found_by_the_configuration_sha256_the_card_records(tmp_path, monkeypatch):
    folder = save_tiny_encoder(tmp_path / "models" / "tiny")
    runs = tmp_path / "runs"
    for name, sha in (("other-seed1", "cd" * 32), ("attrmask-5-seed0", "ab" * 32)):
        write_loss_csv(runs / "pretrain" / name)
        (runs / "pretrain" / name / "config.json").write_text(json.dumps({"sha256": sha, "config": {}}))
    assert find_run(folder, runs) == runs / "pretrain" / "attrmask-5-seed0"
    assert find_run(folder, tmp_path / "nowhere") is None
    monkeypatch.chdir(tmp_path)
    assert main([str(folder)]) == 0  # no run folder given: the matching one is used
    assert (folder / LOSS_CURVE_FILE).is_file()


def test_the_loss_figure_marks_a_new_stage_with_a_line_and_puts_accuracies_on_the_right_axis():
    import pandas as pd

    from workbench.encoders.figures import loss_figure

    curve = pd.DataFrame(
        {
            "step": [50, 100, 150, 200],
            "epoch": [0, 0, 1, 1],
            "loss": [3.0, 2.0, -1.0, -2.0],
            "stage": [0, 0.46, 1, 1],  # means over steps: the second point straddles the change
            "accuracy": [0.5, 0.6, 0.7, 0.8],
            "mam": [None, None, 1.0, 0.9],
            "vq": [0.1, 0.05, None, None],
        }
    )
    spec = loss_figure(curve).to_dict()  # Vega-Lite: the left layers, then the accuracies on their own y scale
    assert spec["resolve"]["scale"]["y"] == "independent" and spec["height"] == 300
    left, right = spec["layer"]

    def rows(view: dict) -> list[dict]:
        return spec["datasets"][view["data"]["name"]]

    lines = [v for v in left["layer"] if v["mark"]["type"] == "line"]
    assert {r["series"] for v in lines for r in rows(v)} == {"loss", "mam", "vq"}  # "stage" is not a series
    assert {r["series"] for r in rows(right)} == {"accuracy"} and right["encoding"]["y"]["axis"]["orient"] == "right"
    (rule,) = [v for v in left["layer"] if v["mark"]["type"] == "rule"]
    assert rule["mark"]["strokeDash"] and [r["step"] for r in rows(rule)] == [150.0]  # the first whole stage 1
    (text,) = [v for v in left["layer"] if v["mark"]["type"] == "text"]
    assert [r["text"] for r in rows(text)] == ["stage 1"]
