"""Retrieval metrics of a dual encoder on corpus pairs: embeddings, MRR, Recall@k, T-choose-1 accuracy, and the
class-level test (:mod:`workbench.retrieval.classes`) of a model being trained."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from workbench.nn.dual_encoder import DualEncoder
from workbench.nn.text_backbone import HiddenStates, MiniLMBackbone, TextBackbone
from workbench.retrieval.classes import ClassTask, class_metrics
from workbench.retrieval.corpus import RetrievalCorpus, collate_graphs

__all__ = [
    "EVAL_SEEDS",
    "T_CHOICES",
    "ClassQueries",
    "embed_corpus",
    "embed_pair_molecules",
    "evaluate_class_task",
    "evaluate_retrieval",
    "retrieval_metrics",
]

T_CHOICES = (4, 10, 20)
EVAL_SEEDS = (0, 1, 2, 3, 4)


def _text_embeddings(model: DualEncoder, corpus: RetrievalCorpus, rows: np.ndarray, device) -> torch.Tensor:
    """Text embeddings of the pairs ``rows``: frozen features, or the fine-tuned top layers over cached states."""
    if model.text_top is not None:
        if corpus.text_states is None:
            raise ValueError("the model fine-tunes text layers: attach_text_states(corpus, ...) first")
        return model.encode_text_states(corpus.text_states, corpus.state_rows(rows))
    return model.encode_texts(torch.from_numpy(corpus.text_features[rows]).to(device))


def embed_pair_molecules(model: DualEncoder, corpus: RetrievalCorpus, rows: np.ndarray, device) -> torch.Tensor:
    """Molecule embeddings of the corpus pairs ``rows`` (graphs for a GIN tower, stored vectors for feature towers)."""
    rows = np.asarray(rows, dtype=np.int64)
    features = None
    feature_towers = [t for t in model.towers if t != "gin"]
    if feature_towers:
        missing = [t for t in feature_towers if t not in corpus.features]
        if missing:
            raise ValueError(f"the model has {missing} towers: attach_molecule_features(corpus, ...) first")
        features = {t: torch.from_numpy(corpus.features[t][rows]).to(device) for t in feature_towers}
    graphs = collate_graphs([corpus.graphs[i] for i in rows], device) if "gin" in model.towers else ()
    return model.encode_molecules(*graphs, features=features)


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
        mols.append(embed_pair_molecules(model, corpus, rows, device).cpu())
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


class ClassQueries:
    """The class queries of a :class:`ClassTask`, prepared once for a model being trained.

    A frozen sentence encoder gives their features; with fine-tuned top layers, the token states entering
    those layers (the model runs the layers each time it is evaluated).
    """

    def __init__(self, task: ClassTask, backbone: TextBackbone, text_layers: int = 0) -> None:
        self.task = task
        self.states: HiddenStates | None = None
        self.features: np.ndarray | None = None
        if not len(task):
            return
        if text_layers:
            if not isinstance(backbone, MiniLMBackbone):
                raise ValueError("only the MiniLM text encoder has layers to fine-tune")
            self.states = backbone.hidden_states(task.queries, text_layers)
        else:
            self.features = backbone.encode(task.queries)

    @torch.no_grad()
    def embed(self, model: DualEncoder) -> np.ndarray:
        """Shared-space embeddings of the queries with ``model``'s current weights."""
        if not len(self.task):
            return np.zeros((0, model.out_dim), dtype=np.float32)
        if self.states is not None:
            return model.encode_text_states(self.states, np.arange(len(self.task))).cpu().numpy()
        device = next(model.parameters()).device
        return model.encode_texts(torch.from_numpy(self.features).to(device)).cpu().numpy()


@torch.no_grad()
def evaluate_class_task(model: DualEncoder, corpus: RetrievalCorpus, queries: ClassQueries):
    """:func:`~workbench.retrieval.classes.class_metrics` of a model on the molecules of ``queries.task``."""
    model.eval()
    device = next(model.parameters()).device
    rows = queries.task.rows
    molecules = [
        embed_pair_molecules(model, corpus, rows[start : start + 256], device).cpu()
        for start in range(0, len(rows), 256)
    ]
    stacked = torch.cat(molecules).numpy() if molecules else np.zeros((0, model.out_dim), dtype=np.float32)
    return class_metrics(stacked, queries.embed(model), queries.task)
