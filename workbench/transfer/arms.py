"""The GIN arms of the task-transfer lab, all on the same encoder (GIN 5×300, JK last, mean pooling).

* ``single`` (a): one GIN per target task, trained on that task's kept training labels only.
* ``mtl`` (b): one GIN over every task, binary cross-entropy averaged over every present label.
* ``uw`` and ``gradnorm`` (c): (b) with the per-task losses balanced by uncertainty weighting or GradNorm.
* ``kt`` (d): knowledge transfer between task-specific representations (:mod:`workbench.nn.task_transfer`).
* ``ebm`` (e): (b)'s network (the same run, reused) plus a task-relation EBM in the output space on a task
  graph from training-label correlation, trained with ranking NCE and read out by mean field
  (:mod:`workbench.nn.task_ebm`).

Every arm trains through the shared loop with early stopping on the mean validation ROC-AUC of the target
tasks; validation and test keep every label. With a ``run_dir`` each network's run folder makes it resumable.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch

from workbench.featurizers.graph_batch import MolGraph
from workbench.hashing import sha256_bytes
from workbench.nn.task_ebm import TaskRelationEBM
from workbench.nn.task_transfer import GINMultiTask, TaskTransferGIN
from workbench.nn.task_weighting import GradNorm, UncertaintyWeighting, WithTaskWeights
from workbench.train.loop import EarlyStopping
from workbench.train.metrics import roc_auc
from workbench.train.multitask import OBJECTIVES, fit_multitask, fit_task_ebm, passes_per_epoch
from workbench.train.run_folder import RunFolder
from workbench.train.supervised import predict_graphs
from workbench.transfer.data import TransferData
from workbench.transfer.protocol import MaskedLabels
from workbench.transfer.relations import label_correlation, task_graph

__all__ = ["ARMS", "GIN_ARMS", "ArmOutcome", "TrainSettings", "run_gin_arm", "sigmoid"]

#: Every arm, with what it is (the report and the page use these lines).
ARMS: dict[str, str] = {
    "single": "(a) single-task GIN on the target's kept labels",
    "mtl": "(b) multi-task GIN, masked loss over all tasks",
    "uw": "(c) multi-task GIN, uncertainty weighting",
    "gradnorm": "(c) multi-task GIN, GradNorm",
    "kt": "(d) knowledge transfer between task-specific representations (factorised maps, attention, dependency)",
    "ebm": "(e) multi-task GIN + task-relation EBM in the output space (label-correlation graph, NCE, mean field)",
    "xgb": "XGBoost on ECFP4, single task",
    "xgb_helpers": "XGBoost on ECFP4 + the helper tasks' out-of-fold predicted probabilities",
}
GIN_ARMS = ("single", "mtl", "uw", "gradnorm", "kt", "ebm")
_WEIGHTING = {"mtl": "masked", "uw": "uncertainty", "gradnorm": "gradnorm", "kt": "masked"}

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class TrainSettings:
    """Training settings shared by every GIN arm (recorded in each run folder's configuration)."""

    epochs: int = 20
    patience: int = 5
    batch_size: int = 32
    min_steps: int = 20  # an epoch has at least this many optimizer steps (extra passes over few rows)
    lr: float = 1e-3
    num_layer: int = 5
    emb_dim: int = 300
    drop_ratio: float = 0.5
    jk: str = "last"
    init: str | None = None  # an encoder folder (e.g. models/encoders/attrmask) or None: from scratch
    task_dim: int = 64  # arm (d)
    rank: int = 16  # arm (d)
    ebm_epochs: int = 30  # arm (e)
    graph_k: int = 3  # arm (e): neighbours per task in the label-correlation graph
    device: str = "cpu"


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=np.float64)))


@dataclass
class ArmOutcome:
    """One arm's predictions for the target tasks and how its training went."""

    arm: str
    targets: tuple[str, ...]
    valid_probs: np.ndarray  # (n_valid, n_targets)
    test_probs: np.ndarray  # (n_test, n_targets)
    best_epochs: list[int] = field(default_factory=list)
    epochs_run: list[int] = field(default_factory=list)
    molecule_epochs: int = 0  # training molecules × epochs run, summed over the arm's networks
    seconds: float = 0.0
    predict: Callable[[Sequence[MolGraph]], np.ndarray] | None = None  # graphs -> target probabilities
    extras: dict[str, object] = field(default_factory=dict)


def _encoder(settings: TrainSettings) -> dict[str, torch.Tensor] | None:
    if not settings.init:
        return None
    from workbench.train.encoder_init import load_encoder_weights

    return load_encoder_weights(settings.init)


def _init_sha(settings: TrainSettings) -> str | None:
    if not settings.init:
        return None
    from workbench.hashing import sha256_file

    p = Path(settings.init)
    return sha256_file(p / "card.json" if p.is_dir() else p)


