"""One cell of the pretraining benchmark: fine-tune a GIN from an encoder (or from scratch) on one data set.

The pretrain-gnns protocol (Hu et al. 2020): scaffold split 80/10/10, batch 32, Adam 1e-3, dropout 0.5,
mean pooling, JK last, a fixed number of epochs and no early stopping. Every epoch scores the validation
*and* the test split, so one run gives both published read-outs: the test score at the best-validation
epoch (pretrain-gnns, Mole-BERT) and at the last epoch (GraphCL, GraphMAE). A cell is resumable from its
run folder (``<runs>/<dataset>/<arm>/seed<k>/``), whose configuration hash includes the data file's and the
encoder's sha256.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from workbench.data.prepared import Prepared
from workbench.featurizers import GRAPH_FEATURIZER, featurizer_spec
from workbench.featurizers.graph_batch import MolGraph
from workbench.hashing import sha256_file
from workbench.nn import GINPredictor, masked_bce_loss, masked_mse_loss
from workbench.train.encoder_init import load_encoder_weights
from workbench.train.finetune import evaluate
from workbench.train.loop import EarlyStopping
from workbench.train.run_folder import RunFolder
from workbench.train.supervised import fit_graph_model, predict_graphs

__all__ = ["CellResult", "Protocol", "finetune_cell", "primary_metric"]


@dataclass(frozen=True)
class Protocol:
    """The fine-tuning settings shared by every arm of the benchmark (written in the report)."""

    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3
    drop_ratio: float = 0.5
    num_layer: int = 5
    emb_dim: int = 300
    jk: str = "last"
    split: str = "scaffold"


@dataclass
class CellResult:
    """The outcome of one data set × arm × seed."""

    dataset: str
    arm: str
    seed: int
    metric: str
    epochs: int
    best_epoch: int
    valid_at_best: float
    test_at_best_valid: float
    test_last: float
    train_molecules: int
    seconds: float
    molecules_per_s: float
    init_sha256: str | None

    def to_row(self) -> dict[str, object]:
        """A flat dict for the results CSV."""
        return asdict(self)


def primary_metric(task_type: str) -> tuple[str, str]:
    """``(metric, mode)``: ROC-AUC (higher is better) for classification, RMSE (lower) for regression."""
    return ("roc_auc", "max") if task_type == "classification" else ("rmse", "min")


def finetune_cell(
    prep: Prepared,
    graphs: list[MolGraph | None],
    y: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    *,
    arm: str,
    init: str | Path | None,
    seed: int,
    protocol: Protocol,
    run_dir: Path,
    device: str = "cpu",
    echo: Callable[[str], None] | None = None,
) -> CellResult:
    """Fine-tune one GIN for ``protocol.epochs`` epochs and read both test scores off its per-epoch log.

    Args:
        prep, graphs, y, mean, std: the data set as :func:`~workbench.train.finetune.featurize_prepared` and
            :func:`~workbench.train.finetune.scaled_targets` return it (the same for every arm and seed).
        arm: the arm's name (``none`` for random initialization).
        init: the encoder (a folder with a card, or a ``.safetensors`` file); ``None`` for no pretraining.
    """
    metric, mode = primary_metric(prep.task_type)
    init_file = None
    if init is not None:
        p = Path(init)
        init_file = p / "card.json" if p.is_dir() else p
    config = {
        **asdict(protocol),
        "dataset": prep.dataset.name,
        "arm": arm,
        "seed": seed,
        "data_sha256": prep.dataset.sha256,
        "featurizer": featurizer_spec(GRAPH_FEATURIZER),
        "init_sha256": sha256_file(init_file) if init_file is not None else None,
    }
    torch.manual_seed(seed)
    np.random.seed(seed)
    model = GINPredictor(len(prep.tasks), protocol.num_layer, protocol.emb_dim, protocol.drop_ratio, protocol.jk)
    if init is not None:
        model.load_encoder(load_encoder_weights(init))
    dev = torch.device(device)
    model.to(dev)
    optimizer = torch.optim.Adam(model.parameters(), lr=protocol.lr)
    valid, test = prep.split.valid, prep.split.test

    def score(raw_valid: np.ndarray) -> dict[str, float]:
        raw_test = predict_graphs(model, graphs, test, dev)
        return {
            f"valid_{metric}": evaluate(prep.task_type, prep.y[valid], raw_valid, mean, std)[metric],
            f"test_{metric}": evaluate(prep.task_type, prep.y[test], raw_test, mean, std)[metric],
        }

    started = time.perf_counter()
    result = fit_graph_model(
        model, graphs, y, prep.split.train, valid,
        optimizer=optimizer,
        loss_fn=masked_bce_loss if prep.task_type == "classification" else masked_mse_loss,
        score=score,
        stopping=EarlyStopping(f"valid_{metric}", mode, patience=None),
        epochs=protocol.epochs,
        batch_size=protocol.batch_size,
        shuffle=np.random.default_rng(seed * 1000),
        device=dev,
        run=RunFolder(run_dir, config),
        desc=f"{prep.dataset.name}/{arm}/seed{seed}",
        bar=False,
        echo=echo,
    )  # fmt: skip
    history = result.history
    if not history:
        raise ValueError(f"{run_dir}: the run has no per-epoch log")
    best = next(row for row in history if row["epoch"] == result.best_epoch)
    train_seconds = float(sum(row.get("seconds", 0.0) for row in history))
    n_train = len(prep.split.train)
    return CellResult(
        dataset=prep.dataset.name,
        arm=arm,
        seed=seed,
        metric=metric,
        epochs=len(history),
        best_epoch=int(result.best_epoch),
        valid_at_best=float(best[f"valid_{metric}"]),
        test_at_best_valid=float(best[f"test_{metric}"]),
        test_last=float(history[-1][f"test_{metric}"]),
        train_molecules=n_train,
        seconds=round(train_seconds if result.reused else time.perf_counter() - started, 1),
        molecules_per_s=round(n_train * len(history) / train_seconds, 1) if train_seconds > 0 else float("nan"),
        init_sha256=config["init_sha256"],
    )
