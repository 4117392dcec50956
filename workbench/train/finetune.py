"""Fine-tune a GIN ensemble on a data set: ``workbench train finetune``.

One model per seed, trained by :func:`workbench.train.supervised.fit_graph_model` (the
shared loop: early stopping on the validation split, a progress bar, a per-epoch log),
resumable from ``runs/<name>/seed<k>/``, whose recorded configuration must match
(:func:`run_config`); writes ``models/<name>/`` with one safetensors file per seed and a
model card whose test metrics are computed with the weights exactly as shipped.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from scipy.special import expit  # the logistic function, without overflow warnings

from workbench.data.prepared import Prepared, prepare
from workbench.featurizers import GRAPH_FEATURIZER, featurizer_spec, mols_to_graphs
from workbench.featurizers.graph_batch import MolGraph
from workbench.hashing import sha256_file
from workbench.models import CARD_FILE, ModelCard, save_torch_checkpoint
from workbench.nn import GINPredictor, masked_bce_loss, masked_mse_loss
from workbench.predict.references import store_references
from workbench.train.encoder_init import load_encoder_weights
from workbench.train.init_choice import keep_better
from workbench.train.loop import EarlyStopping, LoopResult
from workbench.train.metrics import regression_metrics, roc_auc, summarize_seeds
from workbench.train.run_folder import RunFolder
from workbench.train.supervised import fit_graph_model, predict_graphs

__all__ = [
    "FinetuneConfig",
    "default_name",
    "evaluate",
    "featurize_prepared",
    "finetune",
    "run_config",
    "scaled_targets",
]

log = logging.getLogger("workbench.train")


@dataclass
class FinetuneConfig:
    """Everything that decides a fine-tuning run (recorded in the card)."""

    dataset: str
    name: str
    split: str = "scaffold"
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    epochs: int = 100
    patience: int = 15
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    num_layer: int = 5
    emb_dim: int = 300
    drop_ratio: float = 0.5
    jk: str = "last"
    init: str | None = None
    device: str = "cpu"
    weights_dtype: str = "float16"
    threads: int | None = None


def evaluate(task_type: str, y_true: np.ndarray, raw: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict:
    """Metrics of raw outputs: ROC-AUC for classification; RMSE and MAE (original units) for regression."""
    if task_type == "classification":
        return {"roc_auc": roc_auc(y_true, expit(raw))}
    return regression_metrics(y_true, raw * std + mean)


def _round_trip(state: dict[str, torch.Tensor], dtype: str) -> dict[str, torch.Tensor]:
    """Weights as they will be stored (e.g. float16), for storage and for the card's metrics."""
    target = getattr(torch, dtype)
    return {k: (v.to(target) if v.is_floating_point() else v).clone() for k, v in state.items()}


def run_config(cfg: FinetuneConfig, seed: int, prep: Prepared) -> dict:
    """What decides one member's weights, recorded (and checked on resume) in its run folder.

    The whole configuration, except the other seeds and the storage dtype (applied after training),
    plus the data file's sha256, the featurizer and the sha256 of the ``init`` weights.
    """
    config = {k: v for k, v in asdict(cfg).items() if k not in ("seeds", "weights_dtype")}
    init = Path(cfg.init) if cfg.init else None
    init_file = init / "card.json" if init is not None and init.is_dir() else init
    return {
        **config,
        "seed": seed,
        "data_sha256": prep.dataset.sha256,
        "featurizer": featurizer_spec(GRAPH_FEATURIZER),
        "init_sha256": sha256_file(init_file) if init_file is not None and init_file.is_file() else None,
    }


