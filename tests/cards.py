"""Valid model cards for tests that need a card but no trained weights."""

from __future__ import annotations

from typing import Any

from workbench.models import FORMAT_VERSION, ModelCard


def make_card(name: str = "tiny", tasks: list[dict[str, Any]] | None = None, **fields: Any) -> ModelCard:
    """A validated card of a one-file fingerprint MLP; ``fields`` replace or add top-level card keys."""
    raw: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "name": name,
        "architecture": {"type": "feature_mlp", "config": {}},
        "featurizer": {"name": "ecfp", "version": "1.0", "params": {}},
        "tasks": tasks or [{"name": "active", "type": "classification"}],
        "weights": [{"file": "seed0.safetensors", "sha256": "0" * 64, "format": "safetensors", "seed": 0}],
        "data": {"dataset": "tiny", "sha256": "0" * 64},
        "split": {"kind": "none"},
        "seeds": [0],
        "metrics": {},
        "command": "tests/cards.py",
        "created": "(test)",
        **fields,
    }
    return ModelCard.from_dict(raw)
