"""Chemprop v2 MPNN (directed bond message passing), re-implemented for stacks of same-shaped models.

The forward pass follows chemprop 2.2 ``BondMessagePassing`` + ``NormAggregation`` +
``MLP`` predictor exactly (no bias in ``W_i``/``W_h``, ReLU, sum over atoms divided by
``norm``), so converted Chemprop checkpoints give the same numbers. ``n_models``
models with the same shapes (an ensemble) are held as stacked weights and run in
one pass over a shared featurized batch: the input projection is one matrix
product for every member and the per-member products are batched.

Inputs are tensors from :mod:`workbench.featurizers.chemprop` (never RDKit here):
``V`` atom features ``[n_atoms, d_v]``, ``E`` directed-bond features
``[n_edges, d_e]``, ``edge_index`` ``[2, n_edges]`` (source, target),
``rev_edge_index`` ``[n_edges]`` and ``batch`` ``[n_atoms]``.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from torch import nn

__all__ = ["ChempropMPNN"]


_MIX = 0x9E3779B97F4A7C15 - 2**64  # odd 64-bit constant (golden ratio), as a signed int64


def _row_keys(x: torch.Tensor) -> torch.Tensor:
    """A 64-bit key per row of ``x`` from the rows' exact bits (equal rows, equal keys)."""
    if x.dtype.is_floating_point:
        x = x.float().contiguous().view(torch.int32)
    bits = x.to(torch.int64)
    generator = torch.Generator().manual_seed(x.shape[1])
    coeffs = torch.randint(-(2**62), 2**62, (x.shape[1],), generator=generator, dtype=torch.int64) | 1
    return (bits * coeffs.to(x.device)).sum(dim=1)  # wraps modulo 2^64


