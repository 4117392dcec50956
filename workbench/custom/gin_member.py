"""The thorough search's graph family: a GIN fine-tuned from the shipped pretrained encoder, one per target.

Like every candidate it is a fixed configuration (no early stopping on the validation molecules, which choose
between candidates): the encoder's weights, then ``epochs`` passes over the training molecules, where
``epochs = clip(budget // n_train, min_epochs, max_epochs)`` keeps a large set's cost bounded (about 300
molecules/s on 2 CPU cores: the default budget of 60,000 molecule-epochs is about 3 minutes a fit). Regression
targets are standardized with the fit rows' mean and standard deviation; both are stored with the weights.

Molecules the graph featurizer cannot encode get no prediction (NaN); the ensemble that holds the GIN averages
the other members for them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from workbench.models.builders.graph_member import GIN_ARCHITECTURE, GraphMember

__all__ = [
    "DEFAULT_ENCODER",
    "GraphRows",
    "default_encoder",
    "encoder_folder",
    "epochs_for",
    "fit_gin",
    "graph_rows",
]

#: The encoder the GIN starts from when it is shipped (the best arm of ``bench/results/pretraining.md`` so far).
DEFAULT_ENCODER = "attrmask"


@dataclass(frozen=True)
class GraphRows:
    """Graphs of a run's molecules, indexable like feature rows (``None`` where a molecule cannot be encoded)."""

    graphs: tuple

    def __len__(self) -> int:
        return len(self.graphs)

    def __getitem__(self, rows) -> GraphRows:
        if isinstance(rows, slice):
            return GraphRows(self.graphs[rows])
        return GraphRows(tuple(self.graphs[int(i)] for i in np.asarray(rows).ravel()))


def graph_rows(mols: Sequence) -> tuple[GraphRows, list[str]]:
    """The graph featurizer's output for ``mols`` and one error string per molecule (empty when encoded)."""
    from workbench.featurizers import mols_to_graphs

    graphs, errors = mols_to_graphs(list(mols))
    return GraphRows(tuple(graphs)), list(errors)


def _encoders() -> dict[str, Path]:
    from workbench.encoders.model import list_encoders

    return {c.name: Path(c.path) for c in list_encoders()}


def default_encoder() -> str | None:
    """The name of the encoder the GIN family starts from: :data:`DEFAULT_ENCODER`, else the first one found."""
    found = _encoders()
    if DEFAULT_ENCODER in found:
        return DEFAULT_ENCODER
    return sorted(found)[0] if found else None


def encoder_folder(name: str) -> Path:
    """The checkpoint folder of the registered encoder ``name``.

    Raises:
        ValueError: no encoder has that name.
    """
    found = _encoders()
    if name not in found:
        raise ValueError(f"no pretrained encoder named '{name}' (found: {', '.join(sorted(found)) or 'none'})")
    return found[name]


def epochs_for(n_train: int, params: dict) -> int:
    """Passes over ``n_train`` molecules: the molecule-epoch budget, clipped to ``[min_epochs, max_epochs]``."""
    budget = int(params.get("budget", 60_000))
    return int(np.clip(budget // max(n_train, 1), int(params.get("min_epochs", 15)), int(params.get("max_epochs", 40))))


def fit_gin(
    graphs: GraphRows,
    y: np.ndarray,
    classification: bool,
    seed: int,
    params: dict,
    check: Callable[[], None] | None = None,
) -> GraphMember:
    """Fine-tune from the encoder named ``params['encoder']`` on every graph with a label (NaN: left out).

    ``check`` runs after each epoch and may raise to stop the fit.
    """
    from workbench.nn import GINPredictor, masked_bce_loss, masked_mse_loss
    from workbench.train.encoder_init import load_encoder_weights
    from workbench.train.loop import EarlyStopping
    from workbench.train.supervised import fit_graph_model

    rows = np.array([i for i, g in enumerate(graphs.graphs) if g is not None and np.isfinite(y[i])])
    if len(rows) < 2:
        raise ValueError("fewer than 2 molecules with a graph and a label: the GIN cannot be fine-tuned")
    mean = 0.0 if classification else float(np.mean(y[rows]))
    std = 1.0 if classification else float(np.std(y[rows]) or 1.0)
    target = ((np.asarray(y, dtype=np.float64) - mean) / std).astype(np.float32).reshape(-1, 1)
    torch.manual_seed(seed)
    model = GINPredictor(1, drop_ratio=float(params.get("drop_ratio", 0.5)), **GIN_ARCHITECTURE)
    if params.get("encoder"):
        model.load_encoder(load_encoder_weights(encoder_folder(params["encoder"])))
    optimizer = torch.optim.Adam(model.parameters(), lr=float(params.get("lr", 1e-3)))
    fit_graph_model(
        model, graphs.graphs, target, rows, np.array([], dtype=int),
        optimizer=optimizer,
        loss_fn=masked_bce_loss if classification else masked_mse_loss,
        score=lambda raw: {},
        stopping=EarlyStopping(None),
        epochs=epochs_for(len(rows), params),
        batch_size=int(params.get("batch_size", 32)),
        shuffle=np.random.default_rng(seed * 1000 + 7),
        bar=False,
        progress=(lambda _f, _m: check()) if check is not None else None,
    )  # fmt: skip
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    return GraphMember(state, classification, mean, std)
