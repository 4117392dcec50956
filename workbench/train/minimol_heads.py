"""Heads on MiniMol embeddings: ``workbench minimol train --dataset bbbp``.

Embeds every molecule of a data set once with MiniMol (cached under
``runs/minimol/``, keyed on the data file's and the ONNX graph's sha256), then trains
one :class:`workbench.nn.FeatureMLP` per seed on the training split with early
stopping on the validation split (:func:`workbench.train.supervised.fit_feature_model`,
resumable from ``runs_dir`` when one is given), and writes ``models/<name>/``
(safetensors + card with test metrics, mean ± std over seeds, computed with the
weights as shipped).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.special import expit  # the logistic function, without overflow warnings

from workbench.data.prepared import Prepared, prepare
from workbench.featurizers.minimol import EMBEDDING_DIM, get_embedder
from workbench.models import ModelCard, save_torch_checkpoint
from workbench.nn import FeatureMLP, masked_bce_loss, masked_mse_loss
from workbench.predict.references import store_references
from workbench.train.loop import EarlyStopping
from workbench.train.metrics import regression_metrics, roc_auc, summarize_seeds
from workbench.train.run_folder import RunFolder
from workbench.train.supervised import fit_feature_model, predict_features

__all__ = ["MinimolHeadConfig", "embed_dataset", "run_config", "train_minimol_head"]

log = logging.getLogger("workbench.train")


@dataclass
class MinimolHeadConfig:
    """What decides a MiniMol head run (recorded in the card)."""

    dataset: str
    name: str
    split: str = "scaffold"
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2])
    hidden: int = 256
    n_layers: int = 1
    dropout: float = 0.2
    lr: float = 1e-3
    weight_decay: float = 1e-5
    batch_size: int = 64
    epochs: int = 200
    patience: int = 20
    threads: int | None = 1


def embed_dataset(prep: Prepared, cache_dir: str | Path | None) -> tuple[np.ndarray, list[str]]:
    """MiniMol embeddings of ``prep``'s molecules (canonical SMILES), cached on disk when ``cache_dir`` is set."""
    embedder = get_embedder()
    path = None
    if cache_dir is not None:
        key = f"{prep.dataset.name.lower()}-{prep.dataset.sha256[:12]}-{embedder.onnx_sha256[:12]}-{len(prep.smiles)}"
        path = Path(cache_dir) / f"{key}.npz"
        if path.exists():
            cached = np.load(path, allow_pickle=False)
            if list(cached["smiles"]) == prep.smiles:
                return cached["x"], [str(e) for e in cached["errors"]]
    x, errors = embedder.embed_smiles(prep.smiles)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez(tmp, x=x, errors=np.array(errors, dtype=str), smiles=np.array(prep.smiles, dtype=str))
        tmp.replace(path)
    return x, errors


