"""Retrieval metrics of a dual encoder on corpus pairs: embeddings, MRR, Recall@k, T-choose-1 accuracy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from workbench.nn.dual_encoder import DualEncoder
from workbench.retrieval.corpus import RetrievalCorpus, collate_graphs

__all__ = ["EVAL_SEEDS", "T_CHOICES", "embed_corpus", "evaluate_retrieval", "retrieval_metrics"]

T_CHOICES = (4, 10, 20)
EVAL_SEEDS = (0, 1, 2, 3, 4)


def _text_embeddings(model: DualEncoder, corpus: RetrievalCorpus, rows: np.ndarray, device) -> torch.Tensor:
    """Text embeddings of the pairs ``rows``: frozen features, or the fine-tuned top layers over cached states."""
    if model.text_top is not None:
        if corpus.text_states is None:
            raise ValueError("the model fine-tunes text layers: attach_text_states(corpus, ...) first")
        return model.encode_text_states(corpus.text_states, corpus.state_rows(rows))
    return model.encode_texts(torch.from_numpy(corpus.text_features[rows]).to(device))


@torch.no_grad()
def embed_corpus(
    model: DualEncoder, corpus: RetrievalCorpus, idx: np.ndarray, *, batch_size: int = 256
) -> tuple[np.ndarray, np.ndarray]:
    """Molecule and text embeddings of the pairs ``idx`` (model in eval mode)."""
    model.eval()
    device = next(model.parameters()).device
    mols, texts = [], []
    for start in range(0, len(idx), batch_size):
        rows = idx[start : start + batch_size]
        mols.append(model.encode_molecules(*collate_graphs([corpus.graphs[i] for i in rows], device)).cpu())
        texts.append(_text_embeddings(model, corpus, rows, device).cpu())
    return torch.cat(mols).numpy(), torch.cat(texts).numpy()


def retrieval_metrics(mol: np.ndarray, text: np.ndarray, seeds: Sequence[int] = EVAL_SEEDS) -> dict[str, float]:
    """Both directions over the whole set: MRR, Recall@1, Recall@10, and T-choose-1 accuracy.

    Row i of ``mol`` and ``text`` is a matched pair. T-choose-1: for each query, its
    positive among T-1 random other candidates of the set (one draw per seed, averaged).
    """
    scores = mol @ text.T
    n = len(scores)
    out: dict[str, float] = {}
    for direction, s in (("mol2text", scores), ("text2mol", scores.T)):
        positive = np.diag(s)
        rank = 1 + (s > positive[:, None]).sum(1)
        out[f"{direction}_mrr"] = float(np.mean(1.0 / rank))
        out[f"{direction}_r1"] = float(np.mean(rank <= 1))
        out[f"{direction}_r10"] = float(np.mean(rank <= 10))
        for t in T_CHOICES:
            if n < t:
                continue
            accs = []
            for seed in seeds:
                rng = np.random.default_rng(seed)
                negs = rng.integers(0, n - 1, size=(n, t - 1))
                negs = negs + (negs >= np.arange(n)[:, None])  # skip the positive itself
                neg_scores = np.take_along_axis(s, negs, axis=1)
                accs.append(np.mean((positive[:, None] > neg_scores).all(1)))
            out[f"{direction}_acc_T{t}"] = float(np.mean(accs))
    return out


def evaluate_retrieval(model: DualEncoder, corpus: RetrievalCorpus, idx: np.ndarray) -> dict[str, float]:
    """:func:`retrieval_metrics` on the pairs ``idx``."""
    return retrieval_metrics(*embed_corpus(model, corpus, idx))
