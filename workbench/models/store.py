"""Checkpoints as data: a folder with weight files and a validated JSON model card.

A checkpoint folder ``models/<name>/`` holds ``card.json`` and one weight file
per ensemble member (safetensors for networks and forest / SVR arrays; XGBoost JSON, legacy skops or ONNX for
other model kinds). Loading verifies every file's sha256 and never unpickles.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from workbench import __version__
from workbench.hashing import sha256_bytes, sha256_file
from workbench.models.card import CARD_FILE, FORMAT_VERSION, CheckpointError, ModelCard

if TYPE_CHECKING:
    import torch

__all__ = [
    "CARD_MAX_BYTES",
    "CARD_MAX_DEPTH",
    "SAFETENSORS_HEADER_MAX",
    "SHARED_FOLDER",
    "Checkpoint",
    "cast_floating",
    "load_card",
    "load_safetensors",
    "load_state_dicts",
    "read_verified",
    "reference_path",
    "safetensors_header_problem",
    "safetensors_problem",
    "save_torch_checkpoint",
    "set_reference_files",
    "share_reference_file",
    "shared_folder",
    "verify_weights",
    "write_card",
]

PICKLE_SUFFIXES = (".pt", ".pth", ".pkl", ".pickle", ".ckpt", ".joblib", ".bin")
#: Largest ``card.json`` read (shipped cards are a few KB; per-molecule lists of a large data set stay far below).
CARD_MAX_BYTES = 16 * 1024**2
#: Deepest nesting of objects and lists read from a card (shipped cards nest 5 levels).
CARD_MAX_DEPTH = 32
#: Largest safetensors header read (the JSON table of tensor names, shapes and offsets: a few KB per model;
#: the same limit as the safetensors library, checked here so the refusal is one sentence).
SAFETENSORS_HEADER_MAX = 100 * 1000**2
#: The one folder beside the checkpoint folders (``models/_shared/``) holding reference files several cards list
#: (e.g. the domain index of one data set and split): each named by its sha256, so re-running one trainer never
#: changes a file another card lists. The registry does not treat it as a checkpoint.
SHARED_FOLDER = "_shared"


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
    return rewrite_card(folder, full)


def save_torch_checkpoint(
    folder: str | Path,
    card: Mapping | ModelCard,
    state_dicts: Sequence[dict[str, torch.Tensor]],
    seeds: Sequence[int | None],
) -> ModelCard:
    """Write one ``seed<k>.safetensors`` per ensemble member and the card."""
    from safetensors.torch import save_file

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
        files: one dict per file with ``file``, ``kind``, optional ``molecules`` and ``shared`` (the file is in
            :func:`shared_folder`, see :func:`share_reference_file`).
    """
    folder = Path(folder)
    card = load_card(folder).to_dict()
    new = [
        {**f, "sha256": sha256_file((shared_folder(folder) if f.get("shared") else folder) / f["file"])} for f in files
    ]
    kinds = {f["kind"] for f in new}
    card["references"] = [r for r in card.get("references", []) if r["kind"] not in kinds] + new
    return rewrite_card(folder, card)


def rewrite_card(folder: str | Path, card: Mapping) -> ModelCard:
    """Validate a card and write ``card.json`` atomically (temporary name, then rename; weights untouched)."""
    written = ModelCard.from_dict(card)
    tmp = Path(folder) / (CARD_FILE + ".tmp")
    tmp.write_text(json.dumps(written.to_dict(), indent=2, sort_keys=False) + "\n")
    tmp.replace(Path(folder) / CARD_FILE)
    return written


def reference_path(checkpoint: Checkpoint, kind: str) -> Path | None:
    """The verified path of a checkpoint's reference file of ``kind``; ``None`` when the card lists none.

    Raises:
        CheckpointError: the file is missing or does not match its recorded sha256.
    """
    entry = checkpoint.card.reference(kind)
    if entry is None:
        return None
    if entry.file in ("", ".", "..") or Path(entry.file).name != entry.file:
        raise CheckpointError(
            f"{checkpoint.path / CARD_FILE} names the {kind} file '{entry.file}', not a plain file name."
        )
    path = (shared_folder(checkpoint.path) if entry.shared else checkpoint.path) / entry.file
    _verify_file(path, entry.sha256)
    return path


def shared_folder(checkpoint_folder: str | Path) -> Path:
    """The shared reference folder of a checkpoint folder: :data:`SHARED_FOLDER` beside it."""
    return Path(checkpoint_folder).parent / SHARED_FOLDER


def share_reference_file(folder: str | Path, file: str) -> str:
    """Move ``folder/file`` into :func:`shared_folder` as ``<sha256><suffix>``; returns that name.

    Identical files (several checkpoints of one data set and split) end up as one copy; an existing copy
    under the name is replaced atomically by the identical bytes (which also repairs a damaged one).
    """
    source = Path(folder) / file
    name = sha256_file(source) + Path(file).suffix
    target = shared_folder(folder) / name
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    return name


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


#: Validated cards by the exact bytes of their ``card.json`` (cards are immutable; a changed file is a new key),
#: so scanning the registry again, as every ``load_model`` by name does, skips the JSON Schema check.
_CARDS: dict[bytes, ModelCard] = {}
_CARDS_MAX = 512


def _remember_card(data: bytes, card: ModelCard) -> ModelCard:
    if len(_CARDS) >= _CARDS_MAX:
        _CARDS.pop(next(iter(_CARDS)), None)
    _CARDS[data] = card
    return card


