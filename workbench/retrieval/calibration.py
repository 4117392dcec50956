"""What a retrieval score means: its percentile among random description–molecule pairs, and example queries.

A cosine in the shared space is not a probability, and its scale differs between models. A retrieval
checkpoint therefore stores a *score reference* beside its weights (``score_reference.json``, a card
reference of kind :data:`SCORE_REFERENCE`, hashed like the weights), computed once by
:func:`store_score_reference` from molecules and descriptions it never trained on (the validation part of
its split):

* the score distribution of *random pairs*: every validation description against every validation molecule
  it does not describe (quantiles on a grid, dense in the upper tail), so a score reads as "higher than P %
  of random pairs" (:meth:`ScoreReference.percentile`);
* the same for the *matched pairs* (each description with its own molecule), for context;
* the class-level test of :mod:`workbench.retrieval.classes` on the validation molecules: per class ROC-AUC
  and average precision. :func:`example_queries` takes the page's example queries from it: the classes the
  model retrieves best on validation, never hand-picked.

A search has *no strong match* when its best hit scores below :data:`STRONG_PERCENTILE` of random pairs:
the best molecule matches the query no better than a description of some other molecule matches it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.models import Checkpoint, load_card
from workbench.models.card import ModelCard
from workbench.models.card_schema import CARD_FILE
from workbench.models.store import reference_path, set_reference_files
from workbench.retrieval.classes import class_metrics, class_summary, class_task
from workbench.retrieval.model import Retriever, model_scoped_cache

__all__ = [
    "REFERENCE_FILE",
    "SCORE_REFERENCE",
    "STRONG_PERCENTILE",
    "ScoreReference",
    "build_score_reference",
    "example_queries",
    "load_score_reference",
    "store_score_reference",
]

SCORE_REFERENCE = "score_reference"
REFERENCE_FILE = "score_reference.json"
#: A best hit below this percentile of random pairs is "no strong match".
STRONG_PERCENTILE = 99.0
#: Probabilities at which the reference stores quantiles: every percent, then finer in the top percent.
PROBABILITIES = np.unique(
    np.round(np.concatenate([np.linspace(0, 0.99, 100), np.linspace(0.99, 0.999, 10), np.linspace(0.999, 1, 11)]), 6)
)

_LOADED: dict[str, ScoreReference | None] = model_scoped_cache()


@dataclass(frozen=True)
class ScoreReference:
    """Quantiles of random-pair and matched-pair scores, and the validation class metrics of one model."""

    probabilities: np.ndarray
    random_quantiles: np.ndarray
    matched_quantiles: np.ndarray
    meta: dict  # model_hash, part, pairs, molecules, split, strong_percentile
    classes: pd.DataFrame  # class_metrics on the part's molecules

    def percentile(self, scores: np.ndarray | float) -> np.ndarray:
        """Percentile (0–100) of each score among the random pairs (linear between the stored quantiles)."""
        return 100.0 * np.interp(np.asarray(scores, dtype=np.float64), self.random_quantiles, self.probabilities)

    @property
    def strong_percentile(self) -> float:
        return float(self.meta.get("strong_percentile", STRONG_PERCENTILE))

    @property
    def strong_score(self) -> float:
        """The score at :attr:`strong_percentile` of random pairs."""
        return float(np.interp(self.strong_percentile / 100.0, self.probabilities, self.random_quantiles))

    def is_strong(self, best_score: float) -> bool:
        """Whether a best hit is above chance: at or above :attr:`strong_percentile` of random pairs."""
        return bool(self.percentile(best_score) >= self.strong_percentile)

    def matched_median(self) -> float:
        """The median score of a molecule with its own (held-out) description."""
        return float(np.interp(0.5, self.probabilities, self.matched_quantiles))

    def example_queries(self, n: int = 6) -> list[str]:
        """The queries of the ``n`` classes retrieved best on the reference's molecules: by average precision (the
        top of a ranking is what a user sees), then ROC-AUC."""
        if self.classes.empty:
            return []
        order = self.classes.sort_values(
            ["average_precision", "roc_auc", "query"], ascending=[False, False, True], na_position="last"
        )
        return order["query"].head(n).tolist()

    def to_json(self) -> dict:
        return {
            **self.meta,
            "probabilities": self.probabilities.round(6).tolist(),
            "random_quantiles": self.random_quantiles.round(6).tolist(),
            "matched_quantiles": self.matched_quantiles.round(6).tolist(),
            "classes": json.loads(self.classes.to_json(orient="records")),
        }

    @classmethod
    def from_json(cls, data: dict) -> ScoreReference:
        arrays = {k: np.asarray(data[k], dtype=np.float64) for k in ("probabilities", "random_quantiles")}
        matched = np.asarray(data["matched_quantiles"], dtype=np.float64)
        if len(arrays["probabilities"]) != len(arrays["random_quantiles"]) or len(matched) != len(
            arrays["probabilities"]
        ):
            raise ValueError("a score reference needs as many quantiles as probabilities")
        meta = {k: v for k, v in data.items() if k not in ("probabilities", "random_quantiles", "matched_quantiles")}
        classes = pd.DataFrame(meta.pop("classes", []))
        return cls(arrays["probabilities"], arrays["random_quantiles"], matched, meta, classes)


def _description_vectors(retriever: Retriever, frame: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Shared-space embeddings of the descriptions of ``rows``: from the checkpoint's stored corpus features
    when they cover the frame's rows, else through the text encoder."""
    if retriever.corpus_features is not None and "row" in frame.columns and "cid" in frame.columns:
        corpus_rows = frame["row"].to_numpy()[rows]
        if corpus_rows.max(initial=-1) < len(retriever.corpus_cids) and np.array_equal(
            retriever.corpus_cids[corpus_rows], frame["cid"].to_numpy()[rows]
        ):
            return retriever.project_text_features(retriever.corpus_features[corpus_rows])
    return retriever.embed_texts(frame["description"].astype(str).to_numpy()[rows].tolist())


