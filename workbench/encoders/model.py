"""Shipped pretrained encoders: list their cards, load the GIN (sha256-checked safetensors), embed molecules."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from rdkit import Chem

from workbench.featurizers import mols_to_graphs
from workbench.featurizers.graph_batch import GraphBatch
from workbench.models import Checkpoint, CheckpointError, find_checkpoints, load_card, load_state_dicts
from workbench.nn import GIN, mean_pool

__all__ = ["ENCODER_ARCHITECTURE", "embed", "list_encoders", "load_encoder", "random_encoder"]

#: ``architecture.type`` of a shipped pretrained encoder (``workbench train pretrain`` writes it).
ENCODER_ARCHITECTURE = "gin_encoder"


def list_encoders(dirs: Sequence[Path] | None = None) -> list[Checkpoint]:
    """The registered pretrained encoders (cards with architecture ``gin_encoder``), by name."""
    checkpoints, _ = find_checkpoints(dirs)
    return sorted((c for c in checkpoints if c.architecture == ENCODER_ARCHITECTURE), key=lambda c: c.name)


def load_encoder(folder: str | Path) -> GIN:
    """The GIN of an encoder folder, in float32 and eval mode; its weights are checked against the card's sha256.

    Raises:
        CheckpointError: the folder is not an encoder, or its weights are missing, modified or unreadable.
    """
    folder = Path(folder)
    card = load_card(folder)
    if card.architecture.type != ENCODER_ARCHITECTURE:
        raise CheckpointError(f"{folder} holds a {card.architecture.type}, not a pretrained encoder")
    config = card.architecture.config
    state = load_state_dicts(folder, card)[0]
    gin = GIN(int(config["num_layer"]), int(config["emb_dim"]), 0.0, str(config.get("jk", "last")))
    stripped = {k.removeprefix("gnn."): v.float() if v.is_floating_point() else v for k, v in state.items()}
    try:
        gin.load_state_dict(stripped, strict=True)
    except RuntimeError as exc:
        raise CheckpointError(f"{folder}: the weights do not fit the GIN its card describes ({exc})") from exc
    return gin.eval()


def random_encoder(like: GIN | None = None, seed: int = 0) -> GIN:
    """A GIN from random weights (seeded), shaped like ``like`` (default 5 × 300, JK last), in eval mode."""
    generator_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        gin = GIN(like.num_layer, like.emb_dim, 0.0, like.jk) if like is not None else GIN(5, 300, 0.0, "last")
    finally:
        torch.random.set_rng_state(generator_state)
    return gin.eval()


def embed(encoder: GIN, smiles: Sequence[str], batch_size: int = 256) -> np.ndarray:
    """Mean-pooled GIN embeddings ``[len(smiles), out_dim]`` (float32); rows that cannot be featurized are NaN."""
    mols = [Chem.MolFromSmiles(s) if s else None for s in smiles]
    graphs, _ = mols_to_graphs(mols, workers=1)
    out = np.full((len(smiles), encoder.out_dim), np.nan, dtype=np.float32)
    rows = [i for i, g in enumerate(graphs) if g is not None]
    encoder.eval()
    with torch.no_grad():
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            batch = GraphBatch.from_graphs([graphs[i] for i in chunk])
            h = encoder(batch.x, batch.edge_index, batch.edge_attr)
            out[chunk] = mean_pool(h, batch.batch, len(chunk)).float().numpy()
    return out
