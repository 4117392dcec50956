"""Supervised fits through :func:`workbench.train.loop.fit`: on molecular graphs and on feature vectors.

:func:`fit_graph_model` is the GIN fine-tuning path (``workbench train finetune``, and the QSAR
GIN / IFM-GIN of the cliff benchmark); :func:`fit_feature_model` fits an MLP on fixed-length
features (MiniMol heads, QSAR MLP / IFM-MLP). Both shuffle the training rows once per epoch
with the given generator, minimise ``loss_fn`` with the given optimizer and score the
validation rows with ``score(raw outputs)``, which returns the metrics early stopping reads.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import torch

from workbench.featurizers.graph_batch import GraphBatch, MolGraph
from workbench.train.loop import EarlyStopping, LoopResult, fit, shuffled
from workbench.train.run_folder import RunFolder

__all__ = [
    "fit_feature_model",
    "fit_graph_model",
    "graph_batches",
    "passes_per_epoch",
    "predict_features",
    "predict_graphs",
]

LossFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
#: A batch's loss from the model itself (``model`` in train mode), for objectives that need more than its outputs.
StepLoss = Callable[[torch.nn.Module, GraphBatch, torch.Tensor], torch.Tensor]
Score = Callable[[np.ndarray], Mapping[str, float]]
Shuffle = np.random.Generator | torch.Generator


def graph_batches(
    graphs: Sequence[MolGraph], y: np.ndarray, order: np.ndarray, size: int
) -> Iterator[tuple[GraphBatch, torch.Tensor]]:
    """``(GraphBatch, targets)`` for consecutive chunks of ``order``."""
    for start in range(0, len(order), size):
        rows = order[start : start + size]
        yield GraphBatch.from_graphs([graphs[i] for i in rows]), torch.from_numpy(y[rows])


def predict_graphs(
    model: torch.nn.Module, graphs: Sequence[MolGraph], idx: np.ndarray, device: torch.device, batch_size: int = 256
) -> np.ndarray:
    """Raw outputs (logits / standardized values) of a graph model for rows ``idx``, in eval mode."""
    model.eval()
    out = []
    with torch.inference_mode():
        for start in range(0, len(idx), batch_size):
            batch = GraphBatch.from_graphs([graphs[i] for i in idx[start : start + batch_size]]).to(device)
            out.append(model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs).float().cpu())
    return torch.cat(out).numpy() if out else np.zeros((0, model.graph_pred_linear.out_features), np.float32)


def predict_features(
    model: torch.nn.Module, x: torch.Tensor, idx: np.ndarray, batch_size: int | None = None
) -> np.ndarray:
    """Raw outputs of a feature model for rows ``idx`` (in chunks of ``batch_size``; all at once when ``None``)."""
    model.eval()
    with torch.inference_mode():
        if batch_size is None:
            return model(x[idx]).numpy()
        chunks = [model(x[idx[s : s + batch_size]]) for s in range(0, len(idx), batch_size)]
        return torch.cat(chunks).numpy()


def _mean(losses: list[float]) -> dict[str, float]:
    return {"loss": float(np.mean(losses)) if losses else float("nan")}


def passes_per_epoch(rows: int, batch_size: int, min_steps: int) -> int:
    """Passes over ``rows`` training rows that make an epoch of at least ``min_steps`` batches."""
    batches = max(1, math.ceil(rows / batch_size))
    return max(1, math.ceil(min_steps / batches))


def fit_graph_model(
    model: torch.nn.Module,
    graphs: Sequence[MolGraph],
    y: np.ndarray,
    train_idx: np.ndarray,
    valid_idx: np.ndarray,
    *,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn | None = None,
    score: Score,
    stopping: EarlyStopping,
    epochs: int,
    batch_size: int,
    shuffle: Shuffle,
    device: torch.device | str = "cpu",
    valid_batch_size: int = 256,
    step_loss: StepLoss | None = None,
    after_step: Callable[[torch.nn.Module], None] | None = None,
    min_steps: int = 1,
    run: RunFolder | None = None,
    desc: str = "train",
    bar: bool = True,
    progress: Callable[[float, str], None] | None = None,
    echo: Callable[[str], None] | None = None,
) -> LoopResult:
    """Fit a graph model (``model(x, edge_index, edge_attr, batch, num_graphs)``) on rows of ``graphs`` / ``y``.

    ``y`` is ``(n, tasks)`` float32 (NaN where the loss masks). A batch's loss is ``loss_fn(outputs, targets)``,
    or ``step_loss(model, batch, targets)`` (then ``after_step(model)`` runs after each optimizer step). An epoch
    makes :func:`passes_per_epoch` passes over the training rows, so that it has at least ``min_steps`` optimizer
    steps. Batches of one graph are skipped (batch norm needs two). No validation rows: every epoch runs and the
    last one is kept.
    """
    if (loss_fn is None) == (step_loss is None):
        raise ValueError("give exactly one of loss_fn and step_loss")
    device = torch.device(device)
    passes = passes_per_epoch(len(train_idx), batch_size, min_steps)

    def batch_loss(batch: GraphBatch, target: torch.Tensor) -> torch.Tensor:
        if step_loss is not None:
            return step_loss(model, batch, target)
        return loss_fn(model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs), target)

    def train_epoch(_epoch: int) -> dict[str, float]:
        losses = []
        for _ in range(passes):
            for batch, target in graph_batches(graphs, y, shuffled(train_idx, shuffle), batch_size):
                if batch.num_graphs < 2:  # batch norm needs two graphs
                    continue
                batch, target = batch.to(device), target.to(device)
                optimizer.zero_grad()
                loss = batch_loss(batch, target)
                loss.backward()
                optimizer.step()
                if after_step is not None:
                    after_step(model)
                losses.append(loss.item())
        return _mean(losses)

    def validate() -> Mapping[str, float]:
        return score(predict_graphs(model, graphs, valid_idx, device, valid_batch_size))

    return fit(
        model, optimizer, train_epoch, validate if len(valid_idx) else None, epochs=epochs, stopping=stopping,
        run=run, generators={"shuffle": shuffle}, desc=desc, bar=bar, progress=progress, echo=echo,
    )  # fmt: skip


def fit_feature_model(
    model: torch.nn.Module,
    x: torch.Tensor,
    y: torch.Tensor,
    train_idx: np.ndarray,
    valid_idx: np.ndarray,
    *,
    optimizer: torch.optim.Optimizer,
    loss_fn: LossFn,
    score: Score,
    stopping: EarlyStopping,
    epochs: int,
    batch_size: int,
    shuffle: Shuffle,
    min_batch: int = 1,
    valid_batch_size: int | None = None,
    run: RunFolder | None = None,
    desc: str = "train",
    bar: bool = True,
    progress: Callable[[float, str], None] | None = None,
    echo: Callable[[str], None] | None = None,
) -> LoopResult:
    """Fit ``model(x[rows])`` to ``y[rows]``; batches smaller than ``min_batch`` are skipped."""

    def train_epoch(_epoch: int) -> dict[str, float]:
        losses = []
        order = shuffled(train_idx, shuffle)
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            if len(rows) < min_batch:
                continue
            optimizer.zero_grad()
            loss = loss_fn(model(x[rows]), y[rows])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return _mean(losses)

    def validate() -> Mapping[str, float]:
        return score(predict_features(model, x, valid_idx, valid_batch_size))

    return fit(
        model, optimizer, train_epoch, validate if len(valid_idx) else None, epochs=epochs, stopping=stopping,
        run=run, generators={"shuffle": shuffle}, desc=desc, bar=bar, progress=progress, echo=echo,
    )  # fmt: skip
