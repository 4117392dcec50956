"""A class-level retrieval test built from the corpus itself: recurring class phrases of ChEBI-20 descriptions.

ChEBI-20 descriptions name the classes and roles of their molecule in a few fixed sentence shapes. The
phrases are read from those shapes by pattern, never from a hand-made list (:func:`class_phrases`):

* the head noun phrase of the first sentence, ``The molecule is a X that / which / in which / consisting ...``
  (X up to the first relative clause, participle, preposition, comma, bracket or full stop);
* the items of ``It is a A, a B and a C.``;
* the items of ``It has a role as a X, a Y and a Z.``.

A phrase is normalised (lower case, article and trailing punctuation stripped); items that relate the
molecule to one other molecule (``a conjugate acid of a ...``, ``an enantiomer of ...``, ``a tautomer of ...``)
are not classes and are skipped, as are items of more than :data:`MAX_WORDS` words. A molecule belongs to a
class when one of its descriptions yields the phrase; pairs of the same molecule (one InChIKey) count once.

:func:`class_task` keeps the phrases with at least ``min_members`` molecules in one part of a split (the
validation or the test molecules); :func:`class_metrics` scores each class's query (the phrase with its
article, as the descriptions most often write it: ``a beta-lactam antibiotic``) against every molecule of
that part and reports ROC-AUC and average precision of the score against membership. On validation or test
molecules this is a text -> molecule test on descriptions the model never trained on.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = [
    "MAX_WORDS",
    "MIN_MEMBERS",
    "ClassTask",
    "average_precision",
    "class_metrics",
    "class_phrases",
    "class_summary",
    "class_task",
    "evaluate_classes",
    "phrase_counts",
    "roc_auc",
    "sentences",
]

#: Fewest molecules of the evaluated part a class needs.
MIN_MEMBERS = 5
#: Longest class phrase kept (words, article excluded): longer items are descriptions, not class names.
MAX_WORDS = 8

_SENTENCE = re.compile(r"(?<=\.)\s+(?=[A-Z(\[])")
_LIST_ITEM = re.compile(r",\s+(?:and\s+)?(?=an?\s)|\s+and\s+(?=an?\s)")
_IS = re.compile(r"^It is (an? .+?)\.?$")
_ROLE = re.compile(r"^It has a role as (an? .+?)\.?$")
_HEAD_END = (
    r"that|which|in which|whose|where|consisting|composed|comprising|containing|obtained|derived|resulting|"
    r"arising|formed|produced|isolated|found|used|with|having|bearing|carrying|substituted|from|by|as|for|in|on"
)
_HEAD = re.compile(rf"^The molecule is (an? .+?)(?=\s+(?:{_HEAD_END})\b|,\s|;|:|\s+\(|\.\s|\.$|$)")
_RELATIONAL = re.compile(
    r"\bof an?\b|^(?:conjugate|tautomer|enantiomer|zwitterion|diastereomer|epimer|stereoisomer|isomer|salt of)\b"
)
_ARTICLE = re.compile(r"^(an?)\s+(.+)$", re.IGNORECASE)


def sentences(description: str) -> list[str]:
    """The sentences of a description (split after a full stop followed by a capital or a bracket)."""
    return [s.strip() for s in _SENTENCE.split(str(description).strip()) if s.strip()]


def _item(text: str) -> tuple[str, str] | None:
    """``(normalised phrase, query as written)`` of one list item, or ``None`` when it is not a class."""
    text = text.strip().rstrip(".,;:").strip()
    match = _ARTICLE.match(text)
    if match is None:
        return None
    phrase = " ".join(match.group(2).split()).lower().rstrip(".,;:")
    if not phrase or len(phrase.split()) > MAX_WORDS or _RELATIONAL.search(phrase):
        return None
    return phrase, f"{match.group(1).lower()} {' '.join(match.group(2).split()).rstrip('.,;:')}"


def class_phrases(description: str) -> dict[str, str]:
    """The class phrases of one description: ``{normalised phrase: the query as written, with its article}``."""
    found: dict[str, str] = {}
    parts = sentences(description)
    if not parts:
        return found
    items = []
    head = _HEAD.match(parts[0])
    if head is not None:
        items.append(head.group(1))
    for sentence in parts[1:]:
        for pattern in (_IS, _ROLE):
            match = pattern.match(sentence)
            if match is not None:
                items += _LIST_ITEM.split(match.group(1))
    for text in items:
        got = _item(text)
        if got is not None and got[0] not in found:
            found[got[0]] = got[1]
    return found


@dataclass
class ClassTask:
    """The classes of one part of a split and which of its molecules belong to each.

    Attributes:
        part: what the molecules are (``valid``, ``test``).
        rows: corpus rows, one per molecule (the first pair of each InChIKey), in corpus order.
        phrases: normalised class phrases; ``queries``: the text each is queried with.
        membership: ``[len(rows), len(phrases)]`` bool.
    """

    part: str
    rows: np.ndarray
    phrases: list[str]
    queries: list[str]
    membership: np.ndarray

    def __len__(self) -> int:
        return len(self.phrases)

    def members(self) -> np.ndarray:
        """Molecules per class."""
        return self.membership.sum(0)


def class_task(
    frame: pd.DataFrame,
    rows: Sequence[int] | np.ndarray,
    *,
    part: str = "test",
    min_members: int = MIN_MEMBERS,
) -> ClassTask:
    """The classes with at least ``min_members`` molecules among the pairs ``rows`` of ``frame``.

    Args:
        frame: the corpus pairs (``description``; ``inchikey`` groups the pairs of one molecule when present).
        rows: the pairs of the evaluated part (e.g. ``split.test``).

    Returns:
        A :class:`ClassTask`, classes ordered by decreasing size, then by phrase.
    """
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    keys = frame["inchikey"].to_numpy()[rows] if "inchikey" in frame.columns else rows
    descriptions = frame["description"].astype(str).to_numpy()
    molecules: dict[object, int] = {}
    per_molecule: list[set[str]] = []
    first_rows: list[int] = []
    surface: dict[str, Counter] = {}
    for row, key in zip(rows, keys, strict=True):
        if key not in molecules:
            molecules[key] = len(first_rows)
            first_rows.append(int(row))
            per_molecule.append(set())
        for phrase, query in class_phrases(descriptions[row]).items():
            per_molecule[molecules[key]].add(phrase)
            surface.setdefault(phrase, Counter())[query] += 1
    counts = Counter(p for found in per_molecule for p in found)
    kept = sorted((p for p, n in counts.items() if n >= min_members), key=lambda p: (-counts[p], p))
    membership = np.zeros((len(first_rows), len(kept)), dtype=bool)
    column = {p: j for j, p in enumerate(kept)}
    for i, found in enumerate(per_molecule):
        for phrase in found:
            if phrase in column:
                membership[i, column[phrase]] = True
    queries = [max(surface[p].items(), key=lambda kv: (kv[1], kv[0]))[0] for p in kept]
    return ClassTask(part, np.asarray(first_rows, dtype=np.int64), kept, queries, membership)


def roc_auc(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN without both classes."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos, n_neg = int(labels.sum()), int((~labels).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(scores, kind="mergesort")
    sorted_scores = scores[order]
    ranks = np.empty(len(scores), dtype=np.float64)
    start = 0
    while start < len(scores):  # average ranks over ties
        stop = start + 1
        while stop < len(scores) and sorted_scores[stop] == sorted_scores[start]:
            stop += 1
        ranks[order[start:stop]] = 0.5 * (start + stop - 1) + 1.0
        start = stop
    return float((ranks[labels].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Average precision (area under the step precision-recall curve, tied scores form one threshold)."""
    labels = np.asarray(labels, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    n_pos = int(labels.sum())
    if n_pos == 0:
        return float("nan")
    order = np.argsort(-scores, kind="mergesort")
    hits = labels[order].astype(np.float64)
    last = np.r_[np.flatnonzero(np.diff(scores[order])), len(scores) - 1]  # last index of each distinct score
    tp = np.cumsum(hits)[last]
    precision = tp / (last + 1)
    recall = tp / n_pos
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))


