"""Training round trips: tiny generated data set → checkpoint → inference with identical outputs."""

from dataclasses import replace

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from tests.data_fixtures import tiny_tables
from workbench.data.prepared import prepare
from workbench.featurizers import mols_to_graphs
from workbench.models import load_card
from workbench.nn import GINPredictor
from workbench.predict import inference
from workbench.train.baselines import BaselineConfig, train_baseline
from workbench.train.finetune import FinetuneConfig, finetune
from workbench.train.run_folder import ConfigMismatchError, RunFolder
from workbench.train.supervised import predict_graphs


@pytest.fixture
def tiny_data(data_dirs, models_dir, few_reference_drugs):
    tiny_tables(data_dirs[0])
    return models_dir


def small_config(dataset, name, **kw):
    return FinetuneConfig(
        dataset=dataset,
        name=name,
        seeds=[0, 1],
        epochs=3,
        patience=5,
        batch_size=16,
        num_layer=2,
        emb_dim=16,
        drop_ratio=0.1,
        **kw,
    )


@pytest.mark.slow
def test_gin_finetune_round_trips_through_inference(tiny_data, tmp_path):
    card = finetune(
        small_config("bbbp", "tiny_gin"),
        models_dir=tiny_data,
        runs_dir=tmp_path / "runs",
        command="workbench train finetune --dataset bbbp",
    )
    assert card.architecture.type == "gin" and card.seeds == (0, 1)
    assert set(card.metrics["test"]["roc_auc"].to_dict()) == {"mean", "std", "per_seed"}
    assert card.split.kind == "scaffold" and sum(card.split.sizes) == 64
    assert card.featurizer.name == "pretrain_gnns_graph" and card.data.sha256
    cost = card.training["cost"]
    assert cost["epochs_run"] == [3, 3] and cost["molecule_epochs"] == 6 * card.split.sizes[0]
    assert cost["wall_seconds"] > 0 and cost["reused_seeds"] == []
    assert load_card(tiny_data / "tiny_gin") == card

    prep = prepare("bbbp")
    test_smiles = [prep.smiles[i] for i in prep.split.test]
    out = inference.predict(test_smiles, ["tiny_gin"])
    # the same members, loaded by hand from the stored (float16) weights
    graphs, _ = mols_to_graphs(prep.mols)
    from workbench.models import load_state_dicts

    probs = []
    for state in load_state_dicts(tiny_data / "tiny_gin", card):
        model = GINPredictor(1, num_layer=2, emb_dim=16, drop_ratio=0.1)
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
        raw = predict_graphs(model, graphs, prep.split.test, torch.device("cpu"))
        probs.append(1 / (1 + np.exp(-raw[:, 0])))
    assert np.allclose(out["tiny_gin:p_np"], np.mean(probs, axis=0), atol=1e-5)
    assert np.allclose(out["tiny_gin:p_np:std"], np.std(probs, axis=0), atol=1e-5)


@pytest.mark.slow
def test_finetune_resumes_a_finished_seed_without_retraining(tiny_data, tmp_path):
    cfg = small_config("bbbp", "tiny_gin")
    first = finetune(cfg, models_dir=tiny_data, runs_dir=tmp_path / "runs")
    run = tmp_path / "runs" / "tiny_gin" / "seed0"
    assert (run / "best.safetensors").exists() and (run / "result.json").exists()
    assert len((run / "log.jsonl").read_text().splitlines()) == 3  # one row per epoch
    again = finetune(cfg, models_dir=tiny_data, runs_dir=tmp_path / "runs")
    assert again.metrics["test"] == first.metrics["test"]
    assert "already finished" in (tmp_path / "runs" / "tiny_gin" / "train.log").read_text()
    assert {p.suffix for p in (tmp_path / "runs").rglob("*") if p.is_file()} <= {
        ".json",
        ".jsonl",
        ".safetensors",
        ".log",
    }


@pytest.mark.slow
def test_finetune_refuses_a_finished_seed_trained_with_other_settings(tiny_data, tmp_path):
    finetune(small_config("bbbp", "tiny_gin", lr=1e-3), models_dir=tiny_data, runs_dir=tmp_path / "runs")
    with pytest.raises(ConfigMismatchError, match=r"lr \(0\.001 -> 0\.01\)") as refused:
        finetune(small_config("bbbp", "tiny_gin", lr=1e-2), models_dir=tiny_data, runs_dir=tmp_path / "runs")
    assert "epochs" not in str(refused.value) and "delete that folder" in str(refused.value)
    # the other seeds and the storage dtype do not decide a member's weights: finished members are reused
    again = replace(small_config("bbbp", "tiny_gin", weights_dtype="float32"), seeds=[1])
    finetune(again, models_dir=tiny_data, runs_dir=tmp_path / "runs")
    assert "seed 1: already finished" in (tmp_path / "runs" / "tiny_gin" / "train.log").read_text()


