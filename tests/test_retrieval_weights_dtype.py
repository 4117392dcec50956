"""The retrieval checkpoint stores its floating-point weights as float16 and loads them as float32, like the GINs."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

from tests.retrieval_fixtures import tiny_model  # noqa: F401  (module-scoped fixture)
from workbench.models.store import cast_floating


def test_the_ship_step_stores_float16_and_records_it_in_the_card(tiny_model):  # noqa: F811
    retriever, _corpus = tiny_model
    card = retriever.checkpoint.card
    assert card.architecture.config["weights_dtype"] == "float16"
    stored = load_file(str(retriever.checkpoint.path / "seed0.safetensors"))
    assert {str(v.dtype) for v in stored.values() if v.is_floating_point()} == {"torch.float16"}
    assert any(not v.is_floating_point() for v in stored.values())  # counters keep their integer dtype
    loaded = retriever.model.state_dict()
    assert {v.dtype for v in loaded.values() if v.is_floating_point()} == {torch.float32}
    assert all(torch.equal(loaded[k].cpu(), v.to(loaded[k].dtype)) for k, v in stored.items())
    features = load_file(str(retriever.checkpoint.path / "corpus_text_features.safetensors"))["features"]
    assert features.dtype == torch.float16


def test_cast_floating_rounds_floats_and_keeps_integers():
    state = {"w": torch.tensor([1.0 + 2**-12, 3.0]), "n": torch.tensor(7)}
    half = cast_floating(state, "float16")
    assert half["w"].dtype == torch.float16 and half["n"].dtype == torch.int64
    assert cast_floating(half, torch.float32)["w"].tolist() == [1.0, 3.0]  # 2**-12 is below float16's resolution
    assert state["w"].dtype == torch.float32  # the input is not changed
    with pytest.raises(ValueError, match="not a floating-point dtype"):
        cast_floating(state, "int8")
