"""Molecule libraries to search: their rows, and their embeddings computed once.

:func:`embed_library` embeds a library (``drugs``, ``chebi``, a molecule file or a table) once per
process and keeps the embeddings on disk, keyed by the model's weight hash and the library's content.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.cache import prune, read_or_rebuild
from workbench.chem.files import read_molecules
from workbench.data import load_approved_drugs, load_chebi20
from workbench.data.paths import cache_dir
from workbench.retrieval.index import EmbeddingIndex, load_index, save_index
from workbench.retrieval.model import Retriever, load_retriever, model_scoped_cache

__all__ = [
    "LIBRARIES",
    "UPLOAD_CACHE_AGE_S",
    "UPLOAD_CACHE_BYTES",
    "Library",
    "chebi20_pairs",
    "embed_library",
    "library_frame",
]

LIBRARIES = {"drugs": "ChEMBL approved drugs (small molecules)", "chebi": "ChEBI-20 molecules"}
#: Embeddings of uploaded libraries are kept on disk at most this long (unused) and this much in all per model;
#: about 100 libraries of 10,000 molecules at 256 float32 dimensions, or a month since last use.
UPLOAD_CACHE_BYTES = 1024**3
UPLOAD_CACHE_AGE_S = 30 * 24 * 3600

_LOCK = threading.Lock()
_LIBRARIES: dict[tuple[str, str], Library] = model_scoped_cache()


@dataclass
class Library:
    """A molecule library with its embeddings and search index."""

    name: str
    frame: pd.DataFrame  # input, smiles, error, plus name/description/... where known
    index: EmbeddingIndex
    model_hash: str

    def __len__(self) -> int:
        return len(self.frame)


def chebi20_pairs() -> pd.DataFrame:
    """The ChEBI-20 molecule-description pairs (``cid``, ``smiles``, ``description``)."""
    return load_chebi20(progress=False).frame


def library_frame(library: str | Path | pd.DataFrame) -> tuple[str, pd.DataFrame]:
    """The rows of a library: ``drugs``, ``chebi``, a molecule file path, or a frame with ``smiles``."""
    if isinstance(library, pd.DataFrame):
        if "smiles" not in library.columns:
            raise ValueError("a library table needs a 'smiles' column")
        return "table", library.reset_index(drop=True)
    if library == "drugs":
        frame = load_approved_drugs().frame[["smiles", "name", "chembl_id", "first_approval"]]
        return "drugs", frame
    if library == "chebi":
        raw = chebi20_pairs()
        frame = pd.DataFrame(
            {"smiles": raw["smiles"], "name": "CID " + raw["cid"].astype(str), "description": raw["description"]}
        )
        return "chebi", frame
    path = Path(library)
    if not path.is_file():
        raise FileNotFoundError(f"library '{library}' is neither drugs, chebi nor a molecule file")
    return path.name, read_molecules(path).reset_index(drop=True)


def _content_hash(frame: pd.DataFrame) -> str:
    return hashlib.sha256("\n".join(frame["smiles"].astype(str)).encode()).hexdigest()


def embed_library(
    library: str | Path | pd.DataFrame,
    retriever: Retriever | None = None,
    *,
    cache: bool = True,
    callback: Callable[[int, int], None] | None = None,
) -> Library:
    """Embed a library once (per process, and on disk under the cache folder keyed by model and content).

    An unreadable cache file is rebuilt with a warning; a read-only cache folder keeps the embeddings in
    memory; uploaded libraries' files are evicted by :data:`UPLOAD_CACHE_AGE_S` and :data:`UPLOAD_CACHE_BYTES`.
    """
    retriever = retriever or load_retriever()
    name, frame = library_frame(library)
    digest = _content_hash(frame)
    key = (retriever.model_hash, digest)
    if key in _LIBRARIES:
        return _LIBRARIES[key]
    folder = cache_dir() / "retrieval" / retriever.model_hash[:16]
    if name not in LIBRARIES:
        folder = folder / "uploads"
    path = folder / f"{digest[:24]}.safetensors"

    def build() -> tuple[np.ndarray, list, list]:
        vectors, parsed = retriever.embed_molecules(frame["smiles"].astype(str).tolist(), callback=callback)
        return vectors, parsed["error"].tolist(), parsed["smiles"].tolist()

    def read(file: Path) -> tuple[np.ndarray, list, list]:
        vectors, meta = load_index(file, model_hash=retriever.model_hash)
        errors, smiles = meta.get("errors"), meta.get("smiles")
        if not (len(vectors) == len(frame) == len(errors or ()) == len(smiles or ())):
            raise ValueError(f"it holds {len(vectors)} rows for a library of {len(frame)}")
        return vectors, errors, smiles

    def write(file: Path, value: tuple[np.ndarray, list, list]) -> None:
        meta = {"model_hash": retriever.model_hash, "library": name, "content_sha256": digest, "n": len(frame)}
        save_index(file, value[0], {**meta, "errors": value[1], "smiles": value[2]})

    if cache:
        vectors, errors, smiles = read_or_rebuild(path, read, build, write, root=cache_dir())
        if name not in LIBRARIES:
            prune(folder, max_bytes=UPLOAD_CACHE_BYTES, max_age_s=UPLOAD_CACHE_AGE_S, pattern="*.safetensors")
    else:
        vectors, errors, smiles = build()
    out = frame.rename(columns={"smiles": "input"}).copy()
    out.insert(1, "smiles", smiles)
    out["error"] = errors
    result = Library(name, out, EmbeddingIndex(vectors), retriever.model_hash)
    with _LOCK:
        _LIBRARIES[key] = result
    return result
