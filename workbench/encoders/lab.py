"""The Pretraining lab's computations, one call each: maps of a data set under every encoder, and neighbours."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.encoders.maps import embedding_map, embedding_neighbours, map_dataset, tanimoto_neighbours
from workbench.encoders.model import embed, load_encoder, random_encoder

__all__ = ["RANDOM_INIT", "EncoderMaps", "encoder_maps", "neighbour_tables"]

#: Name of the contrast arm: a GIN from random weights, shaped like the first encoder.
RANDOM_INIT = "random init (no pretraining)"


@dataclass(frozen=True)
class EncoderMaps:
    """A labelled sample, its embeddings and 2D map under each encoder (by name), and where the data came from."""

    molecules: pd.DataFrame
    embeddings: dict[str, np.ndarray]
    points: dict[str, pd.DataFrame]
    source: str
    classification: bool


def encoder_maps(
    folders: Sequence[str | Path], dataset: str = "bbbp", n: int = 300, method: str = "pca", seed: int = 0
) -> EncoderMaps:
    """Embed a seeded sample of ``dataset`` with each encoder folder and a random-init GIN; map each to 2D."""
    molecules, source = map_dataset(dataset, n, seed)
    encoders = {Path(f).name: load_encoder(f) for f in folders}
    first = next(iter(encoders.values()), None)
    encoders[RANDOM_INIT] = random_encoder(first, seed)
    smiles = molecules["smiles"].tolist()
    embeddings = {name: embed(gin, smiles) for name, gin in encoders.items()}
    keep = np.all([np.isfinite(e).all(axis=1) for e in embeddings.values()], axis=0)
    molecules = molecules[keep].reset_index(drop=True)
    embeddings = {name: e[keep] for name, e in embeddings.items()}
    points = {}
    for name, e in embeddings.items():
        xy = embedding_map(e, method, seed)
        points[name] = molecules.assign(x=xy[:, 0], y=xy[:, 1])
    labels = molecules["label"].dropna().unique()
    classification = len(labels) <= 2 and set(labels.tolist()) <= {0, 1}
    return EncoderMaps(molecules, embeddings, points, source, bool(classification))


def neighbour_tables(
    query: str, maps: EncoderMaps, encoder: str, folders: Sequence[str | Path], k: int = 5, seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``k`` sample molecules nearest ``query``: by cosine in ``encoder``'s space, and by ECFP4 Tanimoto.

    Returns two frames with ``smiles``, ``label`` and ``similarity``, best first.
    """
    by_name = {Path(f).name: f for f in folders}
    if encoder != RANDOM_INIT and encoder not in by_name:
        raise ValueError(f"the encoder {encoder} is no longer registered; compute the maps again")
    gin = (
        load_encoder(by_name[encoder])
        if encoder in by_name
        else random_encoder(load_encoder(next(iter(by_name.values()))) if by_name else None, seed)
    )
    vector = embed(gin, [query])[0]
    if not np.isfinite(vector).all():
        raise ValueError("this molecule cannot be featurized as a graph")
    library = maps.molecules
    idx, sim = embedding_neighbours(vector, maps.embeddings[encoder], k)
    cosine = library.iloc[idx].assign(similarity=sim).reset_index(drop=True)
    idx, sim = tanimoto_neighbours(query, library["smiles"].tolist(), k)
    tanimoto = library.iloc[idx].assign(similarity=sim).reset_index(drop=True)
    return cosine, tanimoto