def build_score_reference(
    retriever: Retriever,
    frame: pd.DataFrame,
    rows: np.ndarray,
    *,
    part: str = "valid",
    split: dict | None = None,
    min_members: int | None = None,
) -> ScoreReference:
    """The score reference of ``retriever`` on the pairs ``rows`` of a corpus frame (held-out pairs).

    Args:
        frame: corpus pairs (``smiles``, ``description``, ``inchikey``; ``row`` and ``cid`` to use the
            checkpoint's stored description features).
        rows: the pairs to use, normally the validation part of the checkpoint's split.
        part, split: recorded in the reference (what the rows are).
        min_members: fewest molecules of a class (default :data:`workbench.retrieval.classes.MIN_MEMBERS`).
    """
    rows = np.sort(np.asarray(rows, dtype=np.int64))
    smiles = frame["smiles"].astype(str).to_numpy()[rows].tolist()
    molecules, parsed = retriever.embed_molecules(smiles)
    ok = (parsed["error"] == "").to_numpy()
    texts = _description_vectors(retriever, frame, rows)
    scores = texts @ molecules.T  # [description, molecule]
    keys = frame["inchikey"].to_numpy()[rows] if "inchikey" in frame.columns else rows
    same = keys[:, None] == keys[None, :]
    valid = ok[None, :] & ok[:, None]
    random_scores = scores[~same & valid]
    matched = np.diag(scores)[ok]
    if len(random_scores) == 0 or len(matched) == 0:
        raise ValueError(f"{len(rows)} pairs give no random or no matched pairs to calibrate on")
    kwargs = {} if min_members is None else {"min_members": min_members}
    task = class_task(frame, rows, part=part, **kwargs)
    position = {int(r): i for i, r in enumerate(rows)}
    task_molecules = molecules[[position[int(r)] for r in task.rows]]
    queries = retriever.embed_texts(task.queries) if len(task) else np.zeros((0, molecules.shape[1]))
    classes = class_metrics(task_molecules, queries, task)
    meta = {
        "kind": SCORE_REFERENCE,
        "model_hash": retriever.model_hash,
        "part": part,
        "split": split or {},
        "molecules": int(ok.sum()),
        "random_pairs": len(random_scores),
        "matched_pairs": len(matched),
        "strong_percentile": STRONG_PERCENTILE,
        "class_summary": class_summary(classes),
        "random_pairs_are": "each held-out description against every held-out molecule it does not describe",
    }
    return ScoreReference(
        PROBABILITIES.copy(),
        np.quantile(random_scores.astype(np.float64), PROBABILITIES),
        np.quantile(matched.astype(np.float64), PROBABILITIES),
        meta,
        classes,
    )


def store_score_reference(
    retriever: Retriever,
    frame: pd.DataFrame,
    rows: np.ndarray,
    *,
    part: str = "valid",
    split: dict | None = None,
    min_members: int | None = None,
) -> ModelCard:
    """Build the score reference and write it beside the retriever's weights (recorded, hashed, in its card)."""
    reference = build_score_reference(retriever, frame, rows, part=part, split=split, min_members=min_members)
    folder = Path(retriever.checkpoint.path)
    tmp = folder / (REFERENCE_FILE + ".tmp")
    tmp.write_text(json.dumps(reference.to_json(), indent=1) + "\n")
    tmp.replace(folder / REFERENCE_FILE)
    card = set_reference_files(folder, [{"file": REFERENCE_FILE, "kind": SCORE_REFERENCE, "molecules": len(rows)}])
    _LOADED.pop(retriever.model_hash, None)
    return card


def load_score_reference(retriever: Retriever) -> ScoreReference | None:
    """The retriever's stored score reference (once per process), or ``None`` when its card lists none.

    Raises:
        CheckpointError: the file is listed but missing or modified.
    """
    if retriever.model_hash in _LOADED:
        return _LOADED[retriever.model_hash]
    checkpoint = retriever.checkpoint
    if checkpoint.card.reference(SCORE_REFERENCE) is None and (checkpoint.path / CARD_FILE).is_file():
        checkpoint = Checkpoint(checkpoint.path, load_card(checkpoint.path))  # stored after the model was loaded
    path = reference_path(checkpoint, SCORE_REFERENCE)
    reference = None
    if path is not None:
        data = json.loads(Path(path).read_text())
        if data.get("model_hash") not in (None, retriever.model_hash):
            raise ValueError(f"{path} was made for another model ({str(data.get('model_hash'))[:12]}…)")
        reference = ScoreReference.from_json(data)
    _LOADED[retriever.model_hash] = reference
    return reference


def example_queries(retriever: Retriever, n: int = 6) -> list[str]:
    """The queries of the ``n`` classes the model retrieves best on its validation molecules.

    Ranked by average precision (the top of the ranking is what a user sees), then ROC-AUC; empty when the
    model has no score reference.
    """
    reference = load_score_reference(retriever)
    return [] if reference is None else reference.example_queries(n)