def _metrics(task_type: str, y: np.ndarray, raw: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict:
    if task_type == "classification":
        return {"roc_auc": roc_auc(y, expit(raw))}
    return regression_metrics(y, raw * std + mean)


def _predict(model: FeatureMLP, x: torch.Tensor, idx: np.ndarray) -> np.ndarray:
    return predict_features(model, x, idx).astype(np.float64)


def run_config(cfg: MinimolHeadConfig, seed: int, prep: Prepared) -> dict:
    """What decides one head's weights (recorded in its run folder): the configuration but the other seeds, the data."""
    config = {k: v for k, v in asdict(cfg).items() if k != "seeds"}
    return {**config, "seed": seed, "data_sha256": prep.dataset.sha256, "featurizer": get_embedder().spec()}


def _train_seed(
    cfg: MinimolHeadConfig,
    prep: Prepared,
    x: torch.Tensor,
    y: np.ndarray,
    idx: dict,
    seed: int,
    scale: tuple,
    run_dir: Path | None,
) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = FeatureMLP(EMBEDDING_DIM, len(prep.tasks), cfg.hidden, cfg.n_layers, cfg.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    classification = prep.task_type == "classification"
    target = torch.from_numpy(((y - scale[0]) / scale[1]).astype(np.float32))
    result = fit_feature_model(
        model, x, target, idx["train"], idx["valid"],
        optimizer=opt,
        loss_fn=masked_bce_loss if classification else masked_mse_loss,
        score=lambda raw: _metrics(prep.task_type, y[idx["valid"]], raw.astype(np.float64), *scale),
        stopping=EarlyStopping("roc_auc" if classification else "rmse", "max" if classification else "min",
                               cfg.patience),
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        shuffle=rng,
        run=RunFolder(run_dir / f"seed{seed}", run_config(cfg, seed, prep)) if run_dir is not None else None,
        desc=f"{cfg.name} seed {seed}",
    )  # fmt: skip
    log.info("%s seed %d: best valid %s at epoch %d", cfg.name, seed, result.best_score, result.best_epoch)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def train_minimol_head(
    cfg: MinimolHeadConfig,
    *,
    models_dir: str | Path = "models",
    cache_dir: str | Path | None = "runs/minimol",
    runs_dir: str | Path | None = None,
    command: str = "",
) -> ModelCard:
    """Train ``cfg.seeds`` heads on MiniMol embeddings and write the checkpoint; returns the card.

    With ``runs_dir`` each head is trained in ``runs_dir/<name>/seed<k>/`` (per-epoch log, resumable,
    a finished seed is read back); without it, in memory.
    """
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    prep = prepare(cfg.dataset, cfg.split)
    x_all, errors = embed_dataset(prep, cache_dir)
    usable = np.array([not e for e in errors])
    if not usable.any():
        raise ValueError(f"MiniMol could not embed any molecule of {cfg.dataset}: {errors[0]}")
    x = torch.from_numpy(np.nan_to_num(x_all).astype(np.float32))
    y = prep.y.astype(np.float64)
    idx = {part: np.asarray([i for i in getattr(prep.split, part) if usable[i]]) for part in ("train", "valid", "test")}
    regression = prep.task_type == "regression"
    mean = np.nanmean(y[idx["train"]], axis=0) if regression else np.zeros(len(prep.tasks))
    std = np.nanstd(y[idx["train"]], axis=0) if regression else np.ones(len(prep.tasks))
    std = np.where(std > 0, std, 1.0)
    states, test, valid = [], [], []
    for seed in cfg.seeds:
        run_dir = Path(runs_dir) / cfg.name if runs_dir is not None else None
        state = _train_seed(cfg, prep, x, y, idx, seed, (mean, std), run_dir)
        model = FeatureMLP(EMBEDDING_DIM, len(prep.tasks), cfg.hidden, cfg.n_layers, cfg.dropout)
        model.load_state_dict(state)
        test.append(_metrics(prep.task_type, y[idx["test"]], _predict(model, x, idx["test"]), mean, std))
        valid.append(_metrics(prep.task_type, y[idx["valid"]], _predict(model, x, idx["valid"]), mean, std))
        log.info("%s seed %d test %s", cfg.name, seed, test[-1])
        states.append(state)
    fields = prep.card_fields()
    fields["group"] = "MiniMol"
    fields["data"]["not_embedded"] = int((~usable).sum())
    card = {
        "name": cfg.name,
        "description": f"MLP head ({cfg.n_layers}×{cfg.hidden}) on frozen MiniMol embeddings (512-d), trained on "
        f"{prep.dataset.name}, {len(cfg.seeds)}-member ensemble",
        **fields,
        "architecture": {"type": "minimol_head", "config": model.config},
        "featurizer": get_embedder().spec(),
        "seeds": list(cfg.seeds),
        "metrics": {"test": summarize_seeds(test), "valid": summarize_seeds(valid)},
        "training": {k: v for k, v in asdict(cfg).items() if k not in ("name", "dataset", "seeds", "split")},
        "command": command
        or f"workbench minimol train --dataset {cfg.dataset} --split {cfg.split} "
        f"--seeds {' '.join(map(str, cfg.seeds))}",
    }
    if regression:
        card["target_scaling"] = {"mean": [float(m) for m in mean], "std": [float(s) for s in std]}
    save_torch_checkpoint(Path(models_dir) / cfg.name, card, states, list(cfg.seeds))
    train = prep.split.train
    return store_references(
        Path(models_dir) / cfg.name, [prep.mols[i] for i in train], prep.kept[train], log=lambda _msg: None
    )
