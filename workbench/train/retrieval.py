"""Train the AMOLE-style molecule–text dual encoder on ChEBI-20 and ship it as a checkpoint.

The corpus (graphs, fingerprints, frozen text features, splits, augmentation) is prepared by
:mod:`workbench.retrieval.corpus` and scored by :mod:`workbench.retrieval.metrics`; a training
step runs only the GIN and two small projection heads. With ``text_trainable_layers = N`` the
token states that enter the top N MiniLM layers are cached as well
(:func:`~workbench.retrieval.corpus.attach_text_states`), and a step also runs (and trains, at
``text_lr``) those N layers. ``init_encoder`` starts the GIN from a shipped GIN checkpoint
(:func:`workbench.train.encoder_init.resolve_init_encoder`). Epochs go through the shared
loop (:func:`workbench.train.loop.fit`): the epoch with the best validation MRR is kept;
:func:`train_retrieval` trains in a resumable run folder ``runs/retrieval/<name>/`` whose
recorded configuration must match.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file

from workbench.data.splits import Split
from workbench.featurizers import GRAPH_FEATURIZER, featurizer_spec
from workbench.models import ModelCard, write_card
from workbench.models.store import cast_floating
from workbench.nn.dual_encoder import DualEncoder, expertise_reconstruction_loss, info_nce, s2p_loss, tanimoto_matrix
from workbench.nn.text_backbone import MiniLMBackbone, build_backbone, fine_tuned_spec
from workbench.retrieval.corpus import (
    AugmentationSampler,
    RetrievalCorpus,
    attach_text_states,
    collate_graphs,
    neighbour_table,
    prepare_corpus,
    retrieval_split,
)
from workbench.retrieval.metrics import evaluate_retrieval
from workbench.train.encoder_init import load_encoder_weights, resolve_init_encoder
from workbench.train.loop import EarlyStopping, fit
from workbench.train.run_folder import RunFolder

__all__ = [
    "ABLATION",
    "CORPUS_FILE",
    "WEIGHTS_DTYPE",
    "RetrievalConfig",
    "run_config",
    "save_retrieval_checkpoint",
    "train_dual_encoder",
    "train_retrieval",
]

CORPUS_FILE = "corpus_text_features.safetensors"
#: How the shipped checkpoint stores its floating-point weights (the card's metrics are of these weights).
WEIGHTS_DTYPE = "float16"

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


def run_config(cfg: RetrievalConfig, corpus: RetrievalCorpus, device: str) -> dict:
    """What decides the weights (recorded in the run folder): the configuration, the device and the corpus."""
    return {**asdict(cfg), "device": str(device), "data_sha256": corpus.data_sha256, "pairs": len(corpus),
            "text_backbone": corpus.text_spec}  # fmt: skip


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
    run: RunFolder | None = None,
    bar: bool = True,
) -> tuple[DualEncoder, dict]:
    """Train one dual encoder; the epoch with the best validation MRR is kept.

    Args:
        text_backbone: the MiniLM whose top layers are fine-tuned when ``cfg.text_trainable_layers``
            (default: built from the corpus' text spec); its own weights are never changed.
        cache_dir: where the token states of :func:`attach_text_states` are cached.
        run: a run folder (per-epoch log, resumable state; a finished run is read back); default in memory.

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
        model.load_encoder(load_encoder_weights(cfg.init))
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

    def train_epoch(_epoch: int) -> dict[str, float | None]:
        losses, parts = [], {"contrastive": [], "er": []}
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
        return {
            "loss": float(np.mean(losses)),
            "contrastive": float(np.mean(parts["contrastive"])),
            "er": float(np.mean(parts["er"])) if parts["er"] else None,
        }

    def validate() -> dict[str, float]:
        valid = evaluate_retrieval(model, corpus, split.valid)
        return {"valid_mrr": 0.5 * (valid["mol2text_mrr"] + valid["text2mol_mrr"])}

    result = fit(
        torch.nn.ModuleDict({"model": model, "er_head": er_head}), optimizer, train_epoch, validate,
        epochs=cfg.epochs, stopping=EarlyStopping("valid_mrr", "max"), run=run,
        generators={"shuffle": rng, **({"augment": sampler.rng} if sampler is not None else {})},
        desc=cfg.name, bar=bar, echo=log,
    )  # fmt: skip
    history["epochs"] = [{**row, "epoch": row["epoch"] + 1} for row in result.history]  # numbered from 1
    history["best_valid_mrr"] = result.best_score if result.best_score is not None else -1.0
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
    weights_dtype: str = WEIGHTS_DTYPE,
) -> ModelCard:
    """Write ``models_dir/<name>/``: the weights (GIN, both projections, fine-tuned text layers if any) and the card.

    The floating-point weights are stored as ``weights_dtype`` (recorded in the card's architecture config) and
    ``model`` is rounded to them in place, so it is the model the checkpoint holds. With fine-tuned text layers
    the stored corpus description features are those of the fine-tuned encoder (as stored).
    """
    state = cast_floating(model.state_dict(), weights_dtype)
    model.load_state_dict(state)  # the parameters keep their dtype and take the stored values
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
                "weights_dtype": weights_dtype,
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


def _ship_library(card: ModelCard, folder: Path, log: Callable[[str], None]) -> ModelCard:
    """Store the approved-drug embeddings with the new checkpoint (skipped, with a message, without the drug table)."""
    from workbench.models import Checkpoint
    from workbench.retrieval.library import store_library_embeddings
    from workbench.retrieval.model import clear_cache, load_retriever

    clear_cache()  # a retriever this process loaded from the folder before holds the weights just replaced
    try:
        return store_library_embeddings(load_retriever(Checkpoint(folder, card), device="cpu"))
    except FileNotFoundError as exc:
        log(f"no approved-drug embeddings stored ({exc})")
        return card


def train_retrieval(
    cfg: RetrievalConfig,
    *,
    models_dir: str | Path | None = "models",
    runs_dir: str | Path = "runs",
    command: str = "",
    corpus: RetrievalCorpus | None = None,
    device: str = "cpu",
) -> dict:
    """Prepare (cached), split, train in ``runs_dir/retrieval/<name>/``, evaluate on the test pairs, ship a checkpoint.

    Returns:
        ``{"valid": metrics, "test": metrics, "history": ..., "card": card or None}``.
    """
    run_dir = Path(runs_dir) / "retrieval"
    run_dir.mkdir(parents=True, exist_ok=True)
    with (run_dir / f"{cfg.name}.log").open("a") as log_file:

        def log(message: str) -> None:
            print(message, flush=True)
            log_file.write(message + "\n")
            log_file.flush()

        corpus = corpus or prepare_corpus(cache_dir=run_dir / "cache", log=log)
        split = retrieval_split(corpus, cfg.split, cfg.seed)
        log(f"split {cfg.split}: {len(split.train)}/{len(split.valid)}/{len(split.test)} pairs")
        run = RunFolder(run_dir / cfg.name, run_config(cfg, corpus, device))
        model, history = train_dual_encoder(
            corpus, split, cfg, device=device, log=log, cache_dir=run_dir / "cache", run=run
        )
        model.load_state_dict(cast_floating(model.state_dict(), WEIGHTS_DTYPE))  # the metrics are of the stored weights
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
            card = _ship_library(card, Path(models_dir) / cfg.name, log)
    return {**metrics, "history": history, "card": card}
