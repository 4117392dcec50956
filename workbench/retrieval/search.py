"""Molecule ⇄ text search with the shipped dual encoder.

* :func:`load_retriever` loads a ``dual_encoder`` checkpoint once per process
  (verified safetensors, device from :func:`workbench.predict.inference.get_device`,
  thread-safe cache) together with its text encoder (frozen, or with the
  fine-tuned top layers the checkpoint stores under ``text_top.*``).
* :func:`embed_library` embeds a molecule library once and keeps the embeddings
  on disk keyed by the model's weight hash and the library's content;
  :class:`EmbeddingIndex` searches them exactly (numpy) when small and with
  FAISS when large.
* :func:`search_molecules` (text → molecules), :func:`rank_library` (screening:
  every row scored, row-level errors), :func:`describe` (molecule → ChEBI-20
  descriptions) and :func:`nearest_corpus_molecules` return DataFrames with a
  ``score`` column (cosine similarity in the shared space).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.numpy import load_file as load_numpy
from safetensors.numpy import save_file as save_numpy
from safetensors.torch import load_file

from workbench import chem
from workbench.chem.files import read_molecules
from workbench.data import load_approved_drugs, load_chebi20
from workbench.data.paths import cache_dir
from workbench.featurizers import FeaturizationError, graph_arrays
from workbench.models import Checkpoint, CheckpointError, find_checkpoints, verify_weights
from workbench.nn.dual_encoder import DualEncoder
from workbench.nn.text_backbone import TextBackbone, build_backbone
from workbench.predict.inference import get_device

__all__ = [
    "DEFAULT_MODEL",
    "FAISS_THRESHOLD",
    "LIBRARIES",
    "EmbeddingIndex",
    "Library",
    "Retriever",
    "clear_cache",
    "describe",
    "embed_library",
    "hits_to_sdf",
    "library_frame",
    "load_index",
    "load_retriever",
    "nearest_corpus_molecules",
    "rank_library",
    "save_index",
    "search_molecules",
]

DEFAULT_MODEL = "retrieval_amole"
#: Libraries with more rows than this are searched with FAISS; smaller ones with one matrix product.
FAISS_THRESHOLD = 20_000
LIBRARIES = {"drugs": "ChEMBL approved drugs (small molecules)", "chebi": "ChEBI-20 molecules"}
INDEX_FORMAT = "1"

_LOCK = threading.Lock()
_RETRIEVERS: dict[tuple[str, str], Retriever] = {}
_LIBRARIES: dict[tuple[str, str], Library] = {}


@dataclass
class Retriever:
    """A loaded dual encoder with its text backbone, on one device."""

    checkpoint: Checkpoint
    model: DualEncoder
    backbone: TextBackbone
    device: torch.device
    model_hash: str
    corpus_cids: np.ndarray | None = None
    corpus_features: np.ndarray | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def name(self) -> str:
        return self.checkpoint.name

    @property
    def proj_dim(self) -> int:
        return self.model.proj_dim

    @torch.no_grad()
    def project_text_features(self, features: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Shared-space embeddings from frozen backbone features."""
        out = []
        for start in range(0, len(features), batch_size):
            chunk = torch.from_numpy(np.asarray(features[start : start + batch_size], dtype=np.float32))
            out.append(self.model.encode_texts(chunk.to(self.device)).float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.proj_dim), dtype=np.float32)

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        """Normalised embeddings ``[n, proj_dim]`` of free texts."""
        with self._lock:  # the tokenizer is not re-entrant
            features = self.backbone.encode(list(texts))
        return self.project_text_features(features)

    @torch.no_grad()
    def embed_molecules(
        self,
        smiles: Sequence[str | None],
        *,
        batch_size: int = 256,
        callback: Callable[[int, int], None] | None = None,
    ) -> tuple[np.ndarray, pd.DataFrame]:
        """Embed molecules; returns ``(embeddings, parsed)`` aligned with the input.

        ``parsed`` has ``input``, ``smiles`` and ``error``; rows with an error have
        all-zero embeddings (score 0 against anything) and are never ranked.
        """
        from workbench.train.retrieval import collate_graphs

        parsed = chem.parse(list(smiles), inchikey=False).drop(columns=["inchikey"], errors="ignore")
        mols = parsed.attrs.get("mols")
        parsed = parsed.copy()
        parsed.attrs = {}
        errors = parsed["error"].astype(str).tolist()
        graphs: dict[int, tuple] = {}
        for i, mol in enumerate(mols):
            if mol is None or errors[i]:
                continue
            try:
                graphs[i] = graph_arrays(mol)
            except FeaturizationError as exc:
                errors[i] = str(exc)
        parsed["error"] = errors
        out = np.zeros((len(parsed), self.proj_dim), dtype=np.float32)
        rows = sorted(graphs)
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            tensors = collate_graphs([graphs[i] for i in chunk], self.device)
            out[chunk] = self.model.encode_molecules(*tensors).float().cpu().numpy()
            if callback is not None:
                callback(min(start + batch_size, len(rows)), len(rows))
        return out, parsed


