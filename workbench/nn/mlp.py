"""A multilayer perceptron over fixed-length molecular features (e.g. ECFP)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["FeatureMLP", "WidthsMLP"]


class FeatureMLP(nn.Module):
    """MLP with ReLU, dropout and a linear multi-task output head.

    Args:
        in_dim: input feature length.
        n_tasks: number of outputs (logits for classification, standardized values for regression).
        hidden: width of each hidden layer.
        n_layers: number of hidden layers.
        dropout: dropout probability after each hidden layer.
    """

    def __init__(self, in_dim: int, n_tasks: int, hidden: int = 512, n_layers: int = 2, dropout: float = 0.2) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(n_layers):
            layers += [nn.Linear(width, hidden), nn.ReLU(), nn.Dropout(dropout)]
            width = hidden
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_tasks)
        self.config = {"in_dim": in_dim, "n_tasks": n_tasks, "hidden": hidden, "n_layers": n_layers, "dropout": dropout}

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                module.reset_parameters()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


class WidthsMLP(nn.Module):
    """MLP whose hidden layers have their own widths, optionally after an input encoding (e.g. IFM).

    Args:
        in_dim: input feature length (before the encoding).
        n_tasks: number of outputs.
        widths: width of each hidden layer (ReLU, then dropout).
        dropout: dropout probability after each hidden layer.
        encoding: a module applied to the input first, with an ``out_dim(in_dim)`` method (``IFMEncoding``).
    """

    def __init__(
        self,
        in_dim: int,
        n_tasks: int,
        widths: tuple[int, ...],
        dropout: float = 0.2,
        encoding: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.encoding = encoding
        width = encoding.out_dim(in_dim) if encoding is not None else in_dim
        layers: list[nn.Module] = []
        for hidden in widths:
            layers += [nn.Linear(width, int(hidden)), nn.ReLU(), nn.Dropout(dropout)]
            width = int(hidden)
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(width, n_tasks)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.encoding is not None:
            x = self.encoding(x)
        return self.head(self.body(x))
