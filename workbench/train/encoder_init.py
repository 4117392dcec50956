"""Initial encoder weights for a trainer: a safetensors file, a checkpoint folder, or a shipped GIN by name.

Nothing is unpickled: a ``--init`` that is neither a ``.safetensors`` file nor a checkpoint
folder is refused, and a checkpoint's weights are checked against the sha256 in its card.
"""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from workbench.hashing import sha256_file
from workbench.models import CheckpointError, find_checkpoints, load_card, load_state_dicts

__all__ = ["load_encoder_weights", "resolve_init_encoder"]


def load_encoder_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Encoder weights from a safetensors file or a checkpoint folder (its first member; never unpickled)."""
    p = Path(path)
    if p.is_dir():
        return load_state_dicts(p, load_card(p))[0]
    if p.suffix != ".safetensors":
        raise CheckpointError(
            f"{p}: --init takes a .safetensors file or a checkpoint folder; pickled files are not loaded "
            "(convert with safetensors.torch.save_file in a trusted environment)."
        )
    return load_file(str(p))


def resolve_init_encoder(source: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """The seed-0 ``gnn.*`` weights of a GIN checkpoint (a registered name or a folder) and what the card records.

    Returns:
        ``(state, info)``: the verified ``gnn.*`` tensors as stored, and ``checkpoint``, ``file``, ``seed``,
        ``sha256``, ``num_layer``, ``emb_dim``, ``jk``, ``weights_dtype``, the source's test metrics and command.
    """
    folder = Path(source)
    if not (folder / "card.json").is_file():
        found = {c.name: c for c in find_checkpoints()[0]}
        if str(source) not in found:
            gins = sorted(name for name, c in found.items() if c.architecture == "gin")
            raise ValueError(f"no checkpoint '{source}' (a folder or one of the GINs: {', '.join(gins) or 'none'})")
        folder = found[str(source)].path
    card = load_card(folder)
    if card.architecture.type != "gin":
        raise ValueError(f"checkpoint '{card.name}' is a {card.architecture.type}, not a GIN")
    members = [w for w in card.weights if (w.role or "model") == "model"]
    entry = next((w for w in members if w.seed == 0), members[0])
    if sha256_file(folder / entry.file) != entry.sha256:
        raise ValueError(f"{folder / entry.file} does not match the sha256 in its card")
    state = {k: v for k, v in load_file(str(folder / entry.file)).items() if k.startswith("gnn.")}
    if not state:
        raise ValueError(f"{folder / entry.file} has no gnn.* weights")
    config = card.architecture.config
    info = {
        "checkpoint": card.name,
        "file": entry.file,
        "seed": entry.seed,
        "sha256": entry.sha256,
        "num_layer": int(config["num_layer"]),
        "emb_dim": int(config["emb_dim"]),
        "jk": config.get("jk", "last"),
        "weights_dtype": config.get("weights_dtype", "float32"),
        "source_test_metrics": {k: m.mean for k, m in card.metric_block("test").items()},
        "source_command": card.command or "",
    }
    return state, info