def _resolve(name: str) -> Checkpoint:
    found = {c.name: c for c in find_checkpoints()[0]}
    if name not in found:
        raise KeyError(
            f"no retrieval checkpoint named '{name}' (registered: {', '.join(sorted(found)) or 'none'}); "
            "train one with `workbench train retrieval`"
        )
    checkpoint = found[name]
    if checkpoint.architecture != "dual_encoder":
        raise CheckpointError(f"checkpoint '{name}' is a {checkpoint.architecture}, not a dual_encoder")
    return checkpoint


def _build(checkpoint: Checkpoint, device: torch.device) -> Retriever:
    card = checkpoint.card
    verify_weights(checkpoint.path, card)
    config = card["architecture"]["config"]
    backbone = build_backbone(config["text_backbone"], device)
    text_layers = int(config["text_backbone"].get("trainable_layers", 0))
    model = DualEncoder(
        config["text_dim"],
        config["proj_dim"],
        config["num_layer"],
        config["emb_dim"],
        config["drop_ratio"],
        config["jk"],
        text_top=backbone.top(text_layers) if text_layers else None,
    )
    entries = {w.get("role", "model"): w for w in card["weights"]}
    model.load_state_dict(load_file(str(checkpoint.path / entries["model"]["file"]), device="cpu"))
    model.eval().to(device)
    if model.text_top is not None:
        backbone.load_top(model.text_top)  # queries are embedded with the fine-tuned layers
    cids = features = None
    if "corpus_text_features" in entries:
        corpus = load_file(str(checkpoint.path / entries["corpus_text_features"]["file"]), device="cpu")
        cids, features = corpus["cid"].numpy(), corpus["features"].float().numpy()
    return Retriever(checkpoint, model, backbone, device, entries["model"]["sha256"], cids, features)


def load_retriever(name: str | Checkpoint = DEFAULT_MODEL, device: str | torch.device | None = None) -> Retriever:
    """Load a dual-encoder checkpoint once per process and device (thread-safe)."""
    dev = torch.device(device) if isinstance(device, torch.device) else get_device(device)
    checkpoint = name if isinstance(name, Checkpoint) else _resolve(name)
    key = (str(checkpoint.path.resolve()), str(dev))
    cached = _RETRIEVERS.get(key)
    if cached is not None:
        return cached
    with _LOCK:
        cached = _RETRIEVERS.get(key)
        if cached is None:
            cached = _build(checkpoint, dev)
            _RETRIEVERS[key] = cached
    return cached


def clear_cache() -> None:
    """Forget loaded retrievers and library embeddings (tests, or after re-training)."""
    with _LOCK:
        _RETRIEVERS.clear()
        _LIBRARIES.clear()


