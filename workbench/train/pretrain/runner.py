"""The pretraining loop behind ``workbench train pretrain``: steps over a corpus, resumable mid-epoch.

A run lives in ``<runs>/pretrain/<name>/``, a :class:`~workbench.train.run_folder.RunFolder`
(``config.json`` with the hash of :func:`~workbench.train.pretrain.config.hashed_config`; a folder
holding progress refuses another configuration). Its resumable state (model, optimizer, every
random generator; safetensors + JSON) is saved every ``save_every_s`` seconds, after every epoch
and when the process is asked to stop (SIGINT / SIGTERM); pretraining epochs are long, so the
state's ``epoch`` field holds the number of finished *steps* here (``state-<step>.safetensors``).
Batch order is drawn per epoch from ``(seed, epoch)`` and masks from a saved generator, so a run
that is interrupted and resumed ends with exactly the weights of an uninterrupted one (same
device and threads). ``log.jsonl`` has one row per epoch; see :mod:`~workbench.train.pretrain.records`
for ``loss.csv``, ``progress.json`` and ``cost.json``. The finished run keeps its final weights
(``best.safetensors``: encoder and head, float32) and ships the encoder with
:func:`~workbench.train.pretrain.ship.ship_encoder`.
"""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from workbench.data.corpus_files import CORPUS_FILE, CorpusInfo, corpus_dir, corpus_subset, load_corpus_info
from workbench.nn.gin import GINConv
from workbench.train.pretrain.attrmask import AttrMask
from workbench.train.pretrain.config import PretrainConfig, hashed_config
from workbench.train.pretrain.corpus_loader import load_corpus_graphs
from workbench.train.pretrain.graphmvp import GraphMVP
from workbench.train.pretrain.molebert import MoleBERT
from workbench.train.pretrain.records import CostLedger, LossLog, ProgressFile
from workbench.train.pretrain.ship import ship_encoder
from workbench.train.run_folder import RunFolder, RunState

__all__ = ["METHODS", "PretrainInterrupted", "epoch_order", "pretrain", "resolve_corpus"]

#: ``--method`` name -> the method (model builder and per-step loss).
METHODS: dict[str, Callable[[], object]] = {"attrmask": AttrMask, "graphmvp": GraphMVP, "molebert": MoleBERT}


class PretrainInterrupted(RuntimeError):
    """The run stopped on request; its state is saved and the same command resumes it."""


def resolve_corpus(cfg: PretrainConfig, log: Callable[[str], None] = print) -> tuple[CorpusInfo, CorpusInfo]:
    """The corpus file to train on (a seeded subset when ``cfg.molecules`` is set) and the full corpus."""
    where = Path(cfg.corpus) if cfg.corpus else corpus_dir()
    parent = load_corpus_info(where.parent, where.name) if where.is_file() else load_corpus_info(where, CORPUS_FILE)
    if not cfg.molecules:
        return parent, parent
    subset = corpus_subset(parent, cfg.molecules, cfg.seed)
    log(f"corpus {parent.path} ({parent.molecules:,}); sample {subset.path.name} ({subset.molecules:,})")
    return subset, parent


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The molecule order of one epoch (a permutation drawn from ``(seed, epoch)`` only)."""
    return np.random.default_rng([seed, epoch]).permutation(n)


def _molecules_seen(step: int, per_epoch: int, n: int, batch_size: int) -> int:
    epochs, in_epoch = divmod(step, per_epoch)
    return epochs * n + min(in_epoch * batch_size, n)


def _float32_gin_inputs(model: torch.nn.Module) -> None:
    """Let the GIN run under autocast: every GINConv gets float32 node states.

    Under autocast a layer's MLP returns bfloat16 while the bond embeddings stay float32, and
    ``index_add`` refuses the mix; with float32 inputs the message sums stay float32 and only the
    MLP's matrix products run in bfloat16.
    """
    for module in model.modules():
        if isinstance(module, GINConv):
            module.register_forward_pre_hook(lambda _module, args: (args[0].float(), *args[1:]))


class _StopRequest:
    """SIGINT / SIGTERM set a flag the loop checks between steps (handlers restored afterwards)."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: dict[int, object] = {}
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self.previous[sig] = signal.signal(sig, self._handle)

    def _handle(self, _signum: int, _frame: object) -> None:
        self.requested = True

    def restore(self) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)


