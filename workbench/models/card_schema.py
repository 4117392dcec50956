"""The model card's JSON format: its JSON Schema, its version, validation and upgrades of older formats.

A card is the JSON metadata of a checkpoint folder (``card.json``): architecture, featurizer, tasks,
training data and its sha256, split, seeds, metrics, weight files with their sha256 and the command
that made it. :mod:`workbench.models.card` reads it into a typed :class:`~workbench.models.card.ModelCard`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import cache
from types import ModuleType

__all__ = [
    "CARD_FILE",
    "CARD_SCHEMA",
    "FORMAT_VERSION",
    "REFERENCE_KINDS",
    "SIZE_LIMITS",
    "WEIGHT_FORMATS",
    "CheckpointError",
    "upgrade_card",
    "validate_card",
]

FORMAT_VERSION = 1
CARD_FILE = "card.json"
#: Files stored beside the weights that inference reads instead of recomputing (hashed like the weights).
REFERENCE_KINDS = (
    "domain_index",
    "percentile_reference",
    "library_embeddings",
    "corpus_library_embeddings",
    "training_table",
    "score_reference",
)
WEIGHT_FORMATS = ("safetensors", "xgboost-json", "skops", "onnx")

#: Largest architecture sizes a card may ask for, checked (by the schema) before anything is allocated.
#: Generous: 3-7x what the shipped and published models use (GIN emb_dim 300 x 5 layers, Chemprop d_h 300 x
#: depth 3 x 5 models, MLP heads 256-512 wide, ECFP 2048 bits, ToxCast 617 tasks). Safe: at these maxima the
#: largest network of each kind holds on the order of 10^8 parameters (under about 1 GB of float32), so a
#: card asking for ``emb_dim: 1e7`` (a 4.8 GB embedding table) is refused instead of allocated.
SIZE_LIMITS = {
    "emb_dim": 1024,  # GIN width: 16 layers x 2 x 1024 x 2048 = 67 M parameters
    "num_layer": 16,
    "hidden": 2048,  # MLP heads: 32768 x 2048 + 7 x 2048^2 = 96 M parameters
    "in_dim": 32768,
    "n_layers": 8,
    "d_h": 2048,  # Chemprop: 10 models x (d_h^2 x (2 + ffn_layers)) = 250 M parameters
    "d_v": 1024,
    "d_e": 1024,
    "depth": 8,
    "ffn_hidden": 2048,
    "ffn_layers": 4,
    "n_models": 10,
    "text_dim": 4096,  # dual encoder projections: 4096 x 4096 = 17 M parameters
    "proj_dim": 4096,
    "n_tasks": 4096,
}
#: Most tasks, weight files (per-task baselines store tasks x seeds files) and seeds (ensemble members) a card lists.
MAX_TASKS, MAX_WEIGHT_FILES, MAX_SEEDS = 4096, 16384, 32
#: Fingerprint sizes in ``featurizer.params``.
FEATURIZER_LIMITS = {"n_bits": 32768, "radius": 8}


def _bounded(limits: dict[str, int]) -> dict:
    return {k: {"type": "integer", "minimum": 0, "maximum": v} for k, v in limits.items()}


_SIZES = {
    "type": "object",
    "properties": {
        **_bounded(SIZE_LIMITS),
        "parts": {
            "type": "array",
            "maxItems": 16,
            "items": {"type": "object", "properties": {"config": {"$ref": "#/$defs/sizes"}}},
        },
    },
}

_METRIC = {
    "type": "object",
    "required": ["mean", "std", "per_seed"],
    "properties": {
        "mean": {"type": ["number", "null"]},
        "std": {"type": ["number", "null"]},
        "per_seed": {"type": "array", "items": {"type": ["number", "null"]}},
    },
}

CARD_SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "workbench model card",
    "$defs": {"sizes": _SIZES},
    "type": "object",
    "required": [
        "format_version",
        "name",
        "architecture",
        "featurizer",
        "tasks",
        "weights",
        "data",
        "split",
        "seeds",
        "metrics",
        "command",
        "created",
    ],
    "properties": {
        "format_version": {"const": FORMAT_VERSION},
        "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]*$"},
        "description": {"type": "string"},
        "group": {"type": "string"},
        "architecture": {
            "type": "object",
            "required": ["type", "config"],
            "properties": {"type": {"type": "string"}, "config": {"$ref": "#/$defs/sizes"}},
        },
        "featurizer": {
            "type": "object",
            "required": ["name", "version", "params"],
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "params": {"type": "object", "properties": _bounded(FEATURIZER_LIMITS)},
            },
        },
        "tasks": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_TASKS,
            "items": {
                "type": "object",
                "required": ["name", "type"],
                "properties": {
                    "name": {"type": "string"},
                    "type": {"enum": ["classification", "regression"]},
                    "units": {"type": "string"},
                },
            },
        },
        "target_scaling": {
            "type": "object",
            "required": ["mean", "std"],
            "properties": {
                "mean": {"type": "array", "items": {"type": "number"}},
                "std": {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}},
            },
        },
        "weights": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_WEIGHT_FILES,
            "items": {
                "type": "object",
                "required": ["file", "sha256", "format"],
                "properties": {
                    "file": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "format": {"enum": list(WEIGHT_FORMATS)},
                    "seed": {"type": ["integer", "null"]},
                },
            },
        },
        "data": {
            "type": "object",
            "required": ["dataset", "sha256"],
            "properties": {"dataset": {"type": "string"}, "sha256": {"type": "string"}},
        },
        "split": {"type": "object", "required": ["kind"]},
        "seeds": {"type": "array", "maxItems": MAX_SEEDS, "items": {"type": "integer"}},
        "references": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["file", "kind", "sha256"],
                "properties": {
                    "file": {"type": "string", "pattern": "^[A-Za-z0-9_.-]+$"},
                    "kind": {"enum": list(REFERENCE_KINDS)},
                    "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                    "molecules": {"type": "integer", "minimum": 0},
                    "shared": {"type": "boolean"},
                },
            },
        },
        "metrics": {
            "type": "object",
            "additionalProperties": {"type": "object", "additionalProperties": _METRIC},
        },
        "command": {"type": "string"},
        "created": {"type": "string"},
        "workbench_version": {"type": "string"},
        "calibration": {
            "type": "object",
            "required": ["fitted_on", "tasks"],
            "properties": {
                "fitted_on": {"type": "string"},
                "tasks": {
                    "type": "array",
                    "maxItems": MAX_TASKS,
                    "items": {
                        "type": "object",
                        "required": ["task", "method"],
                        "properties": {
                            "task": {"type": "string"},
                            "method": {"enum": ["none", "platt", "isotonic", "conformal"]},
                            "a": {"type": "number"},
                            "b": {"type": "number"},
                            "x": {"type": "array", "items": {"type": "number"}},
                            "y": {"type": "array", "items": {"type": "number"}},
                            "halfwidth": {"type": "number", "minimum": 0},
                        },
                    },
                },
            },
        },
    },
}


class CheckpointError(RuntimeError):
    """A checkpoint is missing, invalid, tampered with, or in a format we do not load."""


#: Mechanical upgrades of older card formats: ``_UPGRADES[k]`` turns a format-``k`` card into format ``k + 1``.
#: Empty while format 1 is the only one there has been; a change that needs retraining gets no entry.
_UPGRADES: dict[int, Callable[[dict], dict]] = {}


def _newer_message(version: int) -> str:
    return (
        f"card format {version} was written by a newer workbench (this one reads {FORMAT_VERSION}); "
        "upgrade the workbench."
    )


def _older_message(version: int, raw: dict) -> str:
    return (
        f"card format {version} is older than {FORMAT_VERSION} and cannot be upgraded automatically; "
        "re-create the checkpoint with the "
        f"command recorded in its card: {raw.get('command', '(none recorded)')}"
    )


def upgrade_card(raw: dict) -> dict:
    """Bring a card of an older format to :data:`FORMAT_VERSION` where the change is mechanical.

    Returns:
        The card itself when it is current (or has no integer version, left to :func:`validate_card`),
        else an upgraded copy.

    Raises:
        CheckpointError: the card is newer than this workbench, or older with no mechanical upgrade;
            the message is one sentence saying what to do.
    """
    if not isinstance(raw, dict):
        raise CheckpointError("a model card must be a JSON object")
    version = raw.get("format_version")
    if not isinstance(version, int) or version == FORMAT_VERSION:
        return raw
    if version > FORMAT_VERSION:
        raise CheckpointError(_newer_message(version))
    upgraded = dict(raw)
    for step in range(version, FORMAT_VERSION):
        if step not in _UPGRADES:
            raise CheckpointError(_older_message(version, raw))
        upgraded = {**_UPGRADES[step](upgraded), "format_version": step + 1}
    return upgraded


@cache
def _jsonschema() -> ModuleType:
    """``jsonschema``, imported on the first validation (not when this module is imported).

    The card schema uses no ``format`` keyword, so the import skips ``rfc3987_syntax`` (an optional IRI
    format checker that builds a grammar when imported: seconds of a cold start); a later explicit
    ``import rfc3987_syntax`` elsewhere still works.
    """
    blocked = "rfc3987_syntax" not in sys.modules
    if blocked:
        sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # makes its import raise ImportError
    try:
        import jsonschema
    finally:
        if blocked and sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]
    return jsonschema


def validate_card(raw: dict) -> None:
    """Check a card against :data:`CARD_SCHEMA` and its internal consistency.

    Raises:
        CheckpointError: listing every problem found.
    """
    if not isinstance(raw, dict):
        raise CheckpointError("a model card must be a JSON object")
    version = raw.get("format_version")
    if isinstance(version, int) and version != FORMAT_VERSION:
        raise CheckpointError(_newer_message(version) if version > FORMAT_VERSION else _older_message(version, raw))
    validator = _jsonschema().Draft202012Validator(CARD_SCHEMA)
    problems = [f"{'/'.join(map(str, e.absolute_path)) or '(card)'}: {e.message}" for e in validator.iter_errors(raw)]
    scaling = raw.get("target_scaling")
    tasks = raw.get("tasks")
    skip = scaling is None or not isinstance(tasks, list) or problems
    if not skip and not (len(scaling["mean"]) == len(scaling["std"]) == len(tasks)):
        problems.append("target_scaling: mean and std need one value per task")
    if problems:
        raise CheckpointError("invalid model card:\n  " + "\n  ".join(problems))
