"""The molecule–text corpus a dual encoder trains on, prepared once: graphs, fingerprints, text features.

:func:`prepare_corpus` parses and featurises a molecule–text table (default ChEBI-20) and embeds
its descriptions with the frozen text encoder (cached on disk); :func:`attach_text_states`
caches the token states entering the top text layers when those are fine-tuned.

Data decisions (recorded in the model card by the trainer):

* ChEBI-20 has one description per CID, but several CIDs are the same molecule
  after standardisation (largest fragment, neutralised; mostly conjugate
  acid/base pairs and salts). Pairs are grouped by standardised InChIKey: the
  ``cid`` split (:func:`retrieval_split`) keeps every group on one side (so no test
  molecule is seen in training under another CID), and those groups are the molecules
  with more than one description that the ER term uses (:meth:`RetrievalCorpus.partners`).
* The ``scaffold`` split is :func:`workbench.data.scaffold_split` on the
  standardised SMILES: no Murcko scaffold is shared between train and test.
* Molecule towers over feature vectors (MiniMol, ECFP4 + RDKit 2D descriptors) read them from
  :attr:`RetrievalCorpus.features` (:func:`attach_molecule_features`): the feature set is fitted on the
  training molecules only (the descriptor normalization) and cached on disk per data set and fit.
* Augmentation (:class:`AugmentationSampler`) replaces a training molecule, with
  probability ``p``, by one of its ``k`` most similar *training* molecules (Tanimoto on
  ECFP4, :func:`neighbour_table`), keeping the original text; test molecules are never used.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file, save_file

from workbench import chem
from workbench.data import load_chebi20, random_split, scaffold_split
from workbench.data.splits import Split
from workbench.featurizers import FeaturizationError, ecfp_batch, graph_arrays
from workbench.nn.dual_encoder import tanimoto_matrix
from workbench.nn.text_backbone import HiddenStates, MiniLMBackbone, TextBackbone

__all__ = [
    "FP_BITS",
    "AugmentationSampler",
    "RetrievalCorpus",
    "attach_molecule_features",
    "attach_text_states",
    "collate_graphs",
    "corpus_frame",
    "neighbour_table",
    "prepare_corpus",
    "retrieval_split",
]

FP_BITS = 1024


@dataclass
class RetrievalCorpus:
    """ChEBI-20 pairs that could be featurised, with everything precomputed."""

    frame: pd.DataFrame  # cid, input_smiles, smiles (standardised), inchikey, description
    graphs: list[tuple[np.ndarray, np.ndarray, np.ndarray]]
    fps: np.ndarray  # (n, FP_BITS) uint8
    text_features: np.ndarray  # (n, text_dim) float32, frozen backbone
    text_spec: dict
    data_sha256: str
    dropped: list[tuple[int, str]]  # (row in ChEBI-20, reason)
    all_cids: np.ndarray | None = None  # every input row, featurisable or not (the description corpus)
    all_text_features: np.ndarray | None = None
    all_texts: list[str] | None = None
    text_states: HiddenStates | None = None  # token states of every input row entering the trainable text layers
    features: dict[str, np.ndarray] = field(default_factory=dict)  # molecule feature vectors per feature tower
    feature_params: dict[str, dict] = field(default_factory=dict)  # the fitted feature set of each (its card entry)

    def __len__(self) -> int:
        return len(self.frame)

    def state_rows(self, idx: np.ndarray | Sequence[int]) -> np.ndarray:
        """Rows of :attr:`text_states` (every input row) of the pairs ``idx``."""
        return self.frame["row"].to_numpy()[np.asarray(idx, dtype=np.int64)]

    def partners(self) -> np.ndarray:
        """For each pair, another pair of the same molecule (InChIKey), or -1: the ER partner."""
        out = np.full(len(self.frame), -1, dtype=np.int64)
        for _, rows in self.frame.groupby("inchikey").indices.items():
            if len(rows) > 1:
                out[rows] = np.roll(rows, -1)
        return out


def _featurize_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, list, np.ndarray, list[tuple[int, str]]]:
    parsed = chem.parse_many(frame["smiles"].tolist(), metal_complexes="strip")  # as the shipped model was trained
    keep, graphs, mols, dropped = [], [], [], []
    for i, p in enumerate(parsed):
        if not p.ok:
            dropped.append((i, p.error))
            continue
        try:
            graphs.append(graph_arrays(p.mol))
        except FeaturizationError as exc:
            dropped.append((i, str(exc)))
            continue
        keep.append(i)
        mols.append(p.mol)
    out = frame.iloc[keep].reset_index(drop=True).rename(columns={"smiles": "input_smiles"})
    out["smiles"] = [parsed[i].smiles for i in keep]
    out["inchikey"] = [parsed[i].inchikey for i in keep]
    out["row"] = keep
    return out, graphs, ecfp_batch(mols, n_bits=FP_BITS, radius=2), dropped


def corpus_frame(frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """The pairs a corpus keeps (parsed and featurisable), without embedding any text: enough to split and to
    read descriptions (``cid``, ``input_smiles``, ``smiles``, ``inchikey``, ``description``, ``row``)."""
    frame = load_chebi20(progress=False).frame if frame is None else frame
    return _featurize_frame(frame)[0]


def prepare_corpus(
    frame: pd.DataFrame | None = None,
    backbone: TextBackbone | None = None,
    *,
    cache_dir: str | Path | None = "runs/retrieval/cache",
    data_sha256: str | None = None,
    log: Callable[[str], None] = print,
) -> RetrievalCorpus:
    """Parse, featurise and embed a molecule–text table (default: ChEBI-20), with an on-disk cache.

    Args:
        frame: columns ``cid``, ``smiles``, ``description``; default ``load_chebi20()``.
        backbone: frozen text encoder; default all-MiniLM-L6-v2.
        cache_dir: where the frozen text features are kept (``None``: no cache).
    """
    if frame is None:
        dataset = load_chebi20(progress=False)
        frame, data_sha256 = dataset.frame, dataset.sha256
    if data_sha256 is None:
        data_sha256 = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).values.tobytes()).hexdigest()
    t0 = time.time()
    kept, graphs, fps, dropped = _featurize_frame(frame)
    log(f"featurised {len(kept)} of {len(frame)} pairs in {time.time() - t0:.1f}s ({len(dropped)} dropped)")
    backbone = backbone or MiniLMBackbone()
    key = hashlib.sha256(json.dumps([backbone.spec, data_sha256], sort_keys=True).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / f"text_features_{key}.npy" if cache_dir else None
    if cache is not None and cache.is_file():
        all_features = np.load(cache, allow_pickle=False)
    else:
        t0 = time.time()
        all_features = backbone.encode(frame["description"].astype(str).tolist())
        log(f"encoded {len(frame)} descriptions with the frozen text encoder in {time.time() - t0:.1f}s")
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.save(cache, all_features)
    return RetrievalCorpus(
        kept,
        graphs,
        fps,
        all_features[kept["row"].to_numpy()],
        backbone.spec,
        data_sha256,
        dropped,
        frame["cid"].to_numpy(dtype=np.int64),
        all_features,
        frame["description"].astype(str).tolist(),
    )


def attach_text_states(
    corpus: RetrievalCorpus,
    backbone: MiniLMBackbone,
    n: int,
    *,
    cache_dir: str | Path | None = "runs/retrieval/cache",
    log: Callable[[str], None] = print,
) -> HiddenStates:
    """Compute (or read from the cache) the token states entering the top ``n`` text layers, for every input row.

    They are kept on ``corpus.text_states``; training then runs only the top ``n`` layers.
    """
    if corpus.all_texts is None:
        raise ValueError("this corpus has no texts; make it with prepare_corpus")
    layer = backbone.num_layers - n
    if corpus.text_states is not None and corpus.text_states.layer == layer:
        return corpus.text_states
    key = hashlib.sha256(json.dumps([backbone.spec, corpus.data_sha256, layer], sort_keys=True).encode()).hexdigest()
    cache = Path(cache_dir) / f"text_states_{key[:16]}.safetensors" if cache_dir else None
    if cache is not None and cache.is_file():
        tensors = load_file(str(cache))
        states = HiddenStates(tensors["values"], tensors["offsets"].numpy(), layer)
    else:
        t0 = time.time()
        states = backbone.hidden_states(corpus.all_texts, n)
        log(f"cached the states entering text layer {layer} of {len(states)} descriptions in {time.time() - t0:.1f}s")
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp")
            save_file({"values": states.values.contiguous(), "offsets": torch.from_numpy(states.offsets)}, str(tmp))
            tmp.replace(cache)
    if len(states) != len(corpus.all_texts):
        raise ValueError(f"{cache} holds {len(states)} texts, the corpus {len(corpus.all_texts)}; delete it")
    corpus.text_states = states
    return states


def retrieval_split(corpus: RetrievalCorpus | pd.DataFrame, kind: str = "cid", seed: int = 0) -> Split:
    """80/10/10 split: ``cid`` (random, molecules with several CIDs kept together) or ``scaffold``.

    Args:
        corpus: a corpus, or its frame (:func:`corpus_frame`: the same split without the text features).
    """
    frame = corpus.frame if isinstance(corpus, RetrievalCorpus) else corpus
    if kind == "scaffold":
        return scaffold_split(frame["smiles"].tolist())
    if kind != "cid":
        raise ValueError(f"unknown retrieval split '{kind}' (cid or scaffold)")
    groups = frame.groupby("inchikey", sort=True).indices
    keys = list(groups)
    parts = random_split(len(keys), (0.8, 0.1, 0.1), seed)

    def rows(which: np.ndarray) -> np.ndarray:
        return np.sort(np.concatenate([groups[keys[g]] for g in which])).astype(np.int64)

    return Split(rows(parts.train), rows(parts.valid), rows(parts.test), "cid", seed, (0.8, 0.1, 0.1))


def attach_molecule_features(
    corpus: RetrievalCorpus,
    name: str,
    fit_rows: np.ndarray,
    *,
    cache_dir: str | Path | None = "runs/retrieval/cache",
    log: Callable[[str], None] = print,
) -> np.ndarray:
    """Compute (or read from the cache) the feature set ``name`` of every corpus molecule, fitted on ``fit_rows``.

    The features go to ``corpus.features[name]`` (float32, one row per pair) and the fitted set's parameters
    (what inference needs to compute the same columns) to ``corpus.feature_params[name]``. A molecule the set
    cannot featurise (MiniMol fails on a few) keeps an all-zero row; how many is logged.
    """
    from rdkit import Chem

    from workbench.featurizers.feature_sets import EMBEDDING_FAILED, FEATURE_SET_VERSION, fit_features

    fit_rows = np.sort(np.asarray(fit_rows, dtype=np.int64))
    fitted_on_rows = "rdkit2d" in name  # only the descriptor normalization depends on the training molecules
    key_parts = [corpus.data_sha256, len(corpus), name, FEATURE_SET_VERSION]
    if fitted_on_rows:
        key_parts.append(hashlib.sha256(fit_rows.tobytes()).hexdigest())
    key = hashlib.sha256(json.dumps(key_parts).encode()).hexdigest()[:16]
    cache = Path(cache_dir) / f"features_{name.replace('+', '_')}_{key}.npz" if cache_dir else None
    mols = None
    if cache is not None and cache.is_file():
        stored = np.load(cache, allow_pickle=False)
        x, params, failed = stored["x"], json.loads(str(stored["params"])), int(stored["failed"])
    else:
        t0 = time.time()
        mols = [Chem.MolFromSmiles(s) for s in corpus.frame["smiles"]]
        fitted = fit_features(name, [mols[i] for i in fit_rows if mols[i] is not None])
        x, notes = fitted.transform(mols)
        params = fitted.to_params()
        failed = sum(1 for n in notes if n.startswith(EMBEDDING_FAILED) or "no molecule" in n)
        log(f"computed {name} features of {len(x)} molecules in {time.time() - t0:.1f}s ({failed} failed: zeros)")
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(".tmp.npz")
            np.savez(tmp, x=x.astype(np.float32), params=np.array(json.dumps(params)), failed=np.array(failed))
            tmp.replace(cache)
    if len(x) != len(corpus):
        raise ValueError(f"{cache} holds {len(x)} rows, the corpus {len(corpus)}; delete it")
    corpus.features[name] = np.ascontiguousarray(x, dtype=np.float32)
    corpus.feature_params[name] = params
    return corpus.features[name]


def neighbour_table(fps: np.ndarray, pool: np.ndarray, k: int, *, chunk: int = 1024) -> np.ndarray:
    """For each molecule of ``pool``, the ``k`` most similar other molecules of ``pool`` (Tanimoto, ECFP4).

    Returns:
        ``(len(pool), k)`` indices into the corpus, most similar first.
    """
    k = min(k, len(pool) - 1)
    pool_fp = torch.from_numpy(fps[pool])
    out = np.empty((len(pool), k), dtype=np.int64)
    for start in range(0, len(pool), chunk):
        sim = tanimoto_matrix(pool_fp[start : start + chunk], pool_fp)
        rows = torch.arange(sim.shape[0])
        sim[rows, rows + start] = -1.0  # never its own neighbour
        out[start : start + chunk] = pool[sim.topk(k, dim=1).indices.numpy()]
    return out


class AugmentationSampler:
    """AMOLE's augmentation: with probability ``p`` feed one of the ``k`` most similar molecules instead.

    Args:
        pool: corpus indices the table rows refer to (the training molecules).
        neighbours: ``(len(pool), >= k)`` table from :func:`neighbour_table`.
        p: replacement probability; k: how many nearest molecules to draw from.
    """

    def __init__(self, pool: np.ndarray, neighbours: np.ndarray, p: float, k: int, seed: int = 0) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError("p must be in [0, 1]")
        if k < 1 or k > neighbours.shape[1]:
            raise ValueError(f"k must be in [1, {neighbours.shape[1]}]")
        self.row_of = {int(c): r for r, c in enumerate(pool)}
        self.neighbours, self.p, self.k = neighbours, p, k
        self.rng = np.random.default_rng(seed)

    def __call__(self, indices: Sequence[int]) -> np.ndarray:
        """The corpus indices of the molecules to feed for the pairs ``indices``."""
        indices = np.asarray(indices, dtype=np.int64)
        fed = indices.copy()
        swap = self.rng.random(len(indices)) < self.p
        picks = self.rng.integers(0, self.k, size=len(indices))
        for j in np.flatnonzero(swap):
            fed[j] = self.neighbours[self.row_of[int(indices[j])], picks[j]]
        return fed


def collate_graphs(
    graphs: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]], device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int]:
    """Stack graphs into ``(x, edge_index, edge_attr, batch, num_graphs)`` tensors."""
    xs, eis, eas, batch, offset = [], [], [], [], 0
    for g, (x, ei, ea) in enumerate(graphs):
        xs.append(x)
        eis.append(ei + offset)
        eas.append(ea)
        batch.append(np.full(len(x), g, dtype=np.int64))
        offset += len(x)
    tensors = [torch.from_numpy(np.concatenate(a, axis=ax)) for a, ax in ((xs, 0), (eis, 1), (eas, 0), (batch, 0))]
    x, edge_index, edge_attr, batch_t = (t.to(device) for t in tensors)
    return x, edge_index, edge_attr, batch_t, len(graphs)