def pretrain(
    cfg: PretrainConfig,
    *,
    runs_dir: str | Path = "runs",
    out_dir: str | Path | None = None,
    command: str = "",
    log: Callable[[str], None] = print,
    stop_after: int | None = None,
    bar: bool = True,
) -> dict:
    """Pretrain (or resume, or reuse a finished run) and ship the encoder; returns its card.

    Args:
        out_dir: the encoder folder (default ``models/encoders/<method>``).
        stop_after: stop as if interrupted once this many steps are done (tests and short measurements).

    Raises:
        PretrainInterrupted: stopped by a signal or ``stop_after``; the same call resumes.
        ConfigMismatchError: the run folder holds a run made with another configuration.
    """
    started = time.perf_counter()
    if cfg.method not in METHODS:
        raise ValueError(f"unknown pretraining method '{cfg.method}'; known: {', '.join(METHODS)}")
    method = METHODS[cfg.method]()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = torch.device(cfg.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("--device cuda was asked for but no CUDA GPU is available here; use --device cpu")
    amp = cfg.amp if cfg.amp is not None else device.type == "cuda"
    corpus, parent = resolve_corpus(cfg, log)
    graphs = load_corpus_graphs(corpus.path, corpus.sha256, log)
    if hasattr(method, "prepare"):  # a method may pair the graphs with more data (GraphMVP: conformers)
        graphs = method.prepare(graphs, corpus, cfg, log)
    n, bs = len(graphs), cfg.batch_size
    if n < 2:
        raise ValueError(f"{corpus.path} has {n} usable molecule(s); pretraining needs at least two")
    per_epoch = math.ceil(n / bs)
    # a method may run epochs of its own before cfg.epochs (Mole-BERT: its tokenizer stage)
    run_epochs = cfg.epochs + (method.extra_epochs(cfg) if hasattr(method, "extra_epochs") else 0)
    total = per_epoch * run_epochs
    hashed = hashed_config(cfg, corpus.sha256) | getattr(method, "hashed_extra", {})
    run = RunFolder(Path(runs_dir) / "pretrain" / cfg.run_name, hashed)
    run.open()
    out = Path(out_dir) if out_dir is not None else Path("models") / "encoders" / cfg.method

    def ship(state: dict[str, torch.Tensor], result: dict) -> dict:
        return ship_encoder(
            out,
            state,
            cfg,
            method_title=method.title,
            task=method.task,
            recipe=method.recipe(cfg),
            corpus=corpus,
            parent=parent,
            result=result,
            command=command,
            loss_csv=run.path / "loss.csv",
        )

    if run.finished():
        log(f"{run.path} already finished; shipping its encoder to {out}")
        return ship(run.best_state(), run.result())

    torch.manual_seed(cfg.seed)
    model = method.build(cfg).to(device)
    if amp:
        _float32_gin_inputs(model)
    params = method.param_groups(model, cfg) if hasattr(method, "param_groups") else model.parameters()
    optimizer = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    generator = torch.Generator().manual_seed(cfg.seed)
    saved = run.load_state({"mask": generator})
    step, history = 0, []
    if saved is not None:
        model.load_state_dict(saved.model)
        optimizer.load_state_dict(saved.optimizer)
        step, history = saved.epoch, saved.history
        log(f"resuming {run.path} at step {step:,} of {total:,} (epoch {step // per_epoch})")
    losses = LossLog(run.path / "loss.csv", method.metrics, keep_until=step)
    progress = ProgressFile(run.path / "progress.json", cfg.method, total, per_epoch)
    ledger = CostLedger(
        run.path / "cost.json", step, started, device=str(device), threads=torch.get_num_threads(), amp=amp
    )
    prior_train_s = float(losses.rows[-1]["train_seconds"]) if losses.rows else 0.0
    train_s, last_save = 0.0, time.perf_counter()

    def save() -> None:
        nonlocal last_save
        state = RunState(step, model.state_dict(), optimizer.state_dict(), None, None, -1, history)
        run.save_state(state, {"mask": generator})
        ledger.update(step, train_s)
        last_save = time.perf_counter()

    stop = _StopRequest()
    model.train()
    order_epoch, order = -1, np.empty(0, dtype=np.int64)
    bar_interval = 1.0 if sys.stderr.isatty() else 30.0
    try:
        with tqdm(
            total=total, initial=step, desc=cfg.method, unit="step", disable=not bar, mininterval=bar_interval
        ) as pbar:
            while step < total:
                epoch, k = divmod(step, per_epoch)
                if epoch != order_epoch:
                    order_epoch, order = epoch, epoch_order(cfg.seed, epoch, n)
                    if hasattr(method, "start_epoch"):  # e.g. Mole-BERT's stage (derived from the epoch)
                        method.start_epoch(model, epoch, cfg)
                rows = order[k * bs : (k + 1) * bs]
                batch = graphs.batch(rows)
                t0 = time.perf_counter()
                if len(batch.x) > 1:  # batch norm needs two atoms
                    optimizer.zero_grad(set_to_none=True)
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=amp):
                        loss, metrics = method.step(model, batch, generator, cfg)
                    loss.backward()
                    optimizer.step()
                    value = float(loss.item())
                else:
                    value, metrics = float("nan"), dict.fromkeys(method.metrics, float("nan"))
                train_s += time.perf_counter() - t0
                step += 1
                losses.append(
                    {"step": step, "epoch": epoch, "loss": value, **metrics, "molecules": len(rows),
                     "train_seconds": prior_train_s + train_s}
                )  # fmt: skip
                progress.step(step, len(rows), value, {"epochs": run_epochs})
                pbar.update(1)
                pbar.set_postfix(loss=f"{value:.4f}", acc=f"{metrics.get('accuracy', float('nan')):.3f}", refresh=False)
                if k + 1 == per_epoch:
                    row = {"epoch": epoch, "step": step, **losses.epoch_means(epoch, ["loss", "accuracy"])}
                    history.append(row)
                    run.append_log(row)
                    save()
                    log(f"epoch {epoch + 1}/{run_epochs}: loss {row.get('loss', float('nan')):.4f}, "
                        f"accuracy {row.get('accuracy', float('nan')):.4f}")  # fmt: skip
                elif time.perf_counter() - last_save >= cfg.save_every_s:
                    save()
                if step < total and (stop.requested or (stop_after is not None and step >= stop_after)):
                    save()
                    progress.write("interrupted", step)
                    raise PretrainInterrupted(
                        f"stopped at step {step:,} of {total:,}; state saved in {run.path}: run the same command "
                        "again to resume"
                    )
    except PretrainInterrupted:
        raise
    except BaseException:
        progress.write("failed", step)
        raise
    finally:
        stop.restore()
        losses.close()
    ledger.update(step, train_s)
    segments = ledger.segments
    seen = _molecules_seen(step, per_epoch, n, bs)
    processed = sum(
        _molecules_seen(s["end_step"], per_epoch, n, bs) - _molecules_seen(s["start_step"], per_epoch, n, bs)
        for s in segments
    )
    totals = ledger.totals()
    result = {
        "steps": step,
        "epochs": cfg.epochs,
        "molecules": n,
        "unfeaturizable": len(graphs.failed),
        "molecules_seen": seen,
        "molecule_epochs": seen / n,
        **totals,
        "molecules_per_s": round(processed / totals["train_time_s"], 1) if totals["train_time_s"] else None,
        "devices": sorted({str(s["device"]) for s in segments}),
        "amp": sorted({bool(s["amp"]) for s in segments}),
        "segments": segments,
        "config_sha256": run.sha256,
        "history": history,
        "last_epoch": history[-1] if history else {},
    }
    final = {k: v.detach().cpu().float() if v.is_floating_point() else v.cpu() for k, v in model.state_dict().items()}
    run.finish(final, result)
    progress.write("finished", step)
    log(
        f"finished {step:,} steps in {totals['train_time_s']:.0f} s of training "
        f"({result['molecules_per_s']} molecules/s)"
    )
    return ship(final, run.result())
