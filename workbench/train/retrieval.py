"""Train the AMOLE-style molecule–text dual encoder on ChEBI-20 and ship it as a checkpoint.

The corpus (graphs, fingerprints, frozen text features, splits, augmentation) is prepared by
:mod:`workbench.retrieval.corpus` and scored by :mod:`workbench.retrieval.metrics`; a training
step runs only the GIN and two small projection heads. With ``text_trainable_layers = N`` the
token states that enter the top N MiniLM layers are cached as well
(:func:`~workbench.retrieval.corpus.attach_text_states`), and a step also runs (and trains, at
``text_lr``) those N layers. ``init_encoder`` starts the GIN from a shipped GIN checkpoint
(:func:`workbench.train.encoder_init.resolve_init_encoder`) and ``init`` from a pretrained encoder folder
(``models/encoders/attrmask``). ``towers`` chooses the molecule side (:data:`workbench.nn.dual_encoder.TOWERS`:
the GIN, an MLP over a frozen MiniMol embedding or over ECFP4 + RDKit 2D descriptors, or a late fusion of two;
the feature sets are fitted on the training molecules and recorded in the card). Epochs go through the shared
loop (:func:`workbench.train.loop.fit`): the epoch with the best validation score (``select``: MRR, or the
class-level ROC-AUC / average precision of :mod:`workbench.retrieval.classes` on the validation molecules) is kept;
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

from workbench.data.splits import Split
from workbench.models.store import cast_floating
from workbench.nn.dual_encoder import (
    TOWERS,
    DualEncoder,
    expertise_reconstruction_loss,
    info_nce,
    s2p_loss,
    tanimoto_matrix,
)
from workbench.nn.text_backbone import MiniLMBackbone, build_backbone
from workbench.retrieval.classes import class_summary, class_task
from workbench.retrieval.corpus import (
    AugmentationSampler,
    RetrievalCorpus,
    attach_molecule_features,
    attach_text_states,
    neighbour_table,
    prepare_corpus,
    retrieval_split,
)
from workbench.retrieval.metrics import ClassQueries, embed_pair_molecules, evaluate_class_task, evaluate_retrieval
from workbench.train.encoder_init import load_encoder_weights, resolve_init_encoder
from workbench.train.loop import EarlyStopping, fit
from workbench.train.retrieval_checkpoint import (
    CORPUS_FILE,
    WEIGHTS_DTYPE,
    save_retrieval_checkpoint,
    ship_library,
    ship_score_reference,
)
from workbench.train.run_folder import RunFolder

__all__ = [
    "ABLATION",
    "CORPUS_FILE",
    "SELECTION",
    "WEIGHTS_DTYPE",
    "RetrievalConfig",
    "run_config",
    "save_retrieval_checkpoint",
    "train_dual_encoder",
    "train_retrieval",
]

#: What decides the kept epoch (``RetrievalConfig.select``): the key of the validation dict it reads.
SELECTION = {"mrr": "valid_mrr", "class_auc": "valid_class_auc", "class_ap": "valid_class_ap"}

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
    towers: list[str] = field(default_factory=lambda: ["gin"])  # molecule towers; two: late fusion
    hidden: int = 512  # hidden width of the feature towers' MLPs
    select: str = "mrr"  # the validation score that keeps an epoch: mrr | class_auc | class_ap
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
    """Train one dual encoder; the epoch with the best validation score (``cfg.select``) is kept.

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
    if cfg.select not in SELECTION:
        raise ValueError(f"unknown selection '{cfg.select}' ({', '.join(SELECTION)})")
    towers = tuple(cfg.towers)
    if not towers or any(t not in TOWERS for t in towers):
        raise ValueError(f"towers must be one or two of {TOWERS}, got {list(towers)}")
    history: dict = {"epochs": []}
    text_top = None
    backbone = text_backbone
    if cfg.text_trainable_layers:
        backbone = text_backbone or build_backbone(corpus.text_spec)
        if not isinstance(backbone, MiniLMBackbone):
            raise ValueError("only the MiniLM text encoder has layers to fine-tune")
        attach_text_states(corpus, backbone, cfg.text_trainable_layers, cache_dir=cache_dir, log=log)
        text_top = backbone.top(cfg.text_trainable_layers)  # a copy: no random numbers drawn
    for tower in towers:
        if tower != "gin":
            attach_molecule_features(corpus, tower, split.train, cache_dir=cache_dir, log=log)
    task = class_task(corpus.frame, split.valid, part="valid")
    class_queries = None
    if len(task):
        backbone = backbone or build_backbone(corpus.text_spec)
        class_queries = ClassQueries(task, backbone, cfg.text_trainable_layers)
    elif cfg.select != "mrr":
        log(f"no class has enough validation molecules: selecting on {cfg.select} keeps the last epoch")
    history["valid_classes"] = len(task)
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
        corpus.text_features.shape[1], cfg.proj_dim, cfg.num_layer, cfg.emb_dim, cfg.drop_ratio, text_top=text_top,
        towers=towers, feature_dims={t: corpus.features[t].shape[1] for t in towers if t != "gin"}, hidden=cfg.hidden,
    )  # fmt: skip
    if init_state is not None:
        model.load_encoder(init_state)
    if cfg.init:
        model.load_encoder(load_encoder_weights(cfg.init))
    model.to(device)
    er_head = torch.nn.Linear(model.out_dim, corpus.text_features.shape[1]).to(device)
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
            mol = embed_pair_molecules(model, corpus, fed, device)
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
        out = {"valid_mrr": 0.5 * (valid["mol2text_mrr"] + valid["text2mol_mrr"])}
        if class_queries is not None:
            summary = class_summary(evaluate_class_task(model, corpus, class_queries))
            out["valid_class_auc"] = summary["mean_roc_auc"]
            out["valid_class_ap"] = summary["mean_average_precision"]
        return out

    result = fit(
        torch.nn.ModuleDict({"model": model, "er_head": er_head}), optimizer, train_epoch, validate,
        epochs=cfg.epochs, stopping=EarlyStopping(SELECTION[cfg.select], "max"), run=run,
        generators={"shuffle": rng, **({"augment": sampler.rng} if sampler is not None else {})},
        desc=cfg.name, bar=bar, echo=log,
    )  # fmt: skip
    history["epochs"] = [{**row, "epoch": row["epoch"] + 1} for row in result.history]  # numbered from 1
    history["selected_on"] = SELECTION[cfg.select]
    history["best_valid_score"] = result.best_score if result.best_score is not None else -1.0
    kept = next((row for row in result.history if row["epoch"] == result.best_epoch), None)
    kept = kept or (result.history[-1] if result.history else {})
    history["best_valid_mrr"] = float(kept.get("valid_mrr", -1.0))
    history["er_pairs_in_train"] = int((partners >= 0).sum())
    return model, history


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
            card = ship_library(card, Path(models_dir) / cfg.name, log)
            card = ship_score_reference(card, Path(models_dir) / cfg.name, corpus, split, log)
    return {**metrics, "history": history, "card": card}
