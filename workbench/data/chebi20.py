"""ChEBI-20 molecule–text pairs (Edwards et al. 2021)."""

from __future__ import annotations

import hashlib

import pandas as pd

from workbench.data.dataset import MolDataset
from workbench.data.download import download, verify_sidecar
from workbench.data.paths import cache_dir, search_dirs

__all__ = ["CHEBI20_FILES", "load_chebi20"]

CHEBI20_BASE = "https://raw.githubusercontent.com/blender-nlp/MolT5/main/ChEBI-20_data/"
CHEBI20_FILES = ("validation.txt", "test.txt")


def _locate(filename: str, download_missing: bool, progress: bool):
    for folder in search_dirs("chebi20"):
        if (folder / filename).is_file():
            return folder / filename
    dest = cache_dir() / "chebi20" / filename
    if not download_missing:
        raise FileNotFoundError(f"{filename} not found in {', '.join(map(str, search_dirs('chebi20')))}")
    return download(CHEBI20_BASE + filename, dest, progress=progress)


def load_chebi20(*, download_missing: bool = True, progress: bool = True) -> MolDataset:
    """The published validation and test pairs as one corpus.

    Columns: ``cid``, ``smiles``, ``description`` and ``source_split`` (the file a
    pair came from); make your own train/validation/test split from it.
    """
    frames, digests, paths = [], [], []
    for filename in CHEBI20_FILES:
        path = _locate(filename, download_missing, progress)
        digests.append(
            verify_sidecar(path, url=CHEBI20_BASE + filename if download_missing else None, progress=progress)
        )
        paths.append(path)
        part = pd.read_csv(path, sep="\t", dtype={"CID": "int64"}, keep_default_na=False)
        part = part.rename(columns={"CID": "cid", "SMILES": "smiles"})
        part["source_split"] = filename.removesuffix(".txt")
        frames.append(part[["cid", "smiles", "description", "source_split"]])
    frame = pd.concat(frames, ignore_index=True)
    combined = hashlib.sha256("".join(digests).encode()).hexdigest()
    return MolDataset("chebi20", frame, [], "text", paths[0].parent, combined, meta={"files": [str(p) for p in paths]})
