"""Neural QSAR regressors: MLP and IFM-MLP on scaled ECFP4 counts, GIN and IFM-GIN on molecular graphs.

All of them train through the shared loop (:mod:`workbench.train.supervised`; the GINs through
the same graph path as ``workbench train finetune``): Adam (lr 1e-3, weight decay 1e-5) on the
MSE of standardized targets, early stopping on the RMSE of the seeded held-out 15 % of the
training set (patience 10, improvements above 1e-4), the best epoch's weights kept. In memory:
these fits are not saved or resumed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from rdkit import Chem, rdBase
from torch.nn import functional as F

from workbench.cliffs.features import Progress, holdout
from workbench.train.loop import EarlyStopping
from workbench.train.supervised import fit_feature_model, fit_graph_model, predict_features, predict_graphs

__all__ = ["IFM_GRID", "MLP_HIDDEN", "gin_fit_predict", "mlp_fit_predict"]

#: (σ, d) candidates for the IFM-MLP, chosen on the validation part of the training split.
IFM_GRID = ((4.0, 4), (16.0, 4))
#: Hidden width of MLP and IFM-MLP (equal, so only the encoding differs).
MLP_HIDDEN = 256
_STOPPING = EarlyStopping("rmse", "min", patience=10, min_delta=1e-4)


def _mse(out: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return F.mse_loss(out.squeeze(-1), target.reshape(-1))


def _rmse_to(target: torch.Tensor):
    """Score of raw outputs: RMSE against ``target`` (standardized units, float32 as trained)."""

    def score(raw: np.ndarray) -> dict[str, float]:
        pred = torch.from_numpy(raw).squeeze(-1)
        return {"rmse": float(torch.sqrt(torch.mean((pred - target) ** 2)))}

    return score


def mlp_fit_predict(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    *,
    ifm: tuple[float, int] | None,
    epochs: int,
    seed: int,
    hidden: int = MLP_HIDDEN,
    progress: Progress | None = None,
    label: str = "MLP",
) -> tuple[np.ndarray, float]:
    """Fit an MLP (``ifm=None``) or an IFM-MLP with (σ, d) = ``ifm``; returns (test predictions, held-out RMSE)."""
    from workbench.nn.ifm import IFMMLP
    from workbench.nn.mlp import FeatureMLP

    torch.manual_seed(seed)
    mean, std = float(np.mean(y_train)), float(np.std(y_train) or 1.0)
    yt = torch.as_tensor((y_train - mean) / std, dtype=torch.float32)
    xt = torch.as_tensor(x_train, dtype=torch.float32)
    if ifm is None:
        net: torch.nn.Module = FeatureMLP(x_train.shape[1], 1, hidden=hidden, n_layers=2, dropout=0.2)
    else:
        net = IFMMLP(x_train.shape[1], 1, sigma=ifm[0], d=ifm[1], hidden=hidden, n_layers=2, dropout=0.2)
    train_idx, valid_idx = holdout(len(yt), seed)
    result = fit_feature_model(
        net, xt, yt, train_idx, valid_idx,
        optimizer=torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-5),
        loss_fn=_mse, score=_rmse_to(yt[valid_idx]), stopping=_STOPPING, epochs=epochs, batch_size=64,
        shuffle=torch.Generator().manual_seed(seed), min_batch=2, valid_batch_size=256,
        desc=label, bar=False, progress=progress,
    )  # fmt: skip
    x_te = torch.as_tensor(x_test, dtype=torch.float32)
    pred = predict_features(net, x_te, np.arange(len(x_te)))[:, 0]
    best = result.best_score if result.best_score is not None else float("inf")
    return pred.astype(np.float64) * std + mean, best * std


def gin_fit_predict(
    smiles_train: Sequence[str],
    y_train: np.ndarray,
    smiles_test: Sequence[str],
    *,
    use_ifm: bool,
    epochs: int,
    seed: int,
    num_layer: int = 5,
    emb_dim: int = 300,
    progress: Progress | None = None,
) -> np.ndarray:
    """Fit a GIN (or IFM-GIN) on the training molecules; predictions for the test molecules.

    Training molecules without a graph are left out; test molecules without one get the training mean.
    """
    from workbench.featurizers import mols_to_graphs
    from workbench.nn.ifm import IFMGINPredictor

    torch.manual_seed(seed)
    with rdBase.BlockLogs():
        tr_graphs, tr_err = mols_to_graphs([Chem.MolFromSmiles(s) for s in smiles_train])
        te_graphs, te_err = mols_to_graphs([Chem.MolFromSmiles(s) for s in smiles_test])
    keep = np.array([e == "" for e in tr_err])
    graphs = [g for g, k in zip(tr_graphs, keep, strict=True) if k]
    mean, std = float(np.mean(y_train[keep])), float(np.std(y_train[keep]) or 1.0)
    ys = ((y_train[keep] - mean) / std).astype(np.float32)[:, None]
    net = IFMGINPredictor(1, num_layer=num_layer, emb_dim=emb_dim, drop_ratio=0.2, use_ifm=use_ifm)
    train_idx, valid_idx = holdout(len(ys), seed)
    fit_graph_model(
        net, graphs, ys, train_idx, valid_idx,
        optimizer=torch.optim.Adam(net.parameters(), lr=1e-3, weight_decay=1e-5),
        loss_fn=_mse, score=_rmse_to(torch.from_numpy(ys[valid_idx, 0])), stopping=_STOPPING, epochs=epochs,
        batch_size=32, shuffle=torch.Generator().manual_seed(seed), valid_batch_size=128,
        desc="IFM-GIN" if use_ifm else "GIN", bar=False, progress=progress,
    )  # fmt: skip
    pred = np.full(len(smiles_test), mean, dtype=np.float64)  # unfeaturizable test rows get the mean
    ok = np.array([k for k, e in enumerate(te_err) if e == ""], dtype=np.int64)
    if len(ok):
        pred[ok] = predict_graphs(net, te_graphs, ok, torch.device("cpu"), 256)[:, 0] * std + mean
    return pred
