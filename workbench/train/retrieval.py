"""Train and evaluate the AMOLE-style molecule–text dual encoder on ChEBI-20.

Everything that does not change during training is computed once and cached
under ``runs/retrieval/cache``: standardised molecules and their graphs, ECFP4
(1,024 bits) fingerprints, the k most similar training molecules of each
training molecule, and the frozen text-encoder features of every description.
A training step then runs only the GIN and two small projection heads. With
``text_trainable_layers = N`` the token states that enter the top N MiniLM
layers are cached as well (:func:`attach_text_states`), and a step also runs
(and trains, at ``text_lr``) those N layers. ``init_encoder`` starts the GIN
from a shipped GIN checkpoint (:func:`resolve_init_encoder`).

Data decisions (recorded in the model card):

* ChEBI-20 has one description per CID, but several CIDs are the same molecule
  after standardisation (largest fragment, neutralised; mostly conjugate
  acid/base pairs and salts). Pairs are grouped by standardised InChIKey: the
  ``cid`` split keeps every group on one side (so no test molecule is seen in
  training under another CID), and those groups are the molecules with more
  than one description that the ER term uses.
* The ``scaffold`` split is :func:`workbench.data.scaffold_split` on the
  standardised SMILES: no Murcko scaffold is shared between train and test.
* Augmentation replaces a training molecule, with probability ``p``, by one of
  its ``k`` most similar *training* molecules (Tanimoto on ECFP4), keeping the
  original text; test molecules are never used.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from safetensors.torch import save_file

from workbench import chem
from workbench.data import load_chebi20, random_split, scaffold_split
from workbench.data.splits import Split
from workbench.featurizers import GRAPH_FEATURIZER, FeaturizationError, ecfp_batch, featurizer_spec, graph_arrays
from workbench.hashing import sha256_file
from workbench.models import find_checkpoints, load_card, write_card
from workbench.nn.dual_encoder import (
    DualEncoder,
    expertise_reconstruction_loss,
    info_nce,
    s2p_loss,
    tanimoto_matrix,
)
from workbench.nn.text_backbone import (
    HiddenStates,
    MiniLMBackbone,
    TextBackbone,
    build_backbone,
    fine_tuned_spec,
)

__all__ = [
    "ABLATION",
    "CORPUS_FILE",
    "AugmentationSampler",
    "RetrievalConfig",
    "RetrievalCorpus",
    "attach_text_states",
    "collate_graphs",
    "embed_corpus",
    "evaluate_retrieval",
    "neighbour_table",
    "prepare_corpus",
    "resolve_init_encoder",
    "retrieval_metrics",
    "retrieval_split",
    "save_retrieval_checkpoint",
    "train_dual_encoder",
    "train_retrieval",
]

FP_BITS = 1024
CORPUS_FILE = "corpus_text_features.safetensors"
T_CHOICES = (4, 10, 20)
EVAL_SEEDS = (0, 1, 2, 3, 4)

#: The ablation rows, cumulative as in the issue: InfoNCE -> + S2P -> + augmentation -> + ER.
ABLATION: dict[str, dict[str, bool]] = {
    "InfoNCE": {"s2p": False, "augment": False, "er": False},
    "+ S2P": {"s2p": True, "augment": False, "er": False},
    "+ augmentation": {"s2p": True, "augment": True, "er": False},
    "+ ER (AMOLE)": {"s2p": True, "augment": True, "er": True},
}


@dataclass
class RetrievalConfig:
    """Everything that defines one training run (recorded in the card)."""

    name: str = "retrieval_amole"
    split: str = "cid"  # cid | scaffold
    seed: int = 0
    epochs: int = 10
    batch_size: int = 128
    lr: float = 5e-4
    weight_decay: float = 1e-5
    s2p: bool = True
    augment: bool = True
    er: bool = True
    tau1: float = 0.1
    tau2: float = 0.1
    p: float = 0.5
    k: int = 50
    alpha: float = 1.0
    num_layer: int = 3
    emb_dim: int = 256
    drop_ratio: float = 0.1
    proj_dim: int = 256
    init: str | None = None
    init_encoder: str | None = None  # a shipped GIN checkpoint (name or folder): its seed-0 gnn.* weights
    text_trainable_layers: int = 0  # 0: MiniLM frozen; N: its top N layers are fine-tuned
    text_lr: float = 5e-5  # learning rate of the fine-tuned MiniLM layers
    threads: int | None = 1
    extra: dict = field(default_factory=dict)


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
    parsed = chem.parse_many(frame["smiles"].tolist())
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
        from safetensors.torch import load_file

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


def resolve_init_encoder(source: str | Path) -> tuple[dict[str, torch.Tensor], dict]:
    """The seed-0 ``gnn.*`` weights of a GIN checkpoint (a registered name or a folder) and what the card records.

    Returns:
        ``(state, info)``: the verified ``gnn.*`` tensors as stored, and ``checkpoint``, ``file``, ``seed``,
        ``sha256``, ``num_layer``, ``emb_dim``, ``jk``, ``weights_dtype``, the source's test metrics and command.
    """
    from safetensors.torch import load_file

    folder = Path(source)
    if not (folder / "card.json").is_file():
        found = {c.name: c for c in find_checkpoints()[0]}
        if str(source) not in found:
            gins = sorted(name for name, c in found.items() if c.architecture == "gin")
            raise ValueError(f"no checkpoint '{source}' (a folder or one of the GINs: {', '.join(gins) or 'none'})")
        folder = found[str(source)].path
    card = load_card(folder)
    arch = card["architecture"]
    if arch["type"] != "gin":
        raise ValueError(f"checkpoint '{card['name']}' is a {arch['type']}, not a GIN")
    members = [w for w in card["weights"] if w.get("role", "model") == "model"]
    entry = next((w for w in members if w.get("seed") == 0), members[0])
    if sha256_file(folder / entry["file"]) != entry["sha256"]:
        raise ValueError(f"{folder / entry['file']} does not match the sha256 in its card")
    state = {k: v for k, v in load_file(str(folder / entry["file"])).items() if k.startswith("gnn.")}
    if not state:
        raise ValueError(f"{folder / entry['file']} has no gnn.* weights")
    config = arch["config"]
    info = {
        "checkpoint": card["name"],
        "file": entry["file"],
        "seed": entry.get("seed"),
        "sha256": entry["sha256"],
        "num_layer": int(config["num_layer"]),
        "emb_dim": int(config["emb_dim"]),
        "jk": config.get("jk", "last"),
        "weights_dtype": config.get("weights_dtype", "float32"),
        "source_test_metrics": {k: v["mean"] for k, v in card.get("metrics", {}).get("test", {}).items()},
        "source_command": card.get("command", ""),
    }
    return state, info


def retrieval_split(corpus: RetrievalCorpus, kind: str = "cid", seed: int = 0) -> Split:
    """80/10/10 split: ``cid`` (random, molecules with several CIDs kept together) or ``scaffold``."""
    if kind == "scaffold":
        return scaffold_split(corpus.frame["smiles"].tolist())
    if kind != "cid":
        raise ValueError(f"unknown retrieval split '{kind}' (cid or scaffold)")
    groups = corpus.frame.groupby("inchikey", sort=True).indices
    keys = list(groups)
    parts = random_split(len(keys), (0.8, 0.1, 0.1), seed)

    def rows(which: np.ndarray) -> np.ndarray:
        return np.sort(np.concatenate([groups[keys[g]] for g in which])).astype(np.int64)

    return Split(rows(parts.train), rows(parts.valid), rows(parts.test), "cid", seed, (0.8, 0.1, 0.1))


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


def train_dual_encoder(
    corpus: RetrievalCorpus,
    split: Split,
    cfg: RetrievalConfig,
    *,
    device: torch.device | str = "cpu",
    log: Callable[[str], None] = print,
    neighbours: np.ndarray | None = None,
    text_backbone: MiniLMBackbone | None = None,
    cache_dir: str | Path | None = "runs/retrieval/cache",
) -> tuple[DualEncoder, dict]:
    """Train one dual encoder; the epoch with the best validation MRR is kept.

    Args:
        text_backbone: the MiniLM whose top layers are fine-tuned when ``cfg.text_trainable_layers``
            (default: built from the corpus' text spec); its own weights are never changed.
        cache_dir: where the token states of :func:`attach_text_states` are cached.

    Returns:
        The model (best epoch, eval mode) and a history dict.
    """
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    history: dict = {"epochs": []}
    text_top = None
    if cfg.text_trainable_layers:
        backbone = text_backbone or build_backbone(corpus.text_spec)
        if not isinstance(backbone, MiniLMBackbone):
            raise ValueError("only the MiniLM text encoder has layers to fine-tune")
        attach_text_states(corpus, backbone, cfg.text_trainable_layers, cache_dir=cache_dir, log=log)
        text_top = backbone.top(cfg.text_trainable_layers)  # a copy: no random numbers drawn
    init_state = None
    if cfg.init_encoder:
        init_state, info = resolve_init_encoder(cfg.init_encoder)
        if (cfg.num_layer, cfg.emb_dim) != (info["num_layer"], info["emb_dim"]):
            raise ValueError(
                f"{info['checkpoint']} is a {info['num_layer']}x{info['emb_dim']} GIN; "
                f"set num_layer={info['num_layer']}, emb_dim={info['emb_dim']}"
            )
        history["init_encoder"] = info
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    device = torch.device(device)
    model = DualEncoder(
        corpus.text_features.shape[1], cfg.proj_dim, cfg.num_layer, cfg.emb_dim, cfg.drop_ratio, text_top=text_top
    )
    if init_state is not None:
        model.load_encoder(init_state)
    if cfg.init:
        from workbench.models import load_state_dicts

        init = Path(cfg.init)
        if init.is_dir():
            model.load_encoder(load_state_dicts(init)[0])
        else:
            from safetensors.torch import load_file

            model.load_encoder(load_file(str(init)))
    model.to(device)
    er_head = torch.nn.Linear(cfg.proj_dim, corpus.text_features.shape[1]).to(device)
    text_params = list(model.text_top.parameters()) if model.text_top is not None else []
    text_ids = {id(p) for p in text_params}
    params = [p for p in model.parameters() if id(p) not in text_ids] + (list(er_head.parameters()) if cfg.er else [])
    groups = [{"params": params}] + ([{"params": text_params, "lr": cfg.text_lr}] if text_params else [])
    optimizer = torch.optim.AdamW(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    train = split.train
    sampler = None
    if cfg.augment:
        if neighbours is None:
            neighbours = neighbour_table(corpus.fps, train, cfg.k)
        sampler = AugmentationSampler(train, neighbours, cfg.p, min(cfg.k, neighbours.shape[1]), seed=cfg.seed)
    partners = corpus.partners()
    train_set = set(train.tolist())
    partners = np.array([p if p in train_set else -1 for p in partners])  # ER never looks at held-out text
    fps = torch.from_numpy(corpus.fps)
    features = torch.from_numpy(corpus.text_features)
    best_state, best_mrr = None, -1.0
    for epoch in range(1, cfg.epochs + 1):
        model.train()
        t0, losses, parts = time.time(), [], {"contrastive": [], "er": []}
        order = rng.permutation(train)
        for start in range(0, len(order) - 1, cfg.batch_size):
            rows = order[start : start + cfg.batch_size]
            if len(rows) < 2:
                continue
            fed = sampler(rows) if sampler is not None else rows
            mol = model.encode_molecules(*collate_graphs([corpus.graphs[i] for i in fed], device))
            if model.text_top is not None:
                text = model.encode_text_states(corpus.text_states, corpus.state_rows(rows))
            else:
                text = model.encode_texts(features[rows].to(device))
            if cfg.s2p:
                sim = tanimoto_matrix(fps[fed], fps[fed]).to(device)
                loss = s2p_loss(mol, text, sim, cfg.tau1, cfg.tau2)
            else:
                loss = info_nce(mol, text, cfg.tau2)
            parts["contrastive"].append(loss.item())
            if cfg.er:
                mask = torch.from_numpy(partners[rows] >= 0).to(device)
                target = features[np.where(partners[rows] >= 0, partners[rows], rows)].to(device)
                er = expertise_reconstruction_loss(er_head(text), target, mask)
                parts["er"].append(er.item())
                loss = loss + cfg.alpha * er
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        valid = evaluate_retrieval(model, corpus, split.valid)
        mrr = 0.5 * (valid["mol2text_mrr"] + valid["text2mol_mrr"])
        row = {
            "epoch": epoch,
            "loss": float(np.mean(losses)),
            "contrastive": float(np.mean(parts["contrastive"])),
            "er": float(np.mean(parts["er"])) if parts["er"] else None,
            "valid_mrr": mrr,
            "seconds": time.time() - t0,
        }
        history["epochs"].append(row)
        log(json.dumps(row))
        if mrr > best_mrr:
            best_mrr = mrr
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history["best_valid_mrr"] = best_mrr
    history["er_pairs_in_train"] = int((partners >= 0).sum())
    return model, history


def save_retrieval_checkpoint(
    model: DualEncoder,
    corpus: RetrievalCorpus,
    split: Split,
    cfg: RetrievalConfig,
    metrics: dict[str, dict],
    *,
    models_dir: str | Path = "models",
    command: str = "",
    history: dict | None = None,
) -> dict:
    """Write ``models_dir/<name>/``: the weights (GIN, both projections, fine-tuned text layers if any) and the card.

    With fine-tuned text layers the stored corpus description features are those of the fine-tuned encoder.
    """
    gin = model.gnn
    losses = ["symmetric InfoNCE" if not cfg.s2p else f"S2P (tau1={cfg.tau1}, tau2={cfg.tau2})"]
    if cfg.augment:
        losses.append(f"augmentation (p={cfg.p}, k={cfg.k})")
    if cfg.er:
        losses.append(f"expertise reconstruction (alpha={cfg.alpha})")
    init_info = (history or {}).get("init_encoder")
    if init_info is None and cfg.init_encoder:
        init_info = resolve_init_encoder(cfg.init_encoder)[1]
    if init_info is not None:
        gin_text = (
            f"GIN {gin.num_layer}x{gin.emb_dim} initialised from the shipped {init_info['checkpoint']} encoder "
            f"({init_info['file']}, sha256 {init_info['sha256'][:12]}…)"
        )
    elif cfg.init:
        gin_text = f"GIN {gin.num_layer}x{gin.emb_dim} initialised from {cfg.init}"
    else:
        gin_text = f"GIN {gin.num_layer}x{gin.emb_dim} trained from scratch"
    package = corpus.text_spec.get("package", corpus.text_spec["kind"])
    text_spec = corpus.text_spec
    trained_parts = ["gnn.*", "mol_proj.*", "text_proj.*"]
    all_features = corpus.all_text_features
    if model.text_top is not None:
        top = model.text_top
        text_spec = fine_tuned_spec(corpus.text_spec, top, cfg.text_lr)
        text_text = f"{package} text encoder with its top {len(top.layers)} layer(s) fine-tuned"
        trained_parts.append("text_top.*")
        if corpus.all_text_features is not None:
            if corpus.text_states is None:
                raise ValueError("the model fine-tunes text layers: attach_text_states(corpus, ...) first")
            model.eval()
            with torch.no_grad():
                everything = np.arange(len(corpus.text_states))
                all_features = top.encode(corpus.text_states, everything).float().cpu().numpy()
    else:
        text_text = f"frozen {package} text encoder"
    card = {
        "name": cfg.name,
        "group": "Retrieval",
        "description": (
            f"AMOLE-style molecule-text dual encoder: {gin_text} + {text_text} with trained "
            f"projection heads into a shared {cfg.proj_dim}-d space; trained on ChEBI-20 with " + ", ".join(losses)
        ),
        "architecture": {
            "type": "dual_encoder",
            "config": {
                "text_dim": model.text_dim,
                "proj_dim": model.proj_dim,
                "num_layer": gin.num_layer,
                "emb_dim": gin.emb_dim,
                "drop_ratio": gin.drop_ratio,
                "jk": gin.jk,
                "text_backbone": text_spec,
                "trained_parts": trained_parts,
            },
        },
        "featurizer": featurizer_spec(GRAPH_FEATURIZER),
        "tasks": [{"name": "molecule_text_retrieval", "type": "classification"}],
        "data": {
            "dataset": "chebi20",
            "sha256": corpus.data_sha256,
            "pairs": len(corpus),
            "dropped": len(corpus.dropped),
            "er_molecules": int((corpus.partners() >= 0).sum()),
        },
        "split": split.describe(),
        "seeds": [cfg.seed],
        "metrics": {
            part: {name: {"mean": v, "std": None, "per_seed": [v]} for name, v in values.items()}
            for part, values in metrics.items()
        },
        "command": command,
        "training": {**asdict(cfg), "history": history or {}},
    }
    if init_info is not None:
        card["init_encoder"] = {k: v for k, v in init_info.items()}
    folder = Path(models_dir) / cfg.name
    folder.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(folder / f"seed{cfg.seed}.safetensors"), metadata={"format": "workbench"})
    files = [{"file": f"seed{cfg.seed}.safetensors", "format": "safetensors", "seed": cfg.seed, "role": "model"}]
    if all_features is not None:
        # text-encoder features of every corpus description, so `describe` needs no text-encoder pass over them
        corpus_tensors = {
            "cid": torch.from_numpy(np.array(corpus.all_cids, dtype=np.int64)),
            "features": torch.from_numpy(np.ascontiguousarray(all_features)).to(torch.float16),
        }
        save_file(corpus_tensors, str(folder / CORPUS_FILE), metadata={"dataset": "chebi20"})
        files.append({"file": CORPUS_FILE, "format": "safetensors", "seed": None, "role": "corpus_text_features"})
    return write_card(folder, card, files)


def train_retrieval(
    cfg: RetrievalConfig,
    *,
    models_dir: str | Path | None = "models",
    runs_dir: str | Path = "runs",
    command: str = "",
    corpus: RetrievalCorpus | None = None,
    device: str = "cpu",
) -> dict:
    """Prepare (cached), split, train, evaluate on the held-out test pairs and (optionally) ship a checkpoint.

    Returns:
        ``{"valid": metrics, "test": metrics, "history": ..., "card": card or None}``.
    """
    run_dir = Path(runs_dir) / "retrieval"
    run_dir.mkdir(parents=True, exist_ok=True)
    log_file = (run_dir / f"{cfg.name}.log").open("a")

    def log(message: str) -> None:
        print(message, flush=True)
        log_file.write(message + "\n")
        log_file.flush()

    corpus = corpus or prepare_corpus(cache_dir=run_dir / "cache", log=log)
    split = retrieval_split(corpus, cfg.split, cfg.seed)
    log(f"split {cfg.split}: {len(split.train)}/{len(split.valid)}/{len(split.test)} pairs")
    model, history = train_dual_encoder(corpus, split, cfg, device=device, log=log, cache_dir=run_dir / "cache")
    metrics = {
        "valid": evaluate_retrieval(model, corpus, split.valid),
        "test": evaluate_retrieval(model, corpus, split.test),
    }
    log("test " + json.dumps(metrics["test"]))
    card = None
    if models_dir is not None:
        card = save_retrieval_checkpoint(
            model.cpu(), corpus, split, cfg, metrics, models_dir=models_dir, command=command, history=history
        )
    log_file.close()
    return {**metrics, "history": history, "card": card}
