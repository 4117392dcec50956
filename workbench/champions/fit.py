"""Fit one candidate of the champion search with one seed and score it on validation and test.

Trees and SVMs are fitted one task at a time on the training molecules that have that task's label (a task
without both classes in training predicts its training rate); the MLP is one network over all tasks with a masked
loss. Scores: mean ROC-AUC over tasks (and mean PRC-AUC, MUV's second metric) for classification, RMSE and MAE
over all labelled entries for regression.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.special import expit  # the logistic function, without overflow warnings
from sklearn.metrics import average_precision_score

from workbench.champions.features import FeatureMatrix
from workbench.custom.families import Candidate, fit_member, predict_member
from workbench.data.splits import Split
from workbench.train.metrics import regression_metrics, roc_auc

__all__ = ["CellResult", "FittedMLP", "fit_candidate", "fit_mlp", "prc_auc", "score"]


@dataclass(frozen=True)
class CellResult:
    """One candidate × seed: its validation and test scores and the seconds the fit took."""

    valid: dict[str, float]
    test: dict[str, float]
    seconds: float


def prc_auc(y_true: np.ndarray, y_score: np.ndarray) -> float:
    """Mean average precision (PRC-AUC) over tasks with both classes among the labelled rows; NaN when none."""
    y_true, y_score = np.atleast_2d(y_true.T).T, np.atleast_2d(y_score.T).T
    scores = []
    for t in range(y_true.shape[1]):
        mask = ~np.isnan(y_true[:, t])
        labels = y_true[mask, t]
        if mask.sum() and 0 < labels.sum() < len(labels):
            scores.append(average_precision_score(labels, y_score[mask, t]))
    return float(np.mean(scores)) if scores else float("nan")


def score(y: np.ndarray, predictions: np.ndarray, classification: bool) -> dict[str, float]:
    """``roc_auc`` and ``prc_auc``, or ``rmse`` and ``mae``."""
    if classification:
        return {"roc_auc": roc_auc(y, predictions), "prc_auc": prc_auc(y, predictions)}
    return regression_metrics(y, predictions)


def _per_task(candidate: Candidate, x: np.ndarray, y: np.ndarray, train: np.ndarray, classification: bool,
              seed: int, jobs: int) -> np.ndarray:  # fmt: skip
    out = np.full(y.shape, np.nan)
    for t in range(y.shape[1]):
        rows = train[~np.isnan(y[train, t])]
        labels = y[rows, t]
        if len(rows) == 0 or (classification and len(np.unique(labels)) < 2):
            out[:, t] = float(labels.mean()) if len(rows) else 0.5
            continue
        model = fit_member(candidate, x[rows], labels, classification, seed, jobs)
        out[:, t] = predict_member(model, x)
    return out


@dataclass
class FittedMLP:
    """A multi-output MLP fitted by :func:`fit_mlp`, with the target scaling it was trained on."""

    model: object  # workbench.nn.FeatureMLP
    mean: np.ndarray
    std: np.ndarray
    classification: bool

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Probabilities or values ``(n, n_tasks)`` for feature rows ``x``."""
        import torch

        from workbench.train.supervised import predict_features

        features = torch.from_numpy(np.ascontiguousarray(x, np.float32))
        raw = predict_features(self.model, features, np.arange(len(x)), 4096).astype(np.float64)
        return expit(raw) if self.classification else raw * self.std + self.mean

    def tensors(self) -> dict[str, np.ndarray]:
        """The weights and the target scaling as named arrays (what a tabular checkpoint stores)."""
        state = {f"net.{k}": v.detach().cpu().numpy() for k, v in self.model.state_dict().items()}
        return {**state, "target_mean": self.mean.astype(np.float64), "target_std": self.std.astype(np.float64)}


def fit_mlp(candidate: Candidate, x: np.ndarray, y: np.ndarray, train: np.ndarray, classification: bool,
            seed: int) -> FittedMLP:  # fmt: skip
    """One multi-output MLP on the training rows (missing labels masked), early-stopped on a seeded part of them."""
    import torch

    from workbench.nn import FeatureMLP
    from workbench.nn.heads import masked_bce_loss, masked_mse_loss
    from workbench.train.loop import EarlyStopping
    from workbench.train.supervised import fit_feature_model

    p = candidate.params
    rng = np.random.default_rng(seed)
    order = rng.permutation(train)
    n_stop = max(1, round(len(order) * float(p["stop_fraction"]))) if len(order) > 1 else 0
    stop, fit_rows = np.sort(order[:n_stop]), np.sort(order[n_stop:])
    mean = np.zeros(y.shape[1]) if classification else np.nan_to_num(np.nanmean(y[fit_rows], axis=0))
    std = np.ones(y.shape[1]) if classification else np.nan_to_num(np.nanstd(y[fit_rows], axis=0), nan=1.0)
    std = np.where(std > 0, std, 1.0)
    torch.manual_seed(seed)
    model = FeatureMLP(x.shape[1], y.shape[1], int(p["hidden"]), int(p["n_layers"]), float(p["dropout"]))
    features = torch.from_numpy(np.ascontiguousarray(x, np.float32))
    target = torch.from_numpy(((y - mean) / std).astype(np.float32))
    loss_fn = masked_bce_loss if classification else masked_mse_loss

    def stop_loss(raw: np.ndarray) -> dict[str, float]:
        return {"loss": float(loss_fn(torch.from_numpy(raw), target[stop]))}

    fit_feature_model(
        model, features, target, fit_rows, stop,
        optimizer=torch.optim.Adam(model.parameters(), lr=float(p["lr"]), weight_decay=float(p["weight_decay"])),
        loss_fn=loss_fn, score=stop_loss, stopping=EarlyStopping("loss", "min", int(p["patience"])),
        epochs=int(p["max_epochs"]), batch_size=int(p["batch_size"]), shuffle=rng, min_batch=2,
        valid_batch_size=4096, bar=False, desc=candidate.label,
    )  # fmt: skip
    model.eval()
    return FittedMLP(model, mean, std, classification)


def fit_candidate(
    candidate: Candidate, matrix: FeatureMatrix, y: np.ndarray, split: Split, classification: bool, seed: int,
    jobs: int = 1,
) -> CellResult:  # fmt: skip
    """Fit on the usable training molecules, predict every molecule, score validation and test.

    Molecules whose features could not be computed are predicted as the training mean (rate) of each task.
    """
    started = time.perf_counter()
    train = split.train[matrix.usable[split.train]]
    if candidate.family == "mlp":
        predictions = fit_mlp(candidate, matrix.x, y, train, classification, seed).predict(matrix.x)
    else:
        predictions = _per_task(candidate, matrix.x, y, train, classification, seed, jobs)
    fallback = np.nan_to_num(np.nanmean(y[train], axis=0), nan=0.5)
    predictions[~matrix.usable] = fallback
    return CellResult(
        valid=score(y[split.valid], predictions[split.valid], classification),
        test=score(y[split.test], predictions[split.test], classification),
        seconds=round(time.perf_counter() - started, 2),
    )
