"""Checkpoints as data: a folder with weight files and a validated JSON model card.

A checkpoint folder ``models/<name>/`` holds ``card.json`` and one weight file
per ensemble member (safetensors for networks; XGBoost JSON, skops or ONNX for
other model kinds). Loading verifies every file's sha256 and never unpickles.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from workbench import __version__
from workbench.hashing import sha256_file
from workbench.models.card import CARD_FILE, FORMAT_VERSION, CheckpointError, ModelCard

__all__ = [
    "Checkpoint",
    "load_card",
    "load_state_dicts",
    "reference_path",
    "save_torch_checkpoint",
    "set_reference_files",
    "verify_weights",
    "write_card",
]

PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".bin")


@dataclass(frozen=True)
class Checkpoint:
    """A registered checkpoint folder and its validated card."""

    path: Path
    card: ModelCard

    def __post_init__(self) -> None:
        if not isinstance(self.card, ModelCard):
            raise TypeError(
                f"Checkpoint.card must be a ModelCard (see ModelCard.from_dict), not {type(self.card).__name__}"
            )

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def architecture(self) -> str:
        return self.card.architecture.type

    @property
    def tasks(self) -> list[str]:
        return self.card.task_names

    @property
    def group(self) -> str:
        return self.card.group or "Other"


def write_card(folder: str | Path, card: Mapping | ModelCard, weight_files: Sequence[dict]) -> ModelCard:
    """Hash the weight files, complete the card, validate it and write ``card.json``.

    Args:
        folder: the checkpoint folder (weight files already written there).
        card: every card field except ``weights``, ``format_version``, ``created`` (as the dict a
            trainer builds, or a :class:`ModelCard` whose weights are replaced).
        weight_files: one dict per file with ``file``, ``format``, optional ``seed`` and any
            further keys the loader needs (e.g. ``task`` for per-task baseline models).

    Returns:
        The card as written.
    """
    folder = Path(folder)
    full = card.to_dict() if isinstance(card, ModelCard) else dict(card)
    full["format_version"] = FORMAT_VERSION
    full.setdefault("created", datetime.now(UTC).isoformat(timespec="seconds"))
    full.setdefault("workbench_version", __version__)
    full["weights"] = [{**w, "seed": w.get("seed"), "sha256": sha256_file(folder / w["file"])} for w in weight_files]
    written = ModelCard.from_dict(full)
    tmp = folder / (CARD_FILE + ".tmp")
    tmp.write_text(json.dumps(written.to_dict(), indent=2, sort_keys=False) + "\n")
    tmp.replace(folder / CARD_FILE)
    return written


def save_torch_checkpoint(
    folder: str | Path,
    card: Mapping | ModelCard,
    state_dicts: Sequence[dict[str, torch.Tensor]],
    seeds: Sequence[int | None],
) -> ModelCard:
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


def set_reference_files(folder: str | Path, files: Sequence[dict]) -> ModelCard:
    """Record reference files already written in ``folder`` (hashing them) in its card; same kinds are replaced.

    Args:
        folder: a checkpoint folder with a valid card.
        files: one dict per file with ``file``, ``kind`` and optional ``molecules``.
    """
    folder = Path(folder)
    card = load_card(folder).to_dict()
    new = [{**f, "sha256": sha256_file(folder / f["file"])} for f in files]
    kinds = {f["kind"] for f in new}
    card["references"] = [r for r in card.get("references", []) if r["kind"] not in kinds] + new
    written = ModelCard.from_dict(card)
    tmp = folder / (CARD_FILE + ".tmp")
    tmp.write_text(json.dumps(written.to_dict(), indent=2, sort_keys=False) + "\n")
    tmp.replace(folder / CARD_FILE)
    return written


def reference_path(checkpoint: Checkpoint, kind: str) -> Path | None:
    """The verified path of a checkpoint's reference file of ``kind``; ``None`` when the card lists none.

    Raises:
        CheckpointError: the file is missing or does not match its recorded sha256.
    """
    entry = checkpoint.card.reference(kind)
    if entry is None:
        return None
    path = checkpoint.path / entry.file
    _verify_file(path, entry.sha256)
    return path


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


def load_card(folder: str | Path) -> ModelCard:
    """Read ``card.json`` of a checkpoint folder: upgraded if older and mechanical, validated, typed."""
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
    return ModelCard.from_dict(card)


def verify_weights(folder: str | Path, card: ModelCard) -> None:
    """Check each weight file exists and matches its recorded sha256.

    Raises:
        CheckpointError: a file is missing or was modified.
    """
    folder = Path(folder)
    for entry in card.weights:
        _verify_file(folder / entry.file, entry.sha256)


def _verify_file(path: Path, sha256: str) -> None:
    """Refuse a file the card lists when it is missing or its sha256 differs from the recorded one."""
    if not path.is_file():
        raise CheckpointError(f"{path} is listed in the card but missing")
    digest = sha256_file(path)
    if digest != sha256:
        raise CheckpointError(
            f"{path} does not match the sha256 in its card ({digest[:12]}… vs {sha256[:12]}…); "
            "the file was modified or corrupted and will not be used."
        )


def load_state_dicts(folder: str | Path, card: ModelCard | None = None) -> list[dict[str, torch.Tensor]]:
    """Verified safetensors state dicts of every member, on the CPU."""
    folder = Path(folder)
    card = card if card is not None else load_card(folder)
    verify_weights(folder, card)
    out = []
    for entry in card.weights:
        if entry.format != "safetensors":
            raise CheckpointError(f"{entry.file} is {entry.format}, not safetensors")
        out.append(load_file(str(folder / entry.file), device="cpu"))
    return out