def _nesting(text: str) -> int:
    """Deepest bracket nesting of JSON text outside strings (checked before parsing)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def load_card(folder: str | Path) -> ModelCard:
    """Read ``card.json`` of a checkpoint folder: upgraded if older and mechanical, validated, typed.

    Raises:
        CheckpointError: one sentence naming the file and what is wrong with it (unreadable, too large,
            not UTF-8, not JSON, nested too deeply, or not a valid card).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise CheckpointError(f"checkpoint folder {folder} does not exist")
    path = folder / CARD_FILE
    if not path.is_file():
        _refuse_foreign(folder)
    try:
        size = path.stat().st_size
        if size > CARD_MAX_BYTES:
            raise CheckpointError(
                f"{path} is {size / 1e6:.0f} MB, over the {CARD_MAX_BYTES // 1024**2} MiB a card may be"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path} could not be read ({exc.strerror or exc})") from exc
    cached = _CARDS.get(data)  # the same bytes were validated before: skip the schema check
    if cached is not None:
        return cached
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CheckpointError(f"{path} is not UTF-8 text (invalid byte at position {exc.start})") from exc
    if _nesting(text) > CARD_MAX_DEPTH:
        raise CheckpointError(f"{path} nests objects or lists deeper than {CARD_MAX_DEPTH} levels")
    try:
        card = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(f"{path} is not valid JSON: {exc}") from exc
    return _remember_card(data, ModelCard.from_dict(card))


def verify_weights(folder: str | Path, card: ModelCard) -> None:
    """Check each weight file exists and matches its recorded sha256.

    Raises:
        CheckpointError: a file is missing or was modified.
    """
    folder = Path(folder)
    for entry in card.weights:
        _verify_file(folder / entry.file, entry.sha256)


def read_verified(path: str | Path, sha256: str) -> bytes:
    """The bytes of a file the card lists, read once and checked against its recorded sha256.

    What is loaded is then exactly what was hashed (one read instead of two).

    Raises:
        CheckpointError: the file is missing, unreadable, or was modified.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path} is listed in the card but missing")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{path} could not be read ({exc.strerror or exc})") from exc
    _check_digest(path, sha256_bytes(data), sha256)
    return data


def _verify_file(path: Path, sha256: str) -> None:
    """Refuse a file the card lists when it is missing or its sha256 differs from the recorded one."""
    if not path.is_file():
        raise CheckpointError(f"{path} is listed in the card but missing")
    _check_digest(path, sha256_file(path), sha256)


def _check_digest(path: Path, digest: str, sha256: str) -> None:
    if digest != sha256:
        raise CheckpointError(
            f"{path} does not match the sha256 in its card ({digest[:12]}… vs {sha256[:12]}…); "
            "the file was modified or corrupted and will not be used."
        )


def safetensors_header_problem(head: bytes, size: int, max_header: int = SAFETENSORS_HEADER_MAX) -> str:
    """What is wrong with a safetensors buffer of ``size`` bytes that starts with ``head`` ("" when nothing):
    too short, or a header length field over ``max_header`` or longer than the bytes after it."""
    if len(head) < 8:
        return "is too short to be a safetensors file"
    n = int.from_bytes(head[:8], "little")
    if n > max_header:
        return (
            f"declares a {n / 1e6:,.0f} MB safetensors header, over the {max_header / 1e6:,.0f} MB this workbench reads"
        )
    if n > size - 8:
        return f"declares a {n:,}-byte safetensors header but holds {size - 8:,} bytes after it (truncated?)"
    return ""


def safetensors_problem(path: str | Path, max_header: int = SAFETENSORS_HEADER_MAX) -> str:
    """What makes ``path`` unloadable as safetensors, judged from its first 8 bytes ("" when nothing).

    The header length field is checked before anything is allocated: a header over ``max_header``
    bytes, or longer than the file, is refused.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        return f"could not be read ({exc.strerror or exc})"
    return safetensors_header_problem(head, size, max_header)


def load_safetensors(path: str | Path) -> dict[str, torch.Tensor]:
    """A safetensors file's tensors on the CPU, after checking its header.

    Raises:
        CheckpointError: one sentence saying why the file cannot be loaded.
    """
    from safetensors.torch import load_file

    problem = safetensors_problem(path)
    if problem:
        raise CheckpointError(f"{path} {problem}.")
    try:
        return load_file(str(path), device="cpu")
    except Exception as exc:
        raise CheckpointError(f"{path} is not a readable safetensors file ({exc}).") from exc


def cast_floating(state: Mapping[str, torch.Tensor], dtype: str | torch.dtype) -> dict[str, torch.Tensor]:
    """A copy of a state dict with its floating-point tensors in ``dtype`` (``"float16"`` to store, ``"float32"``
    to load); integer tensors (counters, indices) are kept as they are."""
    import torch

    target = getattr(torch, dtype, None) if isinstance(dtype, str) else dtype
    if not isinstance(target, torch.dtype) or not target.is_floating_point:
        raise ValueError(f"{dtype!r} is not a floating-point dtype")
    return {k: (v.to(target) if v.is_floating_point() else v).detach().cpu().contiguous() for k, v in state.items()}


def load_state_dicts(folder: str | Path, card: ModelCard | None = None) -> list[dict[str, torch.Tensor]]:
    """Verified safetensors state dicts of every member, on the CPU."""
    folder = Path(folder)
    card = card if card is not None else load_card(folder)
    verify_weights(folder, card)
    out = []
    for entry in card.weights:
        if entry.format != "safetensors":
            raise CheckpointError(f"{entry.file} is {entry.format}, not safetensors")
        out.append(load_safetensors(folder / entry.file))
    return out
