"""Multi-task fits through :func:`workbench.train.loop.fit`: a task-weighting objective, and the output-space EBM.

:func:`fit_multitask` is :func:`~workbench.train.supervised.fit_graph_model` with a pluggable
:class:`Objective` (a batch's loss, and what to do after each optimizer step): the masked BCE over every task,
uncertainty weighting or GradNorm (:mod:`workbench.nn.task_weighting`). :func:`fit_task_ebm` trains a
:class:`~workbench.nn.task_ebm.TaskRelationEBM` on fixed logits with ranking NCE, through the same loop (so
it has early stopping on the validation score and a per-epoch log too).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import torch

from workbench.featurizers.graph_batch import GraphBatch, MolGraph
from workbench.nn.heads import masked_bce_loss
from workbench.nn.task_ebm import TaskRelationEBM
from workbench.nn.task_weighting import GradNorm, UncertaintyWeighting, per_task_bce, task_gradient_norms
from workbench.train.loop import EarlyStopping, LoopResult, fit, shuffled
from workbench.train.run_folder import RunFolder
from workbench.train.supervised import fit_graph_model, passes_per_epoch

__all__ = [
    "OBJECTIVES",
    "GradNormObjective",
    "MaskedObjective",
    "Objective",
    "UncertaintyObjective",
    "fit_multitask",
    "fit_task_ebm",
    "passes_per_epoch",
]

Score = Callable[[np.ndarray], Mapping[str, float]]


class Objective:
    """The loss of one batch (``model`` in train mode) and a hook after each optimizer step."""

    name = "objective"

    def loss(self, model: torch.nn.Module, batch: GraphBatch, target: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def after_step(self, model: torch.nn.Module) -> None:
        """Called after ``optimizer.step()``."""


def _forward(model: torch.nn.Module, batch: GraphBatch) -> torch.Tensor:
    return model(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)


class MaskedObjective(Objective):
    """Binary cross-entropy averaged over every present label (a task weighs as much as it has labels)."""

    name = "masked"

    def loss(self, model: torch.nn.Module, batch: GraphBatch, target: torch.Tensor) -> torch.Tensor:
        return masked_bce_loss(_forward(model, batch), target)


class UncertaintyObjective(Objective):
    """Per-task losses weighted by ``model.weighting``, an :class:`UncertaintyWeighting`."""

    name = "uncertainty"

    def loss(self, model: torch.nn.Module, batch: GraphBatch, target: torch.Tensor) -> torch.Tensor:
        if not isinstance(model.weighting, UncertaintyWeighting):
            raise TypeError("uncertainty weighting needs a WithTaskWeights(net, UncertaintyWeighting) model")
        losses, present = per_task_bce(_forward(model, batch), target)
        return model.weighting(losses, present)


class GradNormObjective(Objective):
    """Per-task losses weighted by ``model.weighting``, a :class:`GradNorm`, plus its balancing loss."""

    name = "gradnorm"

    def loss(self, model: torch.nn.Module, batch: GraphBatch, target: torch.Tensor) -> torch.Tensor:
        weighting = model.weighting
        if not isinstance(weighting, GradNorm):
            raise TypeError("GradNorm needs a WithTaskWeights(net, GradNorm) model")
        z = model.embed(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)
        losses, present = per_task_bce(model.head(z), target)
        norms = task_gradient_norms(losses, present, z)
        return weighting.weighted_loss(losses, present) + weighting.balance_loss(losses, present, norms)

    def after_step(self, model: torch.nn.Module) -> None:
        model.weighting.renormalize()


#: Objectives by name.
OBJECTIVES: dict[str, type[Objective]] = {
    "masked": MaskedObjective,
    "uncertainty": UncertaintyObjective,
    "gradnorm": GradNormObjective,
}


def fit_multitask(
    model: torch.nn.Module,
    graphs: Sequence[MolGraph],
    y: np.ndarray,
    train_idx: np.ndarray,
    valid_idx: np.ndarray,
    *,
    objective: Objective,
    optimizer: torch.optim.Optimizer,
    score: Score,
    stopping: EarlyStopping,
    epochs: int,
    batch_size: int,
    shuffle: np.random.Generator | torch.Generator,
    device: torch.device | str = "cpu",
    min_steps: int = 1,
    run: RunFolder | None = None,
    desc: str = "train",
    bar: bool = True,
    progress: Callable[[float, str], None] | None = None,
    echo: Callable[[str], None] | None = None,
) -> LoopResult:
    """Fit a graph model on ``y`` (``(n, tasks)`` float32, NaN = missing) minimising ``objective``.

    :func:`~workbench.train.supervised.fit_graph_model` with the objective's batch loss and its hook after each
    optimizer step: batches of one graph are skipped, the validation rows are scored with ``score(raw outputs)``
    once per epoch, the loop keeps the best epoch's weights, and an epoch has at least ``min_steps`` optimizer
    steps (a network on a few dozen labels is not stopped after a handful of updates).
    """
    return fit_graph_model(
        model, graphs, y, train_idx, valid_idx, optimizer=optimizer, step_loss=objective.loss,
        after_step=objective.after_step, score=score, stopping=stopping, epochs=epochs, batch_size=batch_size,
        shuffle=shuffle, device=device, min_steps=min_steps, run=run, desc=desc, bar=bar, progress=progress,
        echo=echo,
    )  # fmt: skip


def fit_task_ebm(
    ebm: TaskRelationEBM,
    logits: np.ndarray,
    y: np.ndarray,
    valid_logits: np.ndarray,
    *,
    score: Score,
    epochs: int = 30,
    batch_size: int = 512,
    n_noise: int = 16,
    lr: float = 0.05,
    patience: int = 5,
    seed: int = 0,
    run: RunFolder | None = None,
    desc: str = "ebm",
) -> LoopResult:
    """Train the EBM's biases and couplings by ranking NCE on fixed training ``logits`` and labels ``y``.

    ``score`` gets the mean-field probabilities of the validation molecules (from ``valid_logits``) and returns
    the metrics early stopping reads (``roc_auc``, maximised).
    """
    u, targets = torch.as_tensor(logits, dtype=torch.float32), torch.as_tensor(y, dtype=torch.float32)
    u_valid = torch.as_tensor(valid_logits, dtype=torch.float32)
    optimizer = torch.optim.Adam(ebm.parameters(), lr=lr)
    rows = np.arange(len(u))
    order_gen, noise_gen = np.random.default_rng(seed), torch.Generator().manual_seed(seed)

    def train_epoch(_epoch: int) -> dict[str, float]:
        losses = []
        order = shuffled(rows, order_gen)
        for start in range(0, len(order), batch_size):
            part = torch.as_tensor(order[start : start + batch_size])
            optimizer.zero_grad()
            loss = ebm.nce_loss(u[part], targets[part], n_noise, noise_gen)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return {"nce": float(np.mean(losses)) if losses else float("nan")}

    def validate() -> Mapping[str, float]:
        with torch.no_grad():
            return score(ebm.mean_field(u_valid).numpy())

    return fit(
        ebm, optimizer, train_epoch, validate, epochs=epochs, stopping=EarlyStopping("roc_auc", "max", patience),
        run=run, generators={"order": order_gen, "noise": noise_gen}, desc=desc, bar=False,
    )  # fmt: skip