def _build(kind: str, n_tasks: int, settings: TrainSettings) -> torch.nn.Module:
    s = settings
    if kind == "kt":
        net = TaskTransferGIN(n_tasks, s.num_layer, s.emb_dim, s.drop_ratio, s.jk, s.task_dim, s.rank)
    else:
        net = GINMultiTask(n_tasks, s.num_layer, s.emb_dim, s.drop_ratio, s.jk)
    state = _encoder(settings)
    if state is not None:
        net.load_encoder(state)
    if kind == "uw":
        return WithTaskWeights(net, UncertaintyWeighting(n_tasks))
    if kind == "gradnorm":
        return WithTaskWeights(net, GradNorm(n_tasks))
    return net


def _mask_digest(y: np.ndarray, rows: np.ndarray) -> str:
    return sha256_bytes(np.ascontiguousarray(~np.isnan(y[rows])).tobytes() + rows.astype(np.int64).tobytes())


def _fit_network(
    kind: str,
    data: TransferData,
    y: np.ndarray,
    train_idx: np.ndarray,
    score_columns: list[int],
    settings: TrainSettings,
    seed: int,
    run_dir: Path | None,
    progress: Progress | None,
    desc: str,
) -> tuple[torch.nn.Module, dict]:
    """Train one network of ``kind`` on rows ``train_idx`` of ``y``; early stopping on ``score_columns``."""
    torch.manual_seed(seed)
    model = _build(kind, y.shape[1], settings).to(settings.device)
    valid = data.valid
    truth = data.y[valid][:, score_columns]
    read = score_columns if y.shape[1] > 1 else [0]  # a single-task network has one output

    def score(raw: np.ndarray) -> dict[str, float]:
        return {"roc_auc": roc_auc(truth, sigmoid(raw[:, read]))}

    run = None
    if run_dir is not None:
        config = {
            **asdict(settings),
            "network": kind,
            "seed": seed,
            "dataset": data.name,
            **data.describe(),
            "labels": _mask_digest(y, train_idx),
            "columns": y.shape[1],
            "init_sha256": _init_sha(settings),
        }
        run = RunFolder(run_dir, config)
    groups = [{"params": [p for n, p in model.named_parameters() if not n.startswith("weighting.")]}]
    weights = [p for n, p in model.named_parameters() if n.startswith("weighting.")]
    if weights:
        groups.append({"params": weights, "lr": 0.025 if kind == "gradnorm" else settings.lr})
    optimizer = torch.optim.Adam(groups, lr=settings.lr)
    result = fit_multitask(
        model, data.graphs, y, train_idx, valid,
        objective=OBJECTIVES[_WEIGHTING.get(kind, "masked")](),
        optimizer=optimizer,
        score=score,
        stopping=EarlyStopping("roc_auc", "max", settings.patience),
        epochs=settings.epochs,
        batch_size=settings.batch_size,
        shuffle=np.random.default_rng(seed * 1000 + 7),
        device=settings.device,
        min_steps=settings.min_steps,
        run=run,
        desc=desc,
        bar=False,
        progress=progress,
    )  # fmt: skip
    passes = passes_per_epoch(len(train_idx), settings.batch_size, settings.min_steps)
    info = {
        "best_epoch": int(result.best_epoch),
        "epochs_run": int(result.epochs_run),
        "molecule_epochs": int(len(train_idx) * passes * (0 if result.reused else result.epochs_run)),
    }
    return model, info


def _probabilities(model: torch.nn.Module, graphs: Sequence[MolGraph], idx: np.ndarray, device: str) -> np.ndarray:
    return sigmoid(predict_graphs(model, graphs, np.asarray(idx), torch.device(device)))


def _graph_predictor(model: torch.nn.Module, columns: list[int], device: str) -> Callable:
    def predict(graphs: Sequence[MolGraph]) -> np.ndarray:
        return _probabilities(model, list(graphs), np.arange(len(graphs)), device)[:, columns]

    return predict


def _labelled_rows(y: np.ndarray, rows: np.ndarray, columns: list[int] | None = None) -> np.ndarray:
    sub = y[rows] if columns is None else y[rows][:, columns]
    return rows[~np.isnan(sub).all(axis=1)]


