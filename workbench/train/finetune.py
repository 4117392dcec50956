"""Fine-tune a GIN ensemble on a data set: ``workbench train finetune``.

One model per seed, early stopping on the validation split, a progress bar and a
log, resumable from ``runs/<name>/``; writes ``models/<name>/`` with one
safetensors file per seed and a model card whose test metrics are computed
with the weights exactly as shipped.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from torch_geometric.data import Batch, Data
from tqdm.auto import tqdm

from workbench.data.prepared import Prepared, prepare
from workbench.featurizers import GRAPH_FEATURIZER, featurizer_spec, mols_to_graphs
from workbench.models import CheckpointError, load_card, save_torch_checkpoint
from workbench.nn import GINPredictor, masked_bce_loss, masked_mse_loss
from workbench.train.metrics import regression_metrics, roc_auc, summarize_seeds

__all__ = ["FinetuneConfig", "evaluate", "finetune", "predict_graphs"]

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


def _load_encoder_state(path: str) -> dict[str, torch.Tensor]:
    """Encoder weights from a safetensors file or a checkpoint folder (never unpickled)."""
    p = Path(path)
    if p.is_dir():
        card = load_card(p)
        from workbench.models import load_state_dicts

        return load_state_dicts(p, card)[0]
    if p.suffix != ".safetensors":
        raise CheckpointError(
            f"{p}: --init takes a .safetensors file or a checkpoint folder; pickled files are not loaded "
            "(convert with safetensors.torch.save_file in a trusted environment)."
        )
    return load_file(str(p))


def _batches(graphs: list[Data], y: np.ndarray, idx: np.ndarray, size: int, rng: np.random.Generator | None):
    order = rng.permutation(idx) if rng is not None else idx
    for start in range(0, len(order), size):
        rows = order[start : start + size]
        yield Batch.from_data_list([graphs[i] for i in rows]), torch.from_numpy(y[rows])


def predict_graphs(
    model: GINPredictor, graphs: list[Data], idx: np.ndarray, device: torch.device, batch_size: int = 256
) -> np.ndarray:
    """Raw outputs (logits / standardized values) of one model for rows ``idx``."""
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(idx), batch_size):
            batch = Batch.from_data_list([graphs[i] for i in idx[start : start + batch_size]]).to(device)
            out.append(model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, model.graph_pred_linear.out_features))


def evaluate(task_type: str, y_true: np.ndarray, raw: np.ndarray, mean: np.ndarray, std: np.ndarray) -> dict:
    """Metrics of raw outputs: ROC-AUC for classification; RMSE and MAE (original units) for regression."""
    if task_type == "classification":
        return {"roc_auc": roc_auc(y_true, 1 / (1 + np.exp(-raw)))}
    return regression_metrics(y_true, raw * std + mean)


def _score(metrics: dict) -> float:
    """Higher is better, for early stopping."""
    return metrics["roc_auc"] if "roc_auc" in metrics else -metrics["rmse"]


def _round_trip(state: dict[str, torch.Tensor], dtype: str) -> dict[str, torch.Tensor]:
    """Weights as they will be stored (e.g. float16), for storage and for the card's metrics."""
    target = getattr(torch, dtype)
    return {k: (v.to(target) if v.is_floating_point() else v).clone() for k, v in state.items()}


