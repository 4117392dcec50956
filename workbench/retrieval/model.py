"""The dual encoder at inference: load a ``dual_encoder`` checkpoint once per process and embed with it.

:func:`load_retriever` loads a checkpoint (verified safetensors, device from
:func:`workbench.predict.inference.get_device`, thread-safe cache) together with its text
encoder (frozen, or with the fine-tuned top layers the checkpoint stores under ``text_top.*``).
:func:`clear_cache` forgets the loaded retrievers and every cache made with
:func:`model_scoped_cache` (the library embeddings).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from workbench import chem
from workbench.featurizers import FeaturizationError, graph_arrays
from workbench.models import Checkpoint, CheckpointError, find_checkpoints, verify_weights
from workbench.models.store import cast_floating, load_safetensors
from workbench.nn.dual_encoder import DualEncoder
from workbench.nn.text_backbone import TextBackbone, build_backbone
from workbench.predict.inference import get_device
from workbench.retrieval.corpus import collate_graphs

__all__ = ["DEFAULT_MODEL", "Retriever", "clear_cache", "load_retriever", "model_scoped_cache"]

DEFAULT_MODEL = "retrieval_amole"

_LOCK = threading.Lock()
_RETRIEVERS: dict[tuple[str, str], Retriever] = {}
_MODEL_SCOPED: list[dict] = []  # caches of what a loaded model computed; emptied by clear_cache


def model_scoped_cache(cache: dict | None = None) -> dict:
    """A per-process cache (``cache``, or a new dict) that :func:`clear_cache` empties together with the loaded
    retrievers."""
    cache = {} if cache is None else cache
    _MODEL_SCOPED.append(cache)
    return cache


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
        """Width of the shared-space embeddings (``proj_dim`` per molecule tower)."""
        return self.model.out_dim

    @property
    def feature_sets(self) -> dict:
        """The fitted feature sets of the model's feature towers (name -> card params); empty for a GIN alone."""
        return dict(self.checkpoint.card.architecture.config.get("feature_sets") or {})

    def sentence_features(self, texts: Sequence[str]) -> np.ndarray:
        """Sentence-encoder vectors (normalised; with the fine-tuned top layers) of free texts, before projection."""
        with self._lock:
            return self.backbone.encode(list(texts))

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
        out = np.zeros((len(parsed), self.proj_dim), dtype=np.float32)
        rows = sorted(graphs)
        uses_gin = "gin" in self.model.towers
        for start in range(0, len(rows), batch_size):
            chunk = rows[start : start + batch_size]
            features = self._features([mols[i] for i in chunk], chunk, errors)
            tensors = collate_graphs([graphs[i] for i in chunk], self.device) if uses_gin else ()
            vectors = self.model.encode_molecules(*tensors, features=features).float().cpu().numpy()
            out[chunk] = np.where(np.array([errors[i] == "" for i in chunk])[:, None], vectors, 0.0)
            if callback is not None:
                callback(min(start + batch_size, len(rows)), len(rows))
        parsed["error"] = errors
        return out, parsed

    def _features(self, mols: list, rows: list[int], errors: list[str]) -> dict[str, torch.Tensor] | None:
        """Feature vectors of the feature towers; a molecule a set cannot embed gets its error in ``errors``."""
        sets = self.feature_sets
        if not sets:
            return None
        from workbench.featurizers.feature_sets import EMBEDDING_FAILED, FittedFeatures

        out = {}
        for name, params in sets.items():
            x, notes = FittedFeatures.from_params(params).transform(mols)
            for row, note in zip(rows, notes, strict=True):
                if note.startswith(EMBEDDING_FAILED) and not errors[row]:
                    errors[row] = note
            out[name] = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(self.device)
        return out


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
    config = card.architecture.config
    backbone = build_backbone(config["text_backbone"], device)
    text_layers = int(config["text_backbone"].get("trainable_layers", 0))
    towers = tuple(config.get("towers") or ("gin",))
    feature_sets = config.get("feature_sets") or {}
    model = DualEncoder(
        config["text_dim"],
        config["proj_dim"],
        config.get("num_layer", 3),
        config.get("emb_dim", 256),
        config["drop_ratio"],
        config.get("jk", "last"),
        text_top=backbone.top(text_layers) if text_layers else None,
        towers=towers,
        feature_dims={name: int(config["feature_dims"][name]) for name in feature_sets},
        hidden=int(config.get("hidden", 512)),
    )
    entries = {w.role or "model": w for w in card.weights}
    stored = load_safetensors(checkpoint.path / entries["model"].file)  # float16 or float32 on disk (weights_dtype)
    model.load_state_dict(cast_floating(stored, torch.float32))
    model.eval().to(device)
    if model.text_top is not None:
        backbone.load_top(model.text_top)  # queries are embedded with the fine-tuned layers
    cids = features = None
    if "corpus_text_features" in entries:
        corpus = load_safetensors(checkpoint.path / entries["corpus_text_features"].file)
        cids, features = corpus["cid"].numpy(), corpus["features"].float().numpy()
    return Retriever(checkpoint, model, backbone, device, entries["model"].sha256, cids, features)


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
        for cache in _MODEL_SCOPED:
            cache.clear()
