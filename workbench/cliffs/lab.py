"""The IFM lab's computations: IFM encoding and kernel curves, MLP vs IFM-MLP, the rotation experiment."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd
import torch

from workbench.cliffs import qsar
from workbench.data.moleculeace import load_moleculeace
from workbench.nn.ifm import ifm_encode, ifm_frequencies, ifm_kernel

__all__ = ["IfmCurves", "ifm_curves", "lab_frame", "mlp_vs_ifm", "rotation_scores"]

Progress = Callable[[float, str], None]


@dataclass
class IfmCurves:
    """The IFM of one feature for σ and d.

    Attributes:
        frequencies: ``c_j = σ^(j/d)``, j = 0..d-1.
        encoding: ``x`` in [0, 1] (201 points) and the 2d components ``cos c{j}``, ``sin c{j}``.
        kernel: ``δ`` in [-1, 1] (401 points) and the induced ``kernel`` k(δ) = mean_j cos(2π c_j δ).
    """

    frequencies: list[float]
    encoding: pd.DataFrame
    kernel: pd.DataFrame


def ifm_curves(sigma: float, d: int) -> IfmCurves:
    """The encoding of x ∈ [0, 1] and the kernel on differences δ ∈ [-1, 1] for frequency scale σ and d."""
    freqs = ifm_frequencies(sigma, d)
    x = torch.linspace(0, 1, 201)
    enc = ifm_encode(x.unsqueeze(1), freqs).numpy()  # [201, 2d]
    encoding = pd.DataFrame(enc, columns=[f"cos c{j}" for j in range(d)] + [f"sin c{j}" for j in range(d)])
    encoding["x"] = x.numpy()
    delta = torch.linspace(-1, 1, 401)
    kernel = pd.DataFrame({"δ": delta.numpy(), "kernel": ifm_kernel(delta, freqs).numpy()})
    return IfmCurves(freqs.tolist(), encoding, kernel)


def lab_frame(target: str, max_train: int) -> pd.DataFrame:
    """A MoleculeACE target with at most ``max_train`` training molecules (the first ones) and its whole test set."""
    frame = load_moleculeace(target).frame
    train = frame[frame["split"] == "train"].head(max_train)
    return pd.concat([train, frame[frame["split"] == "test"]]).reset_index(drop=True)


def mlp_vs_ifm(
    frame: pd.DataFrame, target: str, sigma: float, d: int, epochs: int, progress: Progress | None = None
) -> pd.DataFrame:
    """Train MLP and IFM-MLP (IFM with σ, d) on ``frame``'s training split; RMSE and RMSE_cliff on its test split."""
    scores, _ = qsar.evaluate(
        frame, ["MLP", "IFM-MLP"], target=target, epochs=int(epochs), ifm_grid=((sigma, d),), progress=progress
    )
    return scores.drop(columns=["params"]).assign(sigma=sigma, d=d)


def rotation_scores(
    frame: pd.DataFrame,
    models: Sequence[str],
    sigma: float,
    d: int,
    epochs: int,
    rf_trees: int,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """:func:`qsar.rotation_experiment` on ECFP4 features of ``frame``'s train and test splits."""
    split = frame["split"].astype(str)
    tr, te = frame[split == "train"], frame[split == "test"]
    return qsar.rotation_experiment(
        qsar.ecfp_features(tr["smiles"]), tr["y"].to_numpy(), qsar.ecfp_features(te["smiles"]), te["y"].to_numpy(),
        list(models), ifm=(sigma, d), epochs=int(epochs), rf_trees=int(rf_trees), progress=progress,
    )  # fmt: skip
