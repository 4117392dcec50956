"""The inference module's CUDA path: device choice, autocast (bfloat16), bf16 weights, batching, GPU screening actors.

Marked ``gpu`` and skipped without CUDA. Predictions are compared with the CPU's within bfloat16's precision: autocast
runs the GIN's matrix products in bfloat16 (about three significant digits).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from tests.test_screen import SMILES, _csv, _plan
from workbench import chem
from workbench.predict import inference

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU"),
]

MODEL = "esol_gin"  # a GIN ensemble: the torch path (featurize on the CPU, members on the device)
COLUMN = f"{MODEL}:log_solubility"
#: log solubility spans about 10 log units; bfloat16 autocast moves predictions by a few hundredths.
TOLERANCE = 0.1


@pytest.fixture(scope="module")
def on_cpu() -> pd.DataFrame:
    return inference.predict(SMILES, [inference.load_model(MODEL, device="cpu")])


def _members(model: inference.LoadedModel) -> list[torch.nn.Module]:
    return model.predictor.members


def test_cuda_is_chosen_when_present_and_workbench_device_overrides_it(monkeypatch):
    monkeypatch.delenv("WORKBENCH_DEVICE", raising=False)
    assert inference.get_device().type == "cuda"
    monkeypatch.setenv("WORKBENCH_DEVICE", "cpu")
    assert inference.get_device().type == "cpu"
    monkeypatch.setenv("WORKBENCH_DEVICE", "cuda:0")
    assert inference.get_device() == torch.device("cuda:0")
    model = inference.load_model(MODEL)
    assert model.device.type == "cuda"
    assert {p.device.type for m in _members(model) for p in m.parameters()} == {"cuda"}


def test_the_networks_run_under_bfloat16_autocast_on_cuda_and_agree_with_the_cpu(on_cpu):
    model = inference.load_model(MODEL, device="cuda")
    seen: list[tuple[bool, torch.dtype]] = []

    def record(_module, _inputs, output):
        seen.append((torch.is_autocast_enabled("cuda"), torch.get_autocast_dtype("cuda")))

    handle = _members(model)[0].register_forward_hook(record)
    try:
        out = inference.predict(SMILES, [model])
    finally:
        handle.remove()
    assert seen and all(enabled and dtype == torch.bfloat16 for enabled, dtype in seen)
    assert out["error"].tolist() == on_cpu["error"].tolist()
    np.testing.assert_allclose(out[COLUMN], on_cpu[COLUMN], atol=TOLERANCE, equal_nan=True)


def test_bf16_weights_on_cuda(on_cpu):
    model = inference.load_model(MODEL, device="cuda", precision="bf16")
    assert {p.dtype for m in _members(model) for p in m.parameters()} == {torch.bfloat16}
    assert model is inference.load_model(MODEL, device="cuda", precision="bf16")  # cached per device and precision
    assert model is not inference.load_model(MODEL, device="cuda")
    out = inference.predict(SMILES, [model])
    np.testing.assert_allclose(out[COLUMN], on_cpu[COLUMN], atol=TOLERANCE, equal_nan=True)


def test_batches_of_any_size_give_the_same_predictions_on_cuda():
    model = inference.load_model(MODEL, device="cuda")
    many = SMILES * 20  # 600 molecules: several batches, the next featurized while the GPU runs the current one
    parsed = chem.parse(many, inchikey=False).drop(columns=["inchikey"])
    small = inference.predict_parsed(parsed, [model], batch_size=7)
    large = inference.predict_parsed(parsed, [model], batch_size=512)
    assert small["error"].tolist() == large["error"].tolist()
    np.testing.assert_allclose(small[COLUMN], large[COLUMN], atol=TOLERANCE / 5, equal_nan=True)


@pytest.mark.slow
def test_ray_gives_each_actor_a_gpu_and_the_screen_agrees_with_the_cpu(tmp_path, monkeypatch):
    ray = pytest.importorskip("ray")
    from workbench.screen import run_ray_screen, run_screen
    from workbench.screen.ray_engine import cluster_sizing

    monkeypatch.delenv("WORKBENCH_DEVICE", raising=False)
    checkpoints = [c for c in inference.list_models() if c.name == MODEL]
    lib = _csv(tmp_path / "lib.csv")
    monkeypatch.setenv("WORKBENCH_DEVICE", "cpu")
    run_screen(lib, tmp_path / "cpu.parquet", _plan(checkpoints), chunk_size=8, workers=1)
    monkeypatch.delenv("WORKBENCH_DEVICE")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=4, include_dashboard=False, log_to_driver=False)
    try:
        sizing = cluster_sizing()
        assert sizing.gpus_per_actor == 1.0 and sizing.actors == torch.cuda.device_count()

        @ray.remote(num_gpus=sizing.gpus_per_actor, num_cpus=sizing.cpus_per_actor)
        def device() -> str:
            return str(inference.get_device())

        assert ray.get(device.remote()).startswith("cuda")  # what an actor with a GPU predicts on
        run_ray_screen(lib, tmp_path / "gpu.parquet", _plan(checkpoints), chunk_size=8)  # with a featurize stage
        run_ray_screen(lib, tmp_path / "inside.parquet", _plan(checkpoints), chunk_size=8, featurize_stage=False)
    finally:
        if started:
            ray.shutdown()
    cpu, gpu = pd.read_parquet(tmp_path / "cpu.parquet"), pd.read_parquet(tmp_path / "gpu.parquet")
    assert gpu[["source", "row", "smiles", "canonical_smiles", "error"]].equals(
        cpu[["source", "row", "smiles", "canonical_smiles", "error"]]
    )
    np.testing.assert_allclose(gpu[COLUMN], cpu[COLUMN], atol=TOLERANCE, equal_nan=True)
    inside = pd.read_parquet(tmp_path / "inside.parquet")
    assert inside["error"].equals(cpu["error"])
    np.testing.assert_allclose(inside[COLUMN], cpu[COLUMN], atol=TOLERANCE, equal_nan=True)
