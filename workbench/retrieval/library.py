"""Molecule libraries to search: their rows, and their embeddings computed once.

:func:`embed_library` embeds a library (``drugs``, ``chebi``, a molecule file or a table) once per
process and keeps the embeddings on disk, keyed by the model's weight hash and the library's content.
A retrieval checkpoint ships the embeddings of the approved drugs and of the ChEBI-20 molecules
(:func:`store_library_embeddings`, float16, hashed in its card like the weights), so the Text retrieval page's
first view embeds nothing, even with a slow molecule tower (MiniMol, RDKit 2D descriptors); they are used
while the library's content is the one they were made from.
"""

from __future__ import annotations

import hashlib
import logging
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
from workbench.models.card import ModelCard
from workbench.models.card_schema import CheckpointError
from workbench.models.store import reference_path, set_reference_files
from workbench.retrieval.index import EmbeddingIndex, load_index, save_index
from workbench.retrieval.model import Retriever, load_retriever, model_scoped_cache

__all__ = [
    "LIBRARIES",
    "LIBRARY_KINDS",
    "LIBRARY_REFERENCE",
    "SHIPPED_LIBRARIES",
    "UPLOAD_CACHE_AGE_S",
    "UPLOAD_CACHE_BYTES",
    "Library",
    "chebi20_pairs",
    "embed_library",
    "library_frame",
    "store_library_embeddings",
]

LIBRARIES = {"drugs": "ChEMBL approved drugs (small molecules)", "chebi": "ChEBI-20 molecules"}
#: Embeddings of uploaded libraries are kept on disk at most this long (unused) and this much in all per model;
#: about 100 libraries of 10,000 molecules at 256 float32 dimensions, or a month since last use.
UPLOAD_CACHE_BYTES = 1024**3
UPLOAD_CACHE_AGE_S = 30 * 24 * 3600
#: Named libraries whose embeddings a retrieval checkpoint ships, and the card's reference kind for them.
LIBRARY_KINDS = {"drugs": "library_embeddings", "chebi": "corpus_library_embeddings"}
SHIPPED_LIBRARIES = tuple(LIBRARY_KINDS)
#: The approved drugs' kind (the first library a checkpoint shipped).
LIBRARY_REFERENCE = LIBRARY_KINDS["drugs"]

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

    shipped = _shipped(retriever, name, digest) if name in SHIPPED_LIBRARIES else None
    if shipped is not None:
        vectors, errors, smiles = shipped
    elif cache:
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


def _library_file(name: str) -> str:
    return f"library_{name}.safetensors"


def _shipped(retriever: Retriever, name: str, digest: str) -> tuple[np.ndarray, list, list] | None:
    """The checkpoint's own embeddings of library ``name`` when they match its content; else ``None``."""
    kind = LIBRARY_KINDS[name]
    entry = retriever.checkpoint.card.reference(kind)
    if entry is None or entry.file != _library_file(name):
        return None
    try:
        path = reference_path(retriever.checkpoint, kind)
        vectors, meta = load_index(path, model_hash=retriever.model_hash)
    except (CheckpointError, ValueError) as exc:  # tampered or unreadable: embed the library instead
        logging.getLogger(__name__).warning("not using the shipped %s embeddings: %s", name, exc)
        return None
    if meta.get("content_sha256") != digest or len(meta.get("errors", ())) != len(vectors):
        return None  # another version of the library: embed it
    return vectors.astype(np.float32), list(meta["errors"]), list(meta["smiles"])


def store_library_embeddings(retriever: Retriever, library: str = "drugs") -> ModelCard:
    """Embed a named library with ``retriever``, store it in the retriever's checkpoint folder and record it.

    Raises:
        ValueError: for a library that is not in :data:`SHIPPED_LIBRARIES`.
        FileNotFoundError: when the library's data file is not available.
    """
    if library not in SHIPPED_LIBRARIES:
        raise ValueError(f"only {', '.join(SHIPPED_LIBRARIES)} embeddings are stored with a checkpoint")
    name, frame = library_frame(library)
    vectors, parsed = retriever.embed_molecules(frame["smiles"].astype(str).tolist())
    meta = {
        "model_hash": retriever.model_hash,
        "library": name,
        "content_sha256": _content_hash(frame),
        "n": len(frame),
        "errors": parsed["error"].tolist(),
        "smiles": parsed["smiles"].tolist(),
    }
    folder = retriever.checkpoint.path
    save_index(folder / _library_file(name), vectors, meta, dtype=np.float16)
    return set_reference_files(
        folder, [{"file": _library_file(name), "kind": LIBRARY_KINDS[name], "molecules": len(frame)}]
    )
