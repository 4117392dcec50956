"""Molecule ⇄ text search with the shipped dual encoder.

:func:`search_molecules` (text → molecules), :func:`rank_library` (screening: every row
scored, row-level errors), :func:`describe` (molecule → ChEBI-20 descriptions) and
:func:`nearest_corpus_molecules` return DataFrames with a ``score`` column (cosine
similarity in the shared space); :func:`hits_to_sdf` writes result rows as an SDF.
:func:`text_search` is what the page shows: the hits with each score's percentile among random
description–molecule pairs (:mod:`workbench.retrieval.calibration`), whether the best one is a strong
match at all, and for hits with a description the sentence that best matches the query.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.retrieval.calibration import ScoreReference, load_score_reference
from workbench.retrieval.classes import sentences
from workbench.retrieval.index import EmbeddingIndex
from workbench.retrieval.library import Library, chebi20_pairs, embed_library
from workbench.retrieval.model import Retriever, load_retriever, model_scoped_cache

__all__ = [
    "TextSearch",
    "best_snippets",
    "describe",
    "hits_to_sdf",
    "nearest_corpus_molecules",
    "rank_library",
    "search_molecules",
    "text_search",
]

_LOCK = threading.Lock()


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


@dataclass
class TextSearch:
    """A text search as the page shows it.

    Attributes:
        hits: :func:`search_molecules` rows, plus ``percentile`` (of each score among random description–molecule
            pairs; when the model has a score reference) and ``snippet`` (when the library has descriptions).
        strong: whether the best hit is at or above the reference's strong percentile; ``None`` without reference.
        best_percentile: the best hit's percentile (``None`` without reference).
        message: one sentence saying what the scores mean for this query.
    """

    hits: pd.DataFrame
    strong: bool | None
    best_percentile: float | None
    reference: ScoreReference | None
    message: str


def _ordinal(value: float) -> str:
    """``99.7th``, ``41st``, ``99.95th``: one decimal (two above 99.95), an English suffix on whole numbers."""
    text = f"{value:.1f}" if value < 99.95 else f"{value:.2f}"
    text = text.rstrip("0").rstrip(".")
    if "." in text:
        return f"{text}th"
    n = int(text)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{text}{suffix}"


def text_search(
    text: str,
    library: str | Path | pd.DataFrame | Library = "drugs",
    k: int = 10,
    *,
    retriever: Retriever | None = None,
    snippets: bool = True,
) -> TextSearch:
    """:func:`search_molecules` with calibrated scores, a "no strong match" verdict and description snippets."""
    retriever = retriever or load_retriever()
    hits = search_molecules(text, library, k, retriever=retriever)
    reference = load_score_reference(retriever)
    strong = best = None
    if reference is None:
        message = "This model has no score reference: scores are cosine similarities, comparable only within a search."
    elif hits.empty:
        message = "No molecule of this library could be searched."
    else:
        hits.insert(2, "percentile", reference.percentile(hits["score"].to_numpy()))
        best = float(hits["percentile"].iloc[0])
        strong = reference.is_strong(float(hits["score"].iloc[0]))
        part = {"valid": "validation", "all": "corpus"}.get(reference.meta.get("part"), "held-out")
        context = (
            f"percentile among random {part} description–molecule pairs (a {part} molecule scores "
            f"{reference.matched_median():.2f} with its own description, median)"
        )
        if strong:
            message = (
                f"Best hit: score {hits['score'].iloc[0]:.3f}, the {_ordinal(best)} {context}. From the "
                f"{reference.strong_percentile:g}th ({reference.strong_score:.3f}) the model rates a match well above "
                "chance; that is no guarantee that the hits are what was asked for."
            )
        else:
            message = (
                f"No strong match: the best hit scores {hits['score'].iloc[0]:.3f}, only the {_ordinal(best)} "
                f"{context}. Below the {reference.strong_percentile:g}th ({reference.strong_score:.3f}) a hit is "
                "near chance: the model does not recognise this query in this library."
            )
    if snippets and "description" in hits.columns and not hits.empty:
        hits["snippet"] = best_snippets(text, hits["description"].fillna("").astype(str).tolist(), retriever)
    return TextSearch(hits, strong, best, reference, message)


def best_snippets(query: str, descriptions: Sequence[str], retriever: Retriever) -> list[str]:
    """For each description, its sentence closest to ``query`` (cosine of the sentence encoder's vectors)."""
    split = [sentences(d) for d in descriptions]
    flat = [s for parts in split for s in parts]
    if not flat:
        return ["" for _ in descriptions]
    vectors = retriever.sentence_features([query, *flat])
    scores = vectors[1:] @ vectors[0]
    out, start = [], 0
    for parts in split:
        if parts:
            out.append(parts[int(np.argmax(scores[start : start + len(parts)]))])
        else:
            out.append("")
        start += len(parts)
    return out


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
    raw = chebi20_pairs()
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


#: The last few single molecules embedded, per model: describing a molecule and finding its nearest corpus
#: molecules (and every rerun of a page showing both) embed it once; MiniMol and RDKit 2D towers take ~30 ms.
_ONE: OrderedDict[tuple[str, str], tuple[np.ndarray, str]] = model_scoped_cache(OrderedDict())
_ONE_MAX = 64


def _one_molecule(smiles: str, retriever: Retriever) -> tuple[np.ndarray, str]:
    key = (retriever.model_hash, smiles)
    with _LOCK:
        if key in _ONE:
            _ONE.move_to_end(key)
            return _ONE[key]
    vectors, parsed = retriever.embed_molecules([smiles])
    if parsed.loc[0, "error"]:
        raise ValueError(f"cannot use '{smiles}': {parsed.loc[0, 'error']}")
    vectors.setflags(write=False)  # shared between callers
    out = (vectors, str(parsed.loc[0, "smiles"]))
    with _LOCK:
        _ONE[key] = out
        while len(_ONE) > _ONE_MAX:
            _ONE.popitem(last=False)
    return out


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