@pytest.mark.slow
def test_interrupted_finetune_resumes_to_the_same_weights(tiny_data, tmp_path, monkeypatch):
    cfg = replace(small_config("bbbp", "tiny_gin", weights_dtype="float32"), seeds=[1], epochs=4, patience=10)
    whole = finetune(cfg, models_dir=tiny_data / "whole", runs_dir=tmp_path / "whole")
    save_state = RunFolder.save_state

    def crash_after_epoch_1(self, state, generators):
        save_state(self, state, generators)
        if state.epoch == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(RunFolder, "save_state", crash_after_epoch_1)
    with pytest.raises(KeyboardInterrupt):
        finetune(cfg, models_dir=tiny_data / "resumed", runs_dir=tmp_path / "resumed")
    monkeypatch.setattr(RunFolder, "save_state", save_state)
    torch.manual_seed(123)  # the run folder restores every generator, whatever state they are in now
    np.random.seed(123)
    resumed = finetune(cfg, models_dir=tiny_data / "resumed", runs_dir=tmp_path / "resumed")
    assert "resuming at epoch 2" in (tmp_path / "resumed" / "tiny_gin" / "train.log").read_text()
    a = load_file(str(tiny_data / "whole" / "tiny_gin" / "seed1.safetensors"))
    b = load_file(str(tiny_data / "resumed" / "tiny_gin" / "seed1.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert resumed.metrics == whole.metrics


@pytest.mark.slow
def test_regression_targets_are_standardized_and_restored(tiny_data, tmp_path):
    card = finetune(small_config("esol", "tiny_esol"), models_dir=tiny_data, runs_dir=tmp_path / "runs")
    scaling = card.target_scaling
    assert scaling.std[0] > 0 and "rmse" in card.metrics["test"] and "mae" in card.metrics["test"]
    out = inference.predict(["c1ccccc1CCO"], ["tiny_esol"])
    value = out.loc[0, "tiny_esol:log_solubility"]
    assert -5 < value < 3  # in original units, not standardized ones


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["rf", "xgboost"])
def test_classification_baselines_round_trip_without_pickle(tiny_data, kind):
    card = train_baseline(BaselineConfig("bbbp", kind, f"tiny_{kind}", seeds=[0, 1]), models_dir=tiny_data)
    formats = {w.format for w in card.weights}
    assert formats == ({"xgboost-json"} if kind == "xgboost" else {"safetensors"})
    prep = prepare("bbbp")
    out = inference.predict([prep.smiles[i] for i in prep.split.test], [f"tiny_{kind}"])
    from workbench.train.metrics import roc_auc

    ensemble = roc_auc(prep.y[prep.split.test], out[[f"tiny_{kind}:p_np"]].to_numpy())
    assert ensemble > 0.9  # the label is whether the chain ends in N: the fingerprint model must learn it
    assert out[f"tiny_{kind}:p_np"].between(0, 1).all()


@pytest.mark.slow
def test_svr_baseline_is_one_member(tiny_data):
    card = train_baseline(BaselineConfig("esol", "svr", "tiny_svr"), models_dir=tiny_data)
    assert card.seeds == (0,) and card.weights[0].format == "safetensors"
    out = inference.predict(["c1ccccc1CCCO"], ["tiny_svr"])
    assert out.loc[0, "tiny_svr:log_solubility:std"] == 0.0


def test_scaffold_split_leaves_no_scaffold_on_both_sides(tiny_data):
    from workbench.data.splits import murcko_scaffold

    prep = prepare("bbbp")
    sides = [{murcko_scaffold(prep.smiles[i]) for i in part} for part in (prep.split.train, prep.split.test)]
    assert not sides[0] & sides[1]


def test_pickled_init_is_refused(tiny_data, tmp_path):
    bad = tmp_path / "encoder.pth"
    bad.write_bytes(b"pickle")
    with pytest.raises(Exception, match="pickled files are not loaded"):
        finetune(small_config("bbbp", "x", init=str(bad)), models_dir=tiny_data, runs_dir=tmp_path / "runs")


@pytest.mark.slow
def test_unfeaturizable_molecules_are_left_out_and_named_in_the_card(
    data_dirs, models_dir, tmp_path, few_reference_drugs
):
    tiny_tables(data_dirs[0])
    table = data_dirs[0] / "BBBP.csv"
    table.write_text(table.read_text() + "[NH3]->[Pt](Cl)Cl,1\n")  # a dative bond: no graph for it
    card = finetune(small_config("bbbp", "tiny_gin"), models_dir=models_dir, runs_dir=tmp_path / "runs")
    (left_out,) = card.data.unfeaturizable
    assert left_out.row == 64 and "dative" in left_out.reason
    assert sum(card.split.sizes) == card.data.molecules - 1
