"""Checkpoints as data: the typed model card, the store (safetensors + sha256), the registry, builders and importers.

``workbench.models`` re-exports the card, store and registry API; predictor builders live in
:mod:`workbench.models.builders`, one-off importers of external checkpoints in
:mod:`workbench.models.importers`.
"""

from workbench.models.card import (
    CARD_FILE,
    CARD_SCHEMA,
    FORMAT_VERSION,
    CheckpointError,
    ModelCard,
    upgrade_card,
    validate_card,
)
from workbench.models.registry import find_checkpoints, models_dirs, skipped_checkpoints
from workbench.models.store import (
    Checkpoint,
    load_card,
    load_state_dicts,
    reference_path,
    save_torch_checkpoint,
    set_reference_files,
    verify_weights,
    write_card,
)

__all__ = [
    "CARD_FILE",
    "CARD_SCHEMA",
    "FORMAT_VERSION",
    "Checkpoint",
    "CheckpointError",
    "ModelCard",
    "find_checkpoints",
    "load_card",
    "load_state_dicts",
    "models_dirs",
    "reference_path",
    "save_torch_checkpoint",
    "set_reference_files",
    "skipped_checkpoints",
    "upgrade_card",
    "validate_card",
    "verify_weights",
    "write_card",
]
