"""Checkpoints as data: a folder with weight files and a validated JSON model card.

A checkpoint folder ``models/<name>/`` holds ``card.json`` and one weight file
per ensemble member (safetensors for networks; XGBoost JSON, skops or ONNX for
other model kinds). Loading verifies every file's sha256 and never unpickles.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from workbench import __version__
from workbench.hashing import sha256_file
from workbench.models.card import CARD_FILE, FORMAT_VERSION, CheckpointError, validate_card

__all__ = [
    "Checkpoint",
    "load_card",
    "load_state_dicts",
    "save_torch_checkpoint",
    "verify_weights",
    "write_card",
]

PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".bin")


@dataclass(frozen=True)
class Checkpoint:
    """A registered checkpoint folder and its validated card."""

    path: Path
    card: dict

    @property
    def name(self) -> str:
        return str(self.card["name"])

    @property
    def architecture(self) -> str:
        return str(self.card["architecture"]["type"])

    @property
    def tasks(self) -> list[str]:
        return [t["name"] for t in self.card["tasks"]]

    @property
    def group(self) -> str:
        return str(self.card.get("group", "Other"))


def write_card(folder: str | Path, card: dict, weight_files: Sequence[dict]) -> dict:
    """Hash the weight files, complete the card, validate it and write ``card.json``.

    Args:
        folder: the checkpoint folder (weight files already written there).
        card: every card field except ``weights``, ``format_version``, ``created``.
        weight_files: one dict per file with ``file``, ``format``, optional ``seed`` and any
            further keys the loader needs (e.g. ``task`` for per-task baseline models).

    Returns:
        The card as written.
    """
    folder = Path(folder)
    full = dict(card)
    full["format_version"] = FORMAT_VERSION
    full.setdefault("created", datetime.now(UTC).isoformat(timespec="seconds"))
    full.setdefault("workbench_version", __version__)
    full["weights"] = [{**w, "seed": w.get("seed"), "sha256": sha256_file(folder / w["file"])} for w in weight_files]
    validate_card(full)
    tmp = folder / (CARD_FILE + ".tmp")
    tmp.write_text(json.dumps(full, indent=2, sort_keys=False) + "\n")
    tmp.replace(folder / CARD_FILE)
    return full


def save_torch_checkpoint(
    folder: str | Path,
    card: dict,
    state_dicts: Sequence[dict[str, torch.Tensor]],
    seeds: Sequence[int | None],
) -> dict:
    """Write one ``seed<k>.safetensors`` per ensemble member and the card."""
    if len(state_dicts) != len(seeds):
        raise ValueError("one seed per state dict")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for k, (state, seed) in enumerate(zip(state_dicts, seeds, strict=True)):
        name = f"seed{seed}.safetensors" if seed is not None else f"member{k}.safetensors"
        tensors = {key: value.detach().cpu().contiguous() for key, value in state.items()}
        save_file(tensors, str(folder / name), metadata={"format": "workbench", "format_version": str(FORMAT_VERSION)})
        files.append({"file": name, "format": "safetensors", "seed": seed})
    return write_card(folder, card, files)


def _refuse_foreign(folder: Path) -> None:
    pickles = sorted(p.name for p in folder.iterdir() if p.suffix.lower() in PICKLE_SUFFIXES)
    if pickles:
        raise CheckpointError(
            f"{folder} holds {', '.join(pickles)} but no {CARD_FILE}: pickled checkpoints are not loaded "
            "(they can run arbitrary code). In a trusted environment, load the state dict with "
            "torch.load(path, weights_only=True), save it with safetensors.torch.save_file, and write a card "
            "(see README, 'Checkpoints')."
        )
    raise CheckpointError(f"{folder} is not a checkpoint: it has no {CARD_FILE}.")


def load_card(folder: str | Path) -> dict:
    """Read and validate ``card.json`` of a checkpoint folder."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} does not exist")
    path = folder / CARD_FILE
    if not path.is_file():
        _refuse_foreign(folder)
    try:
        card = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{path} is not valid JSON: {exc}") from exc
    validate_card(card)
    return card


def verify_weights(folder: str | Path, card: dict) -> None:
    """Check each weight file exists and matches its recorded sha256.

    Raises:
        CheckpointError: a file is missing or was modified.
    """
    folder = Path(folder)
    for entry in card["weights"]:
        path = folder / entry["file"]
        if not path.is_file():
            raise CheckpointError(f"{path} is listed in the card but missing")
        digest = sha256_file(path)
        if digest != entry["sha256"]:
            raise CheckpointError(
                f"{path} does not match the sha256 in its card ({digest[:12]}… vs {entry['sha256'][:12]}…); "
                "the file was modified or corrupted and will not be loaded."
            )


def load_state_dicts(folder: str | Path, card: dict | None = None) -> list[dict[str, torch.Tensor]]:
    """Verified safetensors state dicts of every member, on the CPU."""
    folder = Path(folder)
    card = card if card is not None else load_card(folder)
    verify_weights(folder, card)
    out = []
    for entry in card["weights"]:
        if entry["format"] != "safetensors":
            raise CheckpointError(f"{entry['file']} is {entry['format']}, not safetensors")
        out.append(load_file(str(folder / entry["file"]), device="cpu"))
    return out