def class_metrics(molecules: np.ndarray, queries: np.ndarray, task: ClassTask) -> pd.DataFrame:
    """ROC-AUC and average precision of each class query's scores against membership.

    Args:
        molecules: ``[len(task.rows), d]`` embeddings of the part's molecules (rows of ``task.rows``).
        queries: ``[len(task), d]`` embeddings of ``task.queries``.

    Returns:
        One row per class: ``phrase``, ``query``, ``members``, ``molecules``, ``roc_auc``,
        ``average_precision`` and ``prevalence`` (the average precision of a random ranking).
    """
    scores = np.asarray(molecules, dtype=np.float32) @ np.asarray(queries, dtype=np.float32).T
    rows = []
    for j, (phrase, query) in enumerate(zip(task.phrases, task.queries, strict=True)):
        labels = task.membership[:, j]
        rows.append(
            {
                "phrase": phrase,
                "query": query,
                "members": int(labels.sum()),
                "molecules": len(labels),
                "roc_auc": roc_auc(labels, scores[:, j]),
                "average_precision": average_precision(labels, scores[:, j]),
                "prevalence": float(labels.mean()) if len(labels) else float("nan"),
            }
        )
    columns = ["phrase", "query", "members", "molecules", "roc_auc", "average_precision", "prevalence"]
    return pd.DataFrame(rows, columns=columns)


def class_summary(table: pd.DataFrame) -> dict[str, float]:
    """Means over the classes of a :func:`class_metrics` table (``classes``: how many)."""
    if table.empty:
        nan = float("nan")
        return {"classes": 0, "mean_roc_auc": nan, "mean_average_precision": nan, "mean_prevalence": nan}
    return {
        "classes": len(table),
        "mean_roc_auc": float(table["roc_auc"].mean()),
        "mean_average_precision": float(table["average_precision"].mean()),
        "mean_prevalence": float(table["prevalence"].mean()),
    }


def evaluate_classes(retriever, frame: pd.DataFrame, task: ClassTask) -> pd.DataFrame:
    """:func:`class_metrics` of a loaded retriever (:class:`~workbench.retrieval.model.Retriever`).

    The part's molecules are embedded from ``frame["smiles"]``; a molecule that cannot be embedded scores 0.
    """
    if not len(task):
        return class_metrics(np.zeros((len(task.rows), 1)), np.zeros((0, 1)), task)
    smiles = frame["smiles"].astype(str).to_numpy()[task.rows].tolist()
    molecules, _ = retriever.embed_molecules(smiles)
    return class_metrics(molecules, retriever.embed_texts(task.queries), task)


def phrase_counts(descriptions: Iterable[str]) -> Counter:
    """How many descriptions yield each class phrase (a corpus-wide view of what the patterns find)."""
    counts: Counter = Counter()
    for description in descriptions:
        counts.update(class_phrases(description).keys())
    return counts
