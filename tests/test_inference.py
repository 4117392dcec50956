import threading

import numpy as np
import pytest
import torch
from rdkit import Chem

from tests.tiny_model import N_BITS, train_tiny_checkpoint
from workbench.featurizers import ecfp_batch
from workbench.nn import FeatureMLP
from workbench.predict import inference


@pytest.fixture
def tiny(models_dir):
    return train_tiny_checkpoint(models_dir)


def test_device_choice_and_override(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DEVICE", raising=False)
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert inference.get_device().type == expected
    monkeypatch.setenv("WORKBENCH_DEVICE", "cpu")
    assert inference.get_device().type == "cpu"
    if not torch.cuda.is_available():
        monkeypatch.setenv("WORKBENCH_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="CUDA is not available"):
            inference.get_device()


def test_registry_finds_the_trained_model(tiny):
    assert "tiny" in [c.name for c in inference.list_models()]


def test_end_to_end_prediction_aligned_with_input(tiny):
    smiles = ["CCCCN", "not a smiles", "CCCCCCO", "", "c1ccccc1CC"]
    out = inference.predict(smiles, ["tiny"])
    assert len(out) == 5 and out["input"].tolist() == smiles
    assert out.loc[1, "error"] and out.loc[3, "error"] and out.loc[0, "error"] == ""
    assert np.isnan(out.loc[1, "tiny:has_nitrogen"])
    # the model learned its tasks: nitrogen probability and carbon count
    assert out.loc[0, "tiny:has_nitrogen"] > 0.5 > out.loc[2, "tiny:has_nitrogen"]
    assert abs(out.loc[2, "tiny:carbons"] - 6) < 1.5


def test_predictions_equal_the_network_run_directly(tiny, models_dir):
    smiles = ["CCCN", "CCCCCCCO", "c1ccccc1C"]
    out = inference.predict(smiles, ["tiny"])
    from workbench.models import load_state_dicts

    card = tiny
    x = torch.from_numpy(ecfp_batch([Chem.MolFromSmiles(s) for s in smiles], n_bits=N_BITS).astype(np.float32))
    raw = []
    for state in load_state_dicts(models_dir / "tiny", card):
        net = FeatureMLP(**card.architecture.config)
        net.load_state_dict(state)
        raw.append(net.eval()(x).detach().numpy())
    raw = np.stack(raw)
    prob = (1 / (1 + np.exp(-raw[..., 0]))).mean(0)
    carbons = (raw[..., 1] * card.target_scaling.std[1] + card.target_scaling.mean[1]).mean(0)
    assert np.allclose(out["tiny:has_nitrogen"], prob, atol=1e-6)
    assert np.allclose(out["tiny:carbons"], carbons, atol=1e-5)
    member_carbons = raw[..., 1] * card.target_scaling.std[1] + card.target_scaling.mean[1]
    assert np.allclose(out["tiny:carbons:std"], member_carbons.std(axis=0), atol=1e-5)  # the ensemble spread


def test_model_is_loaded_once_and_shared_between_threads(tiny):
    results = []

    def load():
        results.append(inference.load_model("tiny"))

    threads = [threading.Thread(target=load) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({id(r) for r in results}) == 1


def test_progress_callback_and_batching(tiny):
    seen = []
    smiles = ["C" * (i % 8 + 1) + "N" for i in range(50)]
    out = inference.predict(smiles, ["tiny"], batch_size=7, callback=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (50, 50)
    assert out["tiny:has_nitrogen"].notna().all()


def test_pipelined_batches_give_the_same_rows_in_order(tiny):
    smiles = ["C" * (i % 9 + 1) + ("N" if i % 3 else "O") for i in range(40)] + ["bad"]
    whole = inference.predict(smiles, ["tiny"], batch_size=512)
    small = inference.predict(smiles, ["tiny"], batch_size=3)  # featurizing batch k+1 while k runs
    columns = ["tiny:has_nitrogen", "tiny:carbons"]
    assert np.allclose(whole[columns].to_numpy(), small[columns].to_numpy(), atol=1e-6, equal_nan=True)
    assert small["error"].tolist() == whole["error"].tolist()


def test_bf16_precision_is_opt_in_close_to_fp32_and_cached_apart(tiny, monkeypatch):
    smiles = ["CCCN", "CCCCCCCO", "c1ccccc1C"]
    fp32 = inference.load_model("tiny")
    bf16 = inference.load_model("tiny", precision="bf16")
    assert fp32 is not bf16 and bf16.predictor.dtype == torch.bfloat16
    assert next(fp32.predictor.members[0].parameters()).dtype == torch.float32
    a = inference.predict(smiles, [fp32])["tiny:has_nitrogen"].to_numpy()
    b = inference.predict(smiles, [bf16])["tiny:has_nitrogen"].to_numpy()
    assert np.abs(a - b).max() < 0.05
    monkeypatch.setenv("WORKBENCH_PRECISION", "bf16")
    assert inference.load_model("tiny") is bf16
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        inference.load_model("tiny", precision="fp8")


def test_unknown_model_is_a_clear_error(tiny):
    with pytest.raises(KeyError, match="no checkpoint named 'nope'"):
        inference.predict(["CCO"], ["nope"])


def test_tampered_checkpoint_is_refused_at_load(tiny, models_dir):
    weights = models_dir / "tiny" / "seed0.safetensors"
    weights.write_bytes(weights.read_bytes()[:-4] + b"\x00\x00\x00\x00")
    from workbench.models import CheckpointError

    with pytest.raises(CheckpointError):
        inference.load_model("tiny")


def test_default_models_skip_checkpoints_without_a_predictor(tiny, models_dir):
    import dataclasses
    import json
    import shutil

    from workbench.models import load_card

    other = models_dir / "embedder"
    shutil.copytree(models_dir / "tiny", other)
    card = load_card(other)
    architecture = dataclasses.replace(card.architecture, type="dual_encoder")
    embedder = dataclasses.replace(card, name="embedder", architecture=architecture)
    (other / "card.json").write_text(json.dumps(embedder.to_dict()))
    out = inference.predict(["CCN"])  # default: every registered property predictor
    assert "tiny:has_nitrogen" in out.columns
    assert not any(column.startswith("embedder:") for column in out.columns)
