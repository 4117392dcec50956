"""Checkpoints as data: the model card, the store (safetensors + sha256), the registry, builders and importers.

``workbench.models`` re-exports the card, store and registry API; predictor builders live in
:mod:`workbench.models.builders`, one-off importers of external checkpoints in
:mod:`workbench.models.importers`.
"""

from workbench.models.card import CARD_FILE, CARD_SCHEMA, FORMAT_VERSION, CheckpointError, validate_card
from workbench.models.registry import find_checkpoints, models_dirs
from workbench.models.store import (
    Checkpoint,
    load_card,
    load_state_dicts,
    save_torch_checkpoint,
    verify_weights,
    write_card,
)

__all__ = [
    "CARD_FILE",
    "CARD_SCHEMA",
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "find_checkpoints",
    "load_card",
    "load_state_dicts",
    "models_dirs",
    "save_torch_checkpoint",
    "validate_card",
    "verify_weights",
    "write_card",
]
