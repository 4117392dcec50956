"""Independent Feature Embedding (IFM, Xia et al., NeurIPS 2023) and the networks that use it.

Each input feature ``x_i`` is mapped on its own to
``[cos(2π c_j x_i)]_j ‖ [sin(2π c_j x_i)]_j`` with geometric frequencies
``c_j = σ^(j/d)``, ``j = 0 … d−1``. The encoding gives a shallow network the
high-frequency basis it needs to fit non-smooth structure–activity functions;
the kernel it induces on a feature difference ``δ`` is ``(1/d) Σ_j cos(2π c_j δ)``.

* :class:`IFMEncoding` — the encoding, fixed or with learnable frequencies.
* :class:`IFMMLP` — IFM followed by an MLP.
* :class:`IFMGINPredictor` — a GIN whose atom embeddings get IFM features (learnable
  frequencies) of per-atom scalars read from the graph tensors.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from workbench.nn.gin import GIN
from workbench.nn.heads import mean_pool

__all__ = ["IFMMLP", "IFMEncoding", "IFMGINPredictor", "ifm_encode", "ifm_frequencies", "ifm_kernel", "node_scalars"]


def ifm_frequencies(sigma: float, d: int) -> torch.Tensor:
    """The geometric frequencies ``c_j = σ^(j/d)``, ``j = 0 … d−1`` (float32)."""
    if d < 1 or sigma <= 0:
        raise ValueError(f"IFM needs d ≥ 1 and σ > 0, got d={d}, σ={sigma}")
    return torch.tensor([sigma ** (j / d) for j in range(d)], dtype=torch.float32)


def ifm_encode(x: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """Encode ``x`` ``[n, f]`` as ``[n, f·2d]``: per feature, the ``d`` cosines then the ``d`` sines."""
    v = 2 * math.pi * x.unsqueeze(-1) * freqs  # [n, f, d]
    return torch.cat([torch.cos(v), torch.sin(v)], dim=-1).flatten(start_dim=-2)


def ifm_kernel(delta: torch.Tensor, freqs: torch.Tensor) -> torch.Tensor:
    """The kernel IFM induces on a feature difference: ``⟨φ(x), φ(x+δ)⟩ / d = mean_j cos(2π c_j δ)``."""
    return torch.cos(2 * math.pi * delta.unsqueeze(-1) * freqs).mean(-1)


class IFMEncoding(nn.Module):
    """IFM of every input feature; ``learnable=True`` makes the frequencies parameters.

    Args:
        sigma: largest-frequency scale σ (frequencies run from 1 to σ^((d−1)/d)).
        d: number of frequencies per feature (output has ``2d`` values per feature).
        learnable: train the frequencies (initialised at ``σ^(j/d)``).
    """

    def __init__(self, sigma: float = 4.0, d: int = 4, learnable: bool = False) -> None:
        super().__init__()
        self.sigma, self.d, self.learnable = float(sigma), int(d), learnable
        freqs = ifm_frequencies(sigma, d)
        if learnable:
            self.freqs = nn.Parameter(freqs)
        else:
            self.register_buffer("freqs", freqs)

    def out_dim(self, in_dim: int) -> int:
        return in_dim * 2 * self.d

    def reset_parameters(self) -> None:
        with torch.no_grad():
            self.freqs.copy_(ifm_frequencies(self.sigma, self.d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return ifm_encode(x, self.freqs)


class IFMMLP(nn.Module):
    """IFM encoding followed by an MLP (ReLU, dropout) and a linear head.

    The first layer sees ``in_dim · 2d`` inputs, so keep ``hidden`` modest for 1,024-bit
    fingerprints (a sparse formulation was tried and is slower than dense on CPU).
    """

    def __init__(
        self,
        in_dim: int,
        n_tasks: int = 1,
        sigma: float = 4.0,
        d: int = 4,
        hidden: int = 512,
        n_layers: int = 2,
        dropout: float = 0.2,
    ) -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError("an IFM-MLP needs at least one hidden layer")
        self.encoding = IFMEncoding(sigma, d)
        self.first = nn.Linear(self.encoding.out_dim(in_dim), hidden)
        layers: list[nn.Module] = [nn.ReLU(), nn.Dropout(dropout)]
        for _ in range(n_layers - 1):
            layers += [nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout)]
        self.body = nn.Sequential(*layers)
        self.head = nn.Linear(hidden, n_tasks)
        self.config = {
            "in_dim": in_dim,
            "n_tasks": n_tasks,
            "sigma": sigma,
            "d": d,
            "hidden": hidden,
            "n_layers": n_layers,
            "dropout": dropout,
        }

    def reset_parameters(self) -> None:
        for module in self.modules():
            if isinstance(module, nn.Linear):
                module.reset_parameters()

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """The last hidden layer ``[n, hidden]``."""
        return self.body(self.first(self.encoding(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


def node_scalars(x: torch.Tensor, edge_index: torch.Tensor) -> torch.Tensor:
    """Per-atom scalars in [0, 1] read from a pretrain-gnns graph: atomic number / 100, chirality / 2, degree / 6."""
    degree = torch.zeros(x.shape[0], dtype=torch.float32, device=x.device)
    if edge_index.numel():
        degree.index_add_(0, edge_index[0], torch.ones(edge_index.shape[1], device=x.device))
    return torch.stack([(x[:, 0].float() + 1) / 100.0, x[:, 1].float() / 2.0, degree / 6.0], dim=1)


class IFMGINPredictor(nn.Module):
    """GIN regressor/classifier whose atom embeddings add IFM features of :func:`node_scalars`.

    ``h0 = atom_embedding(type, chirality) + W · IFM_learnable(scalars)``; with ``use_ifm=False``
    it is the plain GIN + mean pooling + linear head, so both arms share everything else.
    """

    def __init__(
        self,
        n_tasks: int = 1,
        num_layer: int = 5,
        emb_dim: int = 300,
        drop_ratio: float = 0.5,
        sigma: float = 8.0,
        d: int = 8,
        use_ifm: bool = True,
    ) -> None:
        super().__init__()
        self.gnn = GIN(num_layer, emb_dim, drop_ratio)
        self.use_ifm = use_ifm
        if use_ifm:
            self.node_ifm = IFMEncoding(sigma, d, learnable=True)
            self.node_proj = nn.Linear(self.node_ifm.out_dim(3), emb_dim)
        self.graph_pred_linear = nn.Linear(self.gnn.out_dim, n_tasks)

    def forward(
        self, x: torch.Tensor, edge_index: torch.Tensor, edge_attr: torch.Tensor, batch: torch.Tensor, num_graphs: int
    ) -> torch.Tensor:
        h0 = None
        if self.use_ifm:
            h0 = self.gnn.embed_atoms(x) + self.node_proj(self.node_ifm(node_scalars(x, edge_index)))
        h = self.gnn(x, edge_index, edge_attr, h0=h0)
        return self.graph_pred_linear(mean_pool(h, batch, num_graphs))