def run_gin_arm(
    arm: str,
    data: TransferData,
    masked: MaskedLabels,
    settings: TrainSettings,
    *,
    train_idx: np.ndarray | None = None,
    run_dir: Path | None = None,
    progress: Progress | None = None,
) -> ArmOutcome:
    """Train one GIN arm on the masked labels and predict the target tasks of the validation and test molecules.

    Args:
        train_idx: the training rows to use (default: the split's training rows; the page passes a sample).
        run_dir: the cell's folder of run folders (``<run_dir>/<network>``), or ``None`` for memory only.
    """
    if arm not in GIN_ARMS:
        raise ValueError(f"unknown GIN arm '{arm}' (one of {', '.join(GIN_ARMS)})")
    started = time.perf_counter()
    train_idx = np.asarray(data.train if train_idx is None else train_idx)
    targets, columns, seed = masked.targets, masked.target_index, masked.seed
    y = masked.y
    dev = settings.device

    def sub(name: str) -> Path | None:
        return None if run_dir is None else run_dir / name

    outcome = ArmOutcome(arm, targets, np.zeros((len(data.valid), 0)), np.zeros((len(data.test), 0)))
    if arm == "single":
        valid_parts, test_parts, models = [], [], []
        for k, (task, column) in enumerate(zip(targets, columns, strict=True)):
            rows = _labelled_rows(y, train_idx, [column])
            step = None if progress is None else _share(progress, k, len(targets), f"single-task {task}")
            model, info = _fit_network(
                "single", data, y[:, [column]], rows, [column], settings, seed, sub(f"single-{column}"), step,
                f"{data.name}/single/{task}",
            )  # fmt: skip
            valid_parts.append(_probabilities(model, data.graphs, data.valid, dev))
            test_parts.append(_probabilities(model, data.graphs, data.test, dev))
            models.append(model)
            _record(outcome, info)
        outcome.valid_probs, outcome.test_probs = np.hstack(valid_parts), np.hstack(test_parts)

        def predict(graphs: Sequence[MolGraph]) -> np.ndarray:
            idx = np.arange(len(graphs))
            return np.hstack([_probabilities(m, list(graphs), idx, dev) for m in models])

        outcome.predict = predict
    else:
        kind = "mtl" if arm == "ebm" else arm
        rows = _labelled_rows(y, train_idx)
        model, info = _fit_network(
            kind, data, y, rows, columns, settings, seed, sub(kind), progress, f"{data.name}/{kind}"
        )
        _record(outcome, info)
        if arm == "ebm":
            _add_ebm(outcome, model, data, y, rows, columns, settings, seed, sub("ebm"))
        else:
            outcome.valid_probs = _probabilities(model, data.graphs, data.valid, dev)[:, columns]
            outcome.test_probs = _probabilities(model, data.graphs, data.test, dev)[:, columns]
            outcome.predict = _graph_predictor(model, columns, dev)
            net = getattr(model, "net", model)
            if isinstance(net, TaskTransferGIN):
                outcome.extras["dependency"] = net.dependency().cpu().numpy()
            if hasattr(model, "weighting"):
                outcome.extras["task_weights"] = model.weighting.weights().cpu().numpy()
    outcome.seconds = time.perf_counter() - started
    return outcome


def _share(progress: Progress, k: int, n: int, what: str) -> Progress:
    """A progress callback for part ``k`` of ``n``."""
    return lambda fraction, message: progress((k + fraction) / n, f"{what}: {message}")


def _record(outcome: ArmOutcome, info: dict) -> None:
    outcome.best_epochs.append(info["best_epoch"])
    outcome.epochs_run.append(info["epochs_run"])
    outcome.molecule_epochs += info["molecule_epochs"]


def _add_ebm(
    outcome: ArmOutcome,
    model: torch.nn.Module,
    data: TransferData,
    y: np.ndarray,
    rows: np.ndarray,
    columns: list[int],
    settings: TrainSettings,
    seed: int,
    run_dir: Path | None,
) -> None:
    """Fit the output-space EBM on the trained network's logits and read the targets off its mean field."""
    dev = torch.device(settings.device)
    raw_train = predict_graphs(model, data.graphs, rows, dev)
    raw_valid = predict_graphs(model, data.graphs, data.valid, dev)
    raw_test = predict_graphs(model, data.graphs, data.test, dev)
    edges = task_graph(label_correlation(y[rows]), k=settings.graph_k)
    torch.manual_seed(seed)
    ebm = TaskRelationEBM(y.shape[1], torch.from_numpy(edges))
    truth = data.y[data.valid][:, columns]
    run = None
    if run_dir is not None:
        config = {"seed": seed, "edges": edges.tolist(), "labels": _mask_digest(y, rows), **asdict(settings)}
        config["logits_sha256"] = sha256_bytes(raw_train.astype(np.float32).tobytes())
        run = RunFolder(run_dir, config)
    fit_task_ebm(
        ebm, raw_train, y[rows], raw_valid, score=lambda mu: {"roc_auc": roc_auc(truth, mu[:, columns])},
        epochs=settings.ebm_epochs, seed=seed, run=run, desc=f"{data.name}/ebm",
    )  # fmt: skip
    ebm.eval()

    def marginals(raw: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return ebm.mean_field(torch.as_tensor(raw, dtype=torch.float32)).numpy()[:, columns]

    outcome.valid_probs, outcome.test_probs = marginals(raw_valid), marginals(raw_test)
    outcome.predict = lambda graphs: marginals(predict_graphs(model, list(graphs), np.arange(len(graphs)), dev))
    outcome.extras["edges"] = edges
    outcome.extras["coupling"] = ebm.coupling().detach().numpy()