def _train_seed(
    cfg: FinetuneConfig,
    prep: Prepared,
    graphs: list[MolGraph],
    y: np.ndarray,
    seed: int,
    run_dir: Path,
    mean: np.ndarray,
    std: np.ndarray,
) -> tuple[dict[str, torch.Tensor], LoopResult]:
    """Train one member in ``run_dir/seed<seed>/`` (resumed, or read back when finished).

    Returns:
        The best state and how the run went (epochs run, whether it was read back).
    """
    device = torch.device(cfg.device)
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = GINPredictor(len(prep.tasks), cfg.num_layer, cfg.emb_dim, cfg.drop_ratio, cfg.jk)
    if cfg.init:
        model.load_encoder(load_encoder_weights(cfg.init))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    classification = prep.task_type == "classification"
    valid = prep.split.valid
    result = fit_graph_model(
        model, graphs, y, prep.split.train, valid,
        optimizer=optimizer,
        loss_fn=masked_bce_loss if classification else masked_mse_loss,
        score=lambda raw: evaluate(prep.task_type, prep.y[valid], raw, mean, std),
        stopping=EarlyStopping("roc_auc" if classification else "rmse", "max" if classification else "min",
                               cfg.patience),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        shuffle=np.random.default_rng(seed * 1000),
        device=device,
        run=RunFolder(run_dir / f"seed{seed}", run_config(cfg, seed, prep)),
        desc=f"{cfg.name} seed {seed}",
        echo=log.info,
    )  # fmt: skip
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}, result


def _cost(runs: Sequence[LoopResult], n_train: int, seconds: float, cfg: FinetuneConfig) -> dict:
    """What the run cost: wall time of this command, epochs per seed, molecule-epochs, device and threads.

    Seeds read back from an earlier, finished run (``reused``) are listed but their time is not in ``wall_seconds``.
    """
    return {
        "wall_seconds": round(seconds, 1),
        "epochs_run": [r.epochs_run for r in runs],
        "reused_seeds": [seed for seed, r in zip(cfg.seeds, runs, strict=True) if r.reused],
        "molecule_epochs": int(sum(r.epochs_run for r in runs) * n_train),
        "device": cfg.device,
        "threads": cfg.threads,
    }


def _without(idx: np.ndarray, drop: Sequence[int]) -> np.ndarray:
    """``idx`` without the entries in ``drop``, order kept."""
    return idx[~np.isin(idx, np.asarray(drop, dtype=idx.dtype))]


def featurize_prepared(prep: Prepared) -> tuple[list[MolGraph | None], list[str], list[int]]:
    """Graphs of a prepared data set; molecules that cannot be featurized leave the split (``prep`` is updated).

    Returns:
        ``(graphs, errors, bad)``: one graph (or ``None``) and one error string per molecule, and the bad rows.
    """
    graphs, errors = mols_to_graphs(prep.mols)
    bad = [i for i, e in enumerate(errors) if e]
    if len(bad) == len(graphs):
        raise ValueError(f"no molecule could be featurized, e.g. {errors[bad[0]]}")
    if bad:
        # e.g. HIV's dative bonds: the split stays the one computed on every molecule, minus these
        log.warning("%d molecules cannot be featurized and are left out, e.g. %s", len(bad), errors[bad[0]])
        prep.split = replace(
            prep.split, **{part: _without(getattr(prep.split, part), bad) for part in ("train", "valid", "test")}
        )
    return graphs, errors, bad


