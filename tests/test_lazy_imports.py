"""Importing the inference module stays light, and loading builds networks without a random initialisation."""

from __future__ import annotations

import os

import pytest
import torch

from tests.subprocess_helpers import python_json
from workbench.models import CheckpointError, write_card
from workbench.models.builders.base import load_module
from workbench.nn import FeatureMLP

#: Libraries that only some builders need: importing the library must not load them.
HEAVY = (
    "sklearn",
    "scipy",
    "skops",
    "xgboost",
    "onnxruntime",
    "jsonschema",
    "sympy",
    "matplotlib",
    "chemprop",
    "lightning",
    "admet_ai",
    "torch_geometric",
    "ray",
)
LIGHT_MODULES = (
    "workbench.predict.inference",
    "workbench.models",
    "workbench.models.registry",
    "workbench.models.zoo",
    "workbench.models.builders",
    "workbench.models.builders.baseline",
    "workbench.models.builders.chemprop",
    "workbench.models.builders.minimol",
    "workbench.models.builders.torch_models",
    "workbench.models.importers.admet_ai",
    "workbench.chem",
    "workbench.screen",
    "workbench.screen.ray_engine",
    "workbench.cli.screen_cmd",
)


@pytest.mark.slow
def test_importing_inference_models_and_chem_loads_no_model_library():
    code = (
        "import importlib, json, sys\n"
        f"for name in {LIGHT_MODULES!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    assert python_json(code) == []


def _reference_mlp() -> FeatureMLP:
    torch.manual_seed(0)
    return FeatureMLP(in_dim=32, n_tasks=2, hidden=16).eval()


def test_a_module_loaded_without_initialisation_predicts_exactly_like_load_state_dict():
    reference = _reference_mlp()
    state = reference.state_dict()
    # weights at an odd offset, as safetensors gives some: copied to an aligned tensor
    unaligned = {}
    for key, value in state.items():
        buffer = torch.empty(value.numel() + 1, dtype=value.dtype)
        unaligned[key] = buffer[1:].view(value.shape).copy_(value)
    loaded = load_module(lambda: FeatureMLP(in_dim=32, n_tasks=2, hidden=16), unaligned)
    assert not loaded.training and all(not p.is_meta for p in loaded.parameters())
    assert all(p.data_ptr() % 64 == 0 for p in loaded.parameters())
    x = torch.rand(7, 32)
    with torch.inference_mode():
        assert torch.equal(loaded(x), reference(x))


def test_weights_in_a_smaller_dtype_are_cast_to_the_modules_dtype():
    half = {k: v.half() for k, v in _reference_mlp().state_dict().items()}
    loaded = load_module(lambda: FeatureMLP(in_dim=32, n_tasks=2, hidden=16), half)
    assert {p.dtype for p in loaded.parameters()} == {torch.float32}
    assert torch.equal(loaded.state_dict()["head.weight"], half["head.weight"].float())


def test_missing_or_misshapen_weights_are_refused():
    state = _reference_mlp().state_dict()
    with pytest.raises(RuntimeError, match="Missing key"):
        load_module(
            lambda: FeatureMLP(in_dim=32, n_tasks=2, hidden=16), {k: v for k, v in state.items() if "head" not in k}
        )
    with pytest.raises(RuntimeError, match="size mismatch"):
        load_module(lambda: FeatureMLP(in_dim=32, n_tasks=3, hidden=16), state)


class _WithScratch(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.linear = torch.nn.Linear(2, 2)
        self.register_buffer("scratch", torch.zeros(2), persistent=False)


def test_a_tensor_the_weights_do_not_give_is_refused_not_left_empty():
    state = torch.nn.Linear(2, 2).state_dict()
    with pytest.raises(CheckpointError, match="scratch"):
        load_module(_WithScratch, {f"linear.{k}": v for k, v in state.items()})


@pytest.mark.slow
def test_a_skops_baseline_with_a_type_outside_the_allow_list_is_refused(tmp_path):
    import skops.io as sio

    from workbench.models import Checkpoint
    from workbench.models.builders.baseline import BaselineEnsemble
    from workbench.models.card import ModelCard

    folder = tmp_path / "bad_rf"
    folder.mkdir()
    sio.dump({"f": os.system}, folder / "seed0_task0.skops")
    raw = {
        "name": "bad_rf",
        "architecture": {"type": "rf", "config": {}},
        "featurizer": {"name": "ecfp", "version": "1.0", "params": {"n_bits": 64}},
        "tasks": [{"name": "active", "type": "classification"}],
        "data": {"dataset": "tiny", "sha256": "0" * 64},
        "split": {"kind": "none"},
        "seeds": [0],
        "metrics": {},
        "command": "tests/test_lazy_imports.py",
    }
    card = write_card(folder, raw, [{"file": "seed0_task0.skops", "format": "skops", "seed": 0, "task": 0}])
    assert isinstance(card, ModelCard)
    with pytest.raises(CheckpointError, match=r"not allowed: \['posix.system'\]"):
        BaselineEnsemble(Checkpoint(folder, card))


@pytest.mark.slow
def test_fingerprints_and_the_cliff_rules_import_no_torch():
    code = (
        "import json, sys\n"
        "import workbench.cliffs, workbench.predict\n"
        "from workbench.featurizers import ecfp_batch\n"
        "print(json.dumps('torch' in sys.modules))\n"
    )
    assert python_json(code) is False