class EmbeddingIndex:
    """Inner-product search over normalised vectors: exact (numpy) or FAISS (``IndexFlatIP``).

    Args:
        vectors: ``[n, d]`` float32, L2-normalised; all-zero rows are never returned.
        kind: ``exact``, ``faiss`` or ``auto`` (FAISS above :data:`FAISS_THRESHOLD` rows).
    """

    def __init__(self, vectors: np.ndarray, kind: str = "auto") -> None:
        if kind not in ("auto", "exact", "faiss"):
            raise ValueError("kind must be auto, exact or faiss")
        self.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        self.valid = np.abs(self.vectors).sum(1) > 0
        self.kind = ("faiss" if len(vectors) > FAISS_THRESHOLD else "exact") if kind == "auto" else kind
        self._faiss = None
        if self.kind == "faiss":
            import faiss

            self._faiss = faiss.IndexFlatIP(self.vectors.shape[1])
            self._faiss.add(self.vectors)

    def __len__(self) -> int:
        return len(self.vectors)

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` rows per query: ``(scores, indices)``, each ``[n_queries, <=k]``, best first."""
        queries = np.ascontiguousarray(np.atleast_2d(queries), dtype=np.float32)
        k = min(k, int(self.valid.sum()))
        if k <= 0:
            return np.zeros((len(queries), 0), np.float32), np.zeros((len(queries), 0), np.int64)
        if self._faiss is not None:
            extra = int((~self.valid).sum())
            _, idx = self._faiss.search(queries, k + extra)
            keep = [[j for j in row if j >= 0 and self.valid[j]][:k] for row in idx]
            idx = np.array(keep, dtype=np.int64)
            return _rescore(queries, self.vectors, idx), idx
        scores = queries @ self.vectors.T
        scores[:, ~self.valid] = -np.inf
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.take_along_axis(scores, part, 1).argsort(1)[:, ::-1]
        idx = np.take_along_axis(part, order, 1)
        return np.take_along_axis(scores, idx, 1), idx


def _rescore(queries: np.ndarray, vectors: np.ndarray, idx: np.ndarray) -> np.ndarray:
    return np.einsum("qd,qkd->qk", queries, vectors[idx])


def save_index(path: str | Path, vectors: np.ndarray, meta: dict) -> Path:
    """Write embeddings and their metadata (model hash, library, ...) as one safetensors file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    save_numpy(
        {"vectors": np.ascontiguousarray(vectors, dtype=np.float32)},
        str(tmp),
        metadata={"meta": json.dumps(meta), "format": INDEX_FORMAT},
    )
    tmp.replace(path)
    return path


def load_index(path: str | Path, *, model_hash: str | None = None) -> tuple[np.ndarray, dict]:
    """Read :func:`save_index` output; refuses embeddings made by another model."""
    from safetensors import safe_open

    with safe_open(str(path), framework="numpy") as handle:
        meta = json.loads((handle.metadata() or {}).get("meta", "{}"))
    if model_hash is not None and meta.get("model_hash") != model_hash:
        raise ValueError(f"{path} was embedded by another model ({str(meta.get('model_hash'))[:12]}…); re-embed it")
    return load_numpy(str(path))["vectors"], meta


@dataclass
class Library:
    """A molecule library with its embeddings and search index."""

    name: str
    frame: pd.DataFrame  # input, smiles, error, plus name/description/... where known
    index: EmbeddingIndex
    model_hash: str

    def __len__(self) -> int:
        return len(self.frame)


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
        raw = load_chebi20(progress=False).frame
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
    """Embed a library once (per process, and on disk under the cache folder keyed by model and content)."""
    retriever = retriever or load_retriever()
    name, frame = library_frame(library)
    digest = _content_hash(frame)
    key = (retriever.model_hash, digest)
    if key in _LIBRARIES:
        return _LIBRARIES[key]
    path = cache_dir() / "retrieval" / retriever.model_hash[:16] / f"{digest[:24]}.safetensors"
    vectors = None
    if cache and path.is_file():
        try:
            vectors, meta = load_index(path, model_hash=retriever.model_hash)
            errors = meta.get("errors")
            smiles = meta.get("smiles")
        except (ValueError, OSError):
            vectors = None
    if vectors is None or len(vectors) != len(frame):
        vectors, parsed = retriever.embed_molecules(frame["smiles"].astype(str).tolist(), callback=callback)
        errors, smiles = parsed["error"].tolist(), parsed["smiles"].tolist()
        if cache:
            meta = {"model_hash": retriever.model_hash, "library": name, "content_sha256": digest, "n": len(frame)}
            save_index(path, vectors, {**meta, "errors": errors, "smiles": smiles})
    out = frame.rename(columns={"smiles": "input"}).copy()
    out.insert(1, "smiles", smiles)
    out["error"] = errors
    result = Library(name, out, EmbeddingIndex(vectors), retriever.model_hash)
    with _LOCK:
        _LIBRARIES[key] = result
    return result


def _hits(library: Library, scores: np.ndarray, idx: np.ndarray) -> pd.DataFrame:
    rows = library.frame.iloc[idx].reset_index(drop=True).drop(columns=["error"])
    rows.insert(0, "rank", np.arange(1, len(idx) + 1))
    rows.insert(1, "score", scores.astype(float))
    return rows


def search_molecules(
    text: str,
    library: str | Path | pd.DataFrame | Library = "drugs",
    k: int = 10,
    *,
    retriever: Retriever | None = None,
    unique: bool = True,
) -> pd.DataFrame:
    """Top ``k`` molecules of a library for a text query, ranked by ``score`` (cosine).

    With ``unique`` (default) rows that standardise to the same molecule (a drug and its
    salts) are merged into one hit whose ``name`` lists them all.
    """
    if not str(text).strip():
        raise ValueError("the query text is empty")
    retriever = retriever or load_retriever()
    lib = library if isinstance(library, Library) else embed_library(library, retriever)
    query = retriever.embed_texts([text])
    fetch = k
    while True:
        scores, idx = lib.index.search(query, fetch)
        hits = _hits(lib, scores[0], idx[0])
        if not unique:
            return hits
        merged = _merge_same_molecule(hits)
        if len(merged) >= k or fetch >= int(lib.index.valid.sum()):
            merged = merged.head(k).copy()
            merged["rank"] = np.arange(1, len(merged) + 1)
            return merged
        fetch *= 4


def _merge_same_molecule(hits: pd.DataFrame) -> pd.DataFrame:
    """One row per standardised molecule (salt forms of a drug score the same); names joined with '; '."""
    if "name" not in hits.columns:
        return hits.drop_duplicates("smiles", keep="first").reset_index(drop=True)
    names = hits.groupby("smiles", sort=False)["name"].agg(lambda v: "; ".join(dict.fromkeys(map(str, v))))
    first = hits.drop_duplicates("smiles", keep="first").reset_index(drop=True)
    first["name"] = first["smiles"].map(names)
    return first


def rank_library(
    text: str,
    smiles: Sequence[str | None],
    *,
    retriever: Retriever | None = None,
    callback: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Screening: score every input molecule against a text prompt.

    Returns:
        One row per input, in input order, with ``input``, ``smiles``, ``score``,
        ``rank`` (1 = best; empty for rows with an ``error``) and ``error``.
    """
    retriever = retriever or load_retriever()
    query = retriever.embed_texts([text])[0]
    vectors, parsed = retriever.embed_molecules(smiles, callback=callback)
    ok = (parsed["error"] == "").to_numpy()
    scores = np.where(ok, vectors @ query, np.nan)
    out = parsed[["input", "smiles"]].copy()
    out["score"] = scores
    order = np.argsort(-np.nan_to_num(scores, nan=-np.inf), kind="stable")
    rank = np.full(len(out), np.nan)
    rank[order[: int(ok.sum())]] = np.arange(1, int(ok.sum()) + 1)
    out["rank"] = pd.array(rank, dtype="Int64")
    out["error"] = parsed["error"]
    return out


def _corpus(retriever: Retriever) -> tuple[pd.DataFrame, np.ndarray]:
    """ChEBI-20 descriptions and their shared-space embeddings."""
    raw = load_chebi20(progress=False).frame
    if retriever.corpus_features is not None and len(retriever.corpus_cids) == len(raw):
        if not np.array_equal(retriever.corpus_cids, raw["cid"].to_numpy()):
            raise ValueError("the ChEBI-20 copy here differs from the one the model's corpus features came from")
        vectors = retriever.project_text_features(retriever.corpus_features)
    else:
        vectors = retriever.embed_texts(raw["description"].astype(str).tolist())
    return raw, vectors


_CORPUS: dict[str, tuple[pd.DataFrame, EmbeddingIndex]] = {}


def _corpus_index(retriever: Retriever) -> tuple[pd.DataFrame, EmbeddingIndex]:
    if retriever.model_hash not in _CORPUS:
        raw, vectors = _corpus(retriever)
        with _LOCK:
            _CORPUS[retriever.model_hash] = (raw, EmbeddingIndex(vectors))
    return _CORPUS[retriever.model_hash]


def _one_molecule(smiles: str, retriever: Retriever) -> tuple[np.ndarray, str]:
    vectors, parsed = retriever.embed_molecules([smiles])
    if parsed.loc[0, "error"]:
        raise ValueError(f"cannot use '{smiles}': {parsed.loc[0, 'error']}")
    return vectors, str(parsed.loc[0, "smiles"])


def describe(smiles: str, k: int = 5, *, retriever: Retriever | None = None) -> pd.DataFrame:
    """The ``k`` ChEBI-20 descriptions closest to a molecule: ``rank``, ``score``, ``description``, ``cid``, ``smiles``.

    Raises:
        ValueError: the SMILES cannot be parsed or featurised.
    """
    retriever = retriever or load_retriever()
    vector, _ = _one_molecule(smiles, retriever)
    raw, index = _corpus_index(retriever)
    scores, idx = index.search(vector, k)
    out = raw.iloc[idx[0]][["description", "cid", "smiles"]].reset_index(drop=True)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out.insert(1, "score", scores[0].astype(float))
    return out


def nearest_corpus_molecules(smiles: str, k: int = 5, *, retriever: Retriever | None = None) -> pd.DataFrame:
    """The ``k`` ChEBI-20 molecules nearest in the shared space, with their descriptions."""
    retriever = retriever or load_retriever()
    vector, _ = _one_molecule(smiles, retriever)
    lib = embed_library("chebi", retriever)
    scores, idx = lib.index.search(vector, k)
    return _hits(lib, scores[0], idx[0])


def hits_to_sdf(hits: pd.DataFrame) -> str:
    """An SDF of result rows (2D, no coordinates computed beyond RDKit's defaults), every column as a property."""
    from rdkit import Chem
    from rdkit.Chem import AllChem

    blocks = []
    for row in hits.to_dict("records"):
        mol = Chem.MolFromSmiles(str(row.get("smiles") or ""))
        if mol is None:
            continue
        AllChem.Compute2DCoords(mol)
        mol.SetProp("_Name", str(row.get("name") or row.get("smiles")))
        for key, value in row.items():
            if key != "smiles" and value is not None and str(value) != "nan":
                mol.SetProp(str(key), str(value))
        blocks.append(Chem.MolToMolBlock(mol) + "".join(f">  <{p}>\n{mol.GetProp(p)}\n\n" for p in mol.GetPropNames()))
    return "$$$$\n".join(blocks) + ("$$$$\n" if blocks else "")