def scaled_targets(prep: Prepared) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Targets as trained on: regression standardized with the training split's mean and std (NaN kept).

    Returns:
        ``(y, mean, std)`` with ``y`` float32 ``(n, tasks)``; classification gets mean 0 and std 1.
    """
    regression = prep.task_type == "regression"
    train_y = prep.y[prep.split.train]
    mean = np.nanmean(train_y, axis=0) if regression else np.zeros(len(prep.tasks))
    std = np.nanstd(train_y, axis=0) if regression else np.ones(len(prep.tasks))
    std = np.where(std > 0, std, 1.0)
    return ((prep.y - mean) / std).astype(np.float32), mean, std


def finetune(
    cfg: FinetuneConfig,
    *,
    models_dir: str | Path = "models",
    runs_dir: str | Path = "runs",
    command: str = "",
    only_if_better: bool = False,
) -> ModelCard:
    """Train ``cfg.seeds`` GINs and write the checkpoint folder; returns the card of what stands there.

    With ``only_if_better`` and a checkpoint of this name already in ``models_dir``, the new ensemble is written
    beside the run and replaces it only when its mean validation score is better
    (:func:`workbench.train.init_choice.keep_better`); the card that stays records the comparison.
    """
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    run_dir = Path(runs_dir) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    started = time.perf_counter()
    try:
        prep = prepare(cfg.dataset, cfg.split)
        log.info(
            "%s: %d molecules kept, %d dropped; split sizes %s",
            cfg.dataset,
            len(prep.smiles),
            len(prep.dropped),
            prep.split.describe()["sizes"],
        )
        graphs, errors, bad = featurize_prepared(prep)
        regression = prep.task_type == "regression"
        y, mean, std = scaled_targets(prep)
        device = torch.device(cfg.device)
        states, test_metrics, valid_metrics, runs = [], [], [], []
        for seed in cfg.seeds:
            best, result = _train_seed(cfg, prep, graphs, y, seed, run_dir, mean, std)
            runs.append(result)
            stored = _round_trip(best, cfg.weights_dtype)
            model = GINPredictor(len(prep.tasks), cfg.num_layer, cfg.emb_dim, 0.0, cfg.jk)
            model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in stored.items()})
            model.to(device)
            for idx, sink in ((prep.split.test, test_metrics), (prep.split.valid, valid_metrics)):
                sink.append(
                    evaluate(prep.task_type, prep.y[idx], predict_graphs(model, graphs, idx, device), mean, std)
                )
            log.info("seed %d test %s", seed, test_metrics[-1])
            states.append(stored)
        card = {
            "name": cfg.name,
            "description": f"GIN ({cfg.num_layer}×{cfg.emb_dim}) fine-tuned on {prep.dataset.name}, "
            f"{len(cfg.seeds)}-member ensemble"
            + (f", encoder initialised from {cfg.init}" if cfg.init else ", no pretraining"),
            "architecture": {
                "type": "gin",
                "config": {
                    "n_tasks": len(prep.tasks),
                    "num_layer": cfg.num_layer,
                    "emb_dim": cfg.emb_dim,
                    "drop_ratio": cfg.drop_ratio,
                    "jk": cfg.jk,
                    "weights_dtype": cfg.weights_dtype,
                },
            },
            "featurizer": featurizer_spec(GRAPH_FEATURIZER),
            **prep.card_fields(),
            "seeds": list(cfg.seeds),
            "metrics": {"test": summarize_seeds(test_metrics), "valid": summarize_seeds(valid_metrics)},
            "training": {
                **{k: v for k, v in asdict(cfg).items() if k not in ("name", "dataset", "seeds", "split")},
                **({"init_sha256": run_config(cfg, cfg.seeds[0], prep)["init_sha256"]} if cfg.init else {}),
                "cost": _cost(runs, len(prep.split.train), time.perf_counter() - started, cfg),
            },
            "command": command
            or f"workbench train finetune --dataset {cfg.dataset} --split {cfg.split} "
            f"--seeds {' '.join(map(str, cfg.seeds))} --epochs {cfg.epochs}",
        }
        if regression:
            card["target_scaling"] = {"mean": [float(m) for m in mean], "std": [float(s) for s in std]}
        if bad:
            card["data"]["unfeaturizable"] = [
                {"row": int(prep.kept[i]), "smiles": prep.smiles[i], "reason": errors[i]} for i in bad
            ]
        target = Path(models_dir) / cfg.name
        compare = only_if_better and (target / CARD_FILE).is_file()
        staged = run_dir / "checkpoint" if compare else target
        if compare:
            shutil.rmtree(staged, ignore_errors=True)
        save_torch_checkpoint(staged, card, states, list(cfg.seeds))
        if compare:
            replaced, kept = keep_better(staged, target)
            log.info(
                "%s: %s on validation", target, "replaced, better" if replaced else "kept, the new one is not better"
            )
            if not replaced:
                return kept
        train = prep.split.train
        written = store_references(target, [prep.mols[i] for i in train], prep.kept[train], log=log.info)
        log.info("wrote %s: test %s", target, written.to_dict()["metrics"]["test"])
        return written
    finally:
        log.removeHandler(handler)
        handler.close()


def default_name(dataset: str, seeds: Sequence[int]) -> str:
    """``<dataset>_gin`` (lower case)."""
    return f"{dataset.lower()}_gin"
