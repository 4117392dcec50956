"""The one training loop every neural trainer uses: epochs, early stopping, progress, log and resume.

:func:`fit` runs ``train_epoch`` and ``validate`` once per epoch, keeps the weights of the
best validation epoch (:class:`EarlyStopping`: a metric, ``max`` or ``min``, a patience and a
minimum improvement), shows a tqdm bar and calls an optional ``progress(fraction, message)``.
With a :class:`~workbench.train.run_folder.RunFolder` it also writes one log row per epoch and
the resumable state after every epoch, so an interrupted run resumes where it stopped and ends
with the weights an uninterrupted run would have had; a finished run is read back, not retrained.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from workbench.train.run_folder import Generators, RunFolder, RunState

__all__ = ["EarlyStopping", "LoopResult", "fit", "shuffled"]


@dataclass(frozen=True)
class EarlyStopping:
    """Which validation value decides the kept epoch, and when to stop.

    Args:
        metric: key of ``validate()``'s dict; ``None``: no validation, the last epoch is kept.
        mode: ``max`` (higher is better) or ``min``.
        patience: stop when this many epochs passed since the best one; ``None``: run every epoch.
        min_delta: an epoch is better only when it beats the best by more than this.
    """

    metric: str | None = None
    mode: str = "max"
    patience: int | None = None
    min_delta: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in ("max", "min"):
            raise ValueError(f"early-stopping mode must be 'max' or 'min', not '{self.mode}'")

    def improved(self, score: float | None, best: float | None) -> bool:
        """Whether ``score`` beats ``best`` (a NaN score never does; the first finite one always does)."""
        if score is None or not math.isfinite(score):
            return False
        if best is None:
            return True
        return score > best + self.min_delta if self.mode == "max" else score < best - self.min_delta


@dataclass
class LoopResult:
    """How a run went. ``best_epoch`` is -1 when no epoch improved (the last weights are then kept)."""

    best_epoch: int
    best_score: float | None
    epochs_run: int
    stopped_early: bool
    history: list[dict] = field(default_factory=list)
    resumed_at: int | None = None
    reused: bool = False


def shuffled(idx: np.ndarray, generator: np.random.Generator | torch.Generator) -> np.ndarray:
    """``idx`` in a random order drawn from ``generator`` (NumPy's ``permutation`` or torch's ``randperm``)."""
    if isinstance(generator, torch.Generator):
        return idx[torch.randperm(len(idx), generator=generator).numpy()]
    return generator.permutation(idx)


def _clone(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in state.items()}


def fit(
    model: torch.nn.Module,
    optimizer: torch.optim.Optimizer,
    train_epoch: Callable[[int], Mapping[str, float]],
    validate: Callable[[], Mapping[str, float]] | None = None,
    *,
    epochs: int,
    stopping: EarlyStopping = EarlyStopping(),
    run: RunFolder | None = None,
    generators: Generators | None = None,
    desc: str = "train",
    bar: bool = True,
    progress: Callable[[float, str], None] | None = None,
    echo: Callable[[str], None] | None = None,
) -> LoopResult:
    """Train ``model`` for up to ``epochs`` epochs; on return it holds the kept weights, in eval mode.

    Args:
        train_epoch: ``train_epoch(epoch)`` runs one epoch (the model is in train mode) and returns its losses.
        validate: returns the validation metrics (``stopping.metric`` among them); ``None``: no validation.
        run: the run folder (log, resumable state, finished result); ``None``: in memory only.
        generators: every generator the epoch draws from besides torch's global one (saved with the state).
        echo: called with one line per epoch (and on resume / reuse / early stop).
    """
    generators = dict(generators or {})
    say = echo or (lambda _m: None)
    if run is not None:
        run.open()
        if run.finished():
            done = run.result()
            model.load_state_dict(run.best_state())
            model.eval()
            say(f"{desc}: already finished; reusing {run.path}")
            return LoopResult(
                done["best_epoch"], done["best_score"], done["epochs_run"], done["stopped_early"], run.history(),
                reused=True,
            )  # fmt: skip
    saved = run.load_state(generators) if run is not None else None
    best_state, best_score, best_epoch, history, start = None, None, -1, [], 0
    if saved is not None:
        model.load_state_dict(saved.model)
        optimizer.load_state_dict(saved.optimizer)
        best_state, best_score, best_epoch, history = (
            saved.best_state,
            saved.best_score,
            saved.best_epoch,
            saved.history,
        )
        start = saved.epoch + 1
        say(f"{desc}: resuming at epoch {start} (best {best_score} at epoch {best_epoch})")
    early = validate is not None and stopping.metric is not None and stopping.patience is not None
    stopped, epoch = False, start - 1
    if saved is not None and early and epoch - best_epoch >= stopping.patience:
        stopped = True  # it had stopped early; only its result was not written yet
    last = start if stopped else epochs
    with tqdm(range(start, last), desc=desc, unit="epoch", leave=False, disable=not bar) as epochs_bar:
        for epoch in epochs_bar:
            started = time.perf_counter()
            model.train()
            losses = dict(train_epoch(epoch) or {})
            metrics = dict(validate()) if validate is not None else {}
            score = metrics.get(stopping.metric) if stopping.metric else None
            if stopping.improved(score, best_score):
                best_state, best_score, best_epoch = _clone(model.state_dict()), float(score), epoch
            row = {"epoch": epoch, **losses, **metrics, "seconds": time.perf_counter() - started}
            history.append(row)
            epochs_bar.set_postfix({k: f"{v:.3f}" for k, v in row.items() if isinstance(v, float) and k != "seconds"})
            say(f"{desc} epoch {epoch}: {json.dumps(row)}")
            if progress:
                progress((epoch + 1) / epochs, f"{desc}: epoch {epoch + 1}/{epochs}")
            if run is not None:
                state = RunState(epoch, model.state_dict(), optimizer.state_dict(), best_state, best_score, best_epoch,
                                 history)  # fmt: skip
                run.save_state(state, generators)
                run.append_log(row)
            if early and epoch - best_epoch >= stopping.patience:
                stopped = True
                say(f"{desc}: early stop at epoch {epoch} (best epoch {best_epoch})")
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    result = LoopResult(best_epoch, best_score, epoch + 1, stopped, history, resumed_at=start if saved else None)
    if run is not None:
        run.finish(
            model.state_dict(),
            {"best_epoch": best_epoch, "best_score": best_score, "epochs_run": epoch + 1, "stopped_early": stopped},
        )
    return result
