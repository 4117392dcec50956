"""Using a pretrained encoder at inference: list and load shipped GIN encoders, embed, map, neighbours.

Also the records that describe them: the pretraining loss curve stored with an encoder and the
pretraining benchmark's comparison table. Nothing here imports ``workbench.train``. Names are
imported lazily, so that reading :data:`PUBLISHED` (the benchmark's CLI options) loads no torch.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = [
    "LOSS_CURVE_FILE",
    "PUBLISHED",
    "Comparison",
    "add_loss_curve",
    "comparison_table",
    "embed",
    "embedding_map",
    "embedding_neighbours",
    "list_encoders",
    "load_encoder",
    "loss_curve",
    "loss_curve_means",
    "map_dataset",
    "random_encoder",
    "tanimoto_neighbours",
    "write_loss_curve",
]

_WHERE = {
    "LOSS_CURVE_FILE": "curves",
    "add_loss_curve": "curves",
    "loss_curve": "curves",
    "loss_curve_means": "curves",
    "write_loss_curve": "curves",
    "PUBLISHED": "comparison",
    "Comparison": "comparison",
    "comparison_table": "comparison",
    "embed": "model",
    "list_encoders": "model",
    "load_encoder": "model",
    "random_encoder": "model",
    "embedding_map": "maps",
    "embedding_neighbours": "maps",
    "map_dataset": "maps",
    "tanimoto_neighbours": "maps",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'workbench.encoders' has no attribute '{name}'")
    return getattr(import_module(f"workbench.encoders.{_WHERE[name]}"), name)