def _train_seed(
    cfg: FinetuneConfig,
    prep: Prepared,
    graphs: list[Data],
    y: np.ndarray,
    seed: int,
    run_dir: Path,
    mean: np.ndarray,
    std: np.ndarray,
) -> dict[str, torch.Tensor]:
    """Train one member, resuming from ``run_dir`` when a state file exists; returns the best state."""
    device = torch.device(cfg.device)
    done_file = run_dir / f"seed{seed}.best.safetensors"
    if done_file.exists():
        log.info("seed %d already finished; reusing %s", seed, done_file)
        return load_file(str(done_file))
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = GINPredictor(len(prep.tasks), cfg.num_layer, cfg.emb_dim, cfg.drop_ratio, cfg.jk)
    if cfg.init:
        model.load_encoder(_load_encoder_state(cfg.init))
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state_file = run_dir / f"seed{seed}.resume.pt"
    start_epoch, best_score, best_epoch, history = 0, -np.inf, -1, []
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    if state_file.exists():
        saved = torch.load(state_file, weights_only=True)  # our own run file, tensors and numbers only
        model.load_state_dict(saved["model"])
        optimizer.load_state_dict(saved["optimizer"])
        best_state = saved["best_state"]
        start_epoch, best_score, best_epoch = (
            int(saved["epoch"]) + 1,
            float(saved["best_score"]),
            int(saved["best_epoch"]),
        )
        history = json.loads((run_dir / f"seed{seed}.history.json").read_text())
        log.info("seed %d: resuming at epoch %d (best %.4f at %d)", seed, start_epoch, best_score, best_epoch)
    loss_fn = masked_bce_loss if prep.task_type == "classification" else masked_mse_loss
    rng = np.random.default_rng(seed * 1000 + start_epoch)
    bar = tqdm(range(start_epoch, cfg.epochs), desc=f"{cfg.name} seed {seed}", unit="epoch", leave=False)
    for epoch in bar:
        model.train()
        started, losses = time.perf_counter(), []
        for batch, target in _batches(graphs, y, prep.split.train, cfg.batch_size, rng):
            if batch.num_graphs < 2:  # batch norm needs two graphs
                continue
            batch, target = batch.to(device), target.to(device)
            optimizer.zero_grad()
            out = model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)
            loss = loss_fn(out, target)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        valid = evaluate(
            prep.task_type, prep.y[prep.split.valid], predict_graphs(model, graphs, prep.split.valid, device), mean, std
        )
        score = _score(valid)
        history.append(
            {"epoch": epoch, "loss": float(np.mean(losses)), **valid, "seconds": time.perf_counter() - started}
        )
        if score > best_score:
            best_score, best_epoch = score, epoch
            best_state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        bar.set_postfix(loss=f"{np.mean(losses):.3f}", valid=f"{score:.3f}", best=f"{best_score:.3f}")
        log.info(
            "seed %d epoch %d loss %.4f valid %s (%.1fs)", seed, epoch, np.mean(losses), valid, history[-1]["seconds"]
        )
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "best_state": best_state,
                "epoch": epoch,
                "best_score": best_score,
                "best_epoch": best_epoch,
            },
            state_file,
        )
        (run_dir / f"seed{seed}.history.json").write_text(json.dumps(history))
        if epoch - best_epoch >= cfg.patience:
            log.info("seed %d: early stop at epoch %d (best epoch %d)", seed, epoch, best_epoch)
            break
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in best_state.items()}, str(done_file))
    state_file.unlink(missing_ok=True)
    return best_state


def _without(idx: np.ndarray, drop: Sequence[int]) -> np.ndarray:
    """``idx`` without the entries in ``drop``, order kept."""
    return idx[~np.isin(idx, np.asarray(drop, dtype=idx.dtype))]


def finetune(
    cfg: FinetuneConfig, *, models_dir: str | Path = "models", runs_dir: str | Path = "runs", command: str = ""
) -> dict:
    """Train ``cfg.seeds`` GINs and write the checkpoint folder; returns the card."""
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    run_dir = Path(runs_dir) / cfg.name
    run_dir.mkdir(parents=True, exist_ok=True)
    handler = logging.FileHandler(run_dir / "train.log")
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        prep = prepare(cfg.dataset, cfg.split)
        log.info(
            "%s: %d molecules kept, %d dropped; split sizes %s",
            cfg.dataset,
            len(prep.smiles),
            len(prep.dropped),
            prep.split.describe()["sizes"],
        )
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
        regression = prep.task_type == "regression"
        train_y = prep.y[prep.split.train]
        mean = np.nanmean(train_y, axis=0) if regression else np.zeros(len(prep.tasks))
        std = np.nanstd(train_y, axis=0) if regression else np.ones(len(prep.tasks))
        std = np.where(std > 0, std, 1.0)
        y = ((prep.y - mean) / std).astype(np.float32)
        device = torch.device(cfg.device)
        states, test_metrics, valid_metrics = [], [], []
        for seed in cfg.seeds:
            best = _train_seed(cfg, prep, graphs, y, seed, run_dir, mean, std)
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
            "training": {k: v for k, v in asdict(cfg).items() if k not in ("name", "dataset", "seeds", "split")},
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
        written = save_torch_checkpoint(Path(models_dir) / cfg.name, card, states, list(cfg.seeds))
        log.info("wrote %s: test %s", Path(models_dir) / cfg.name, written["metrics"]["test"])
        return written
    finally:
        log.removeHandler(handler)
        handler.close()


def default_name(dataset: str, seeds: Sequence[int]) -> str:
    """``<dataset>_gin`` (lower case)."""
    return f"{dataset.lower()}_gin"