def _classes(keys: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Class of each entry of the 1-D integer ``keys`` and one representative entry per class."""
    if len(keys) == 0:
        empty = torch.zeros(0, dtype=torch.int64, device=keys.device)
        return empty, empty
    _, inverse = torch.unique(keys, return_inverse=True)
    rep = torch.empty(int(inverse.max()) + 1, dtype=torch.int64, device=keys.device)
    rep.scatter_(0, inverse, torch.arange(len(inverse), device=keys.device))
    return inverse, rep


def _pair_keys(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """A 64-bit key for each pair ``(a[i], b[i])`` of integers."""
    return a * _MIX + b  # wraps modulo 2^64


def _label_codes(n: int, step: int, device: torch.device) -> torch.Tensor:
    """Fixed random 60-bit codes for ``n`` labels: sums over a multiset of labels identify it (collisions ~2^-60)."""
    generator = torch.Generator().manual_seed(1_000_003 * step + n)
    return torch.randint(-(2**59), 2**59, (n,), generator=generator, dtype=torch.int64).to(device)


class ChempropMPNN(nn.Module):
    """``n_models`` Chemprop MPNNs with identical shapes, evaluated together.

    Args:
        n_models: ensemble members stacked in the weights.
        n_tasks: outputs per model.
        task_type: ``classification`` (sigmoid outputs) or ``regression`` (``y * scale + mean``).
        d_v: atom feature length.
        d_e: bond feature length.
        d_h: hidden size of message passing.
        depth: message-passing steps (chemprop's ``depth``; ``depth - 1`` updates).
        ffn_hidden: width of the predictor's hidden layers.
        ffn_layers: number of hidden layers of the predictor.
        norm: the aggregation divides the sum over atoms by this.
    """

    def __init__(
        self,
        n_models: int,
        n_tasks: int,
        task_type: str,
        d_v: int = 72,
        d_e: int = 14,
        d_h: int = 300,
        depth: int = 3,
        ffn_hidden: int = 300,
        ffn_layers: int = 1,
        norm: float = 100.0,
    ) -> None:
        super().__init__()
        if task_type not in ("classification", "regression"):
            raise ValueError(f"task_type must be classification or regression, not {task_type!r}")
        self.n_models, self.n_tasks, self.task_type = n_models, n_tasks, task_type
        self.d_h, self.depth, self.norm = d_h, depth, float(norm)
        self.W_i = nn.Parameter(torch.empty(n_models, d_h, d_v + d_e))
        self.W_h = nn.Parameter(torch.empty(n_models, d_h, d_h))
        self.W_o = nn.Parameter(torch.empty(n_models, d_h, d_v + d_h))
        self.b_o = nn.Parameter(torch.empty(n_models, d_h))
        dims = [d_h] + [ffn_hidden] * ffn_layers + [n_tasks]
        self.ffn_weights = nn.ParameterList([nn.Parameter(torch.empty(n_models, d2, d1)) for d1, d2 in pairwise(dims)])
        self.ffn_biases = nn.ParameterList([nn.Parameter(torch.empty(n_models, d2)) for d2 in dims[1:]])
        self.register_buffer("out_mean", torch.zeros(n_models, n_tasks))
        self.register_buffer("out_scale", torch.ones(n_models, n_tasks))
        self.config = {
            "n_models": n_models,
            "n_tasks": n_tasks,
            "task_type": task_type,
            "d_v": d_v,
            "d_e": d_e,
            "d_h": d_h,
            "depth": depth,
            "ffn_hidden": ffn_hidden,
            "ffn_layers": ffn_layers,
            "norm": float(norm),
        }
        self.reset_parameters()

    def reset_parameters(self) -> None:
        for p in self.parameters():
            nn.init.normal_(p, std=0.02)

    @staticmethod
    def _shared(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``x [n, a]`` (the same for every member) ``@ w[M, b, a]^T -> [M, n, b]`` in one product."""
        m, b, _ = w.shape
        return (x @ w.reshape(m * b, -1).T).view(len(x), m, b).transpose(0, 1)

    @staticmethod
    def _atom_sums(
        hidden_u: torch.Tensor, lab: torch.Tensor, dst: torch.Tensor, atoms: torch.Tensor, n_atoms: int
    ) -> torch.Tensor:
        """Sum of the states of the edges into each of ``atoms`` (distinct): ``[M, len(atoms), h]``."""
        pos = torch.full((n_atoms,), -1, dtype=torch.int64, device=dst.device)
        pos[atoms] = torch.arange(len(atoms), device=dst.device)
        into = pos[dst]
        keep = into >= 0
        out = hidden_u.new_zeros(hidden_u.shape[0], len(atoms), hidden_u.shape[2])
        return out.index_add_(1, into[keep], hidden_u[:, lab[keep]])

    @staticmethod
    def _per_model(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        """``x [M, n, a] @ w[M, b, a]^T -> [M, n, b]``."""
        return torch.bmm(x, w.transpose(1, 2))

    def forward(
        self,
        V: torch.Tensor,
        E: torch.Tensor,
        edge_index: torch.Tensor,
        rev_edge_index: torch.Tensor,
        batch: torch.Tensor,
        num_graphs: int,
    ) -> torch.Tensor:
        """Predictions ``[n_models, num_graphs, n_tasks]`` in task units.

        Edges (and atoms) whose hidden state is provably the same — same features and, step by
        step, the same multiset of incoming states — are computed once: a Weisfeiler–Lehman
        refinement of integer labels picks one representative per class, the matrix products run
        on the representatives only, and the results are gathered back. Every kept value is the
        one the plain chemprop forward pass computes for that edge or atom.
        """
        m = self.n_models
        n_atoms = V.shape[0]
        src, dst = edge_index[0], edge_index[1]
        x0 = torch.cat([V[src], E], dim=1)  # [n_edges, d_v + d_e], shared by every member
        lab0, rep0 = _classes(_row_keys(x0))
        h0_u = self._shared(x0[rep0], self.W_i)  # [M, U0, h]
        hidden_u, lab = torch.relu(h0_u), lab0
        for step in range(1, self.depth):
            code = _label_codes(int(lab.max()) + 1 if len(lab) else 0, step, lab.device)
            incoming = torch.zeros(n_atoms, dtype=torch.int64, device=lab.device).index_add_(0, dst, code[lab])
            new_lab, rep = _classes(_pair_keys(lab, incoming[src] - code[lab[rev_edge_index]]))
            need, where = torch.unique(src[rep], return_inverse=True)
            per_atom = self._atom_sums(hidden_u, lab, dst, need, n_atoms)
            message = per_atom[:, where] - hidden_u[:, lab[rev_edge_index[rep]]]
            hidden_u = torch.relu(h0_u[:, lab0[rep]] + self._per_model(message, self.W_h))
            lab = new_lab
        code = _label_codes(int(lab.max()) + 1 if len(lab) else 0, self.depth, lab.device)
        incoming = torch.zeros(n_atoms, dtype=torch.int64, device=V.device).index_add_(0, dst, code[lab])
        a_lab, a_rep = _classes(_pair_keys(_row_keys(V), incoming))
        per_atom = self._atom_sums(hidden_u, lab, dst, a_rep, n_atoms)
        atoms_u = torch.cat([V[a_rep].unsqueeze(0).expand(m, -1, -1), per_atom], dim=2)
        atoms = torch.relu(self._per_model(atoms_u, self.W_o) + self.b_o.unsqueeze(1))[:, a_lab]
        z = atoms.new_zeros(m, num_graphs, self.d_h).index_add_(1, batch, atoms) / self.norm
        n_layers = len(self.ffn_weights)
        for k, (w, b) in enumerate(zip(self.ffn_weights, self.ffn_biases, strict=True)):
            z = self._per_model(z, w) + b.unsqueeze(1)
            if k < n_layers - 1:
                z = torch.relu(z)
        if self.task_type == "classification":
            return torch.sigmoid(z)
        return z * self.out_scale.unsqueeze(1) + self.out_mean.unsqueeze(1)

    @staticmethod
    def stack_chemprop_states(states: list[dict[str, torch.Tensor]], ffn_layers: int) -> dict[str, torch.Tensor]:
        """Our state dict from chemprop 2.x ``MPNN`` state dicts (one per member, same shapes).

        Chemprop keys: ``message_passing.W_i/W_h/W_o``, ``predictor.ffn.{k}.{0|2}`` and, for
        regression, ``predictor.output_transform.mean/scale``.
        """
        out = {
            "W_i": torch.stack([s["message_passing.W_i.weight"] for s in states]),
            "W_h": torch.stack([s["message_passing.W_h.weight"] for s in states]),
            "W_o": torch.stack([s["message_passing.W_o.weight"] for s in states]),
            "b_o": torch.stack([s["message_passing.W_o.bias"] for s in states]),
        }
        for k in range(ffn_layers + 1):
            sub = 0 if k == 0 else 2  # block 0 is Sequential(Linear); later blocks Sequential(act, dropout, Linear)
            out[f"ffn_weights.{k}"] = torch.stack([s[f"predictor.ffn.{k}.{sub}.weight"] for s in states])
            out[f"ffn_biases.{k}"] = torch.stack([s[f"predictor.ffn.{k}.{sub}.bias"] for s in states])
        n_tasks = out[f"ffn_biases.{ffn_layers}"].shape[1]
        if "predictor.output_transform.mean" in states[0]:
            out["out_mean"] = torch.stack([s["predictor.output_transform.mean"].reshape(n_tasks) for s in states])
            out["out_scale"] = torch.stack([s["predictor.output_transform.scale"].reshape(n_tasks) for s in states])
        else:
            out["out_mean"] = torch.zeros(len(states), n_tasks)
            out["out_scale"] = torch.ones(len(states), n_tasks)
        return {k: v.float().contiguous() for k, v in out.items()}
