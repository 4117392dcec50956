"""GraphMVP-style 2D–3D pretraining (Liu et al., ICLR 2022): the GIN learns from conformers through a SchNet.

Recipe (``chao1224/GraphMVP`` ``pretrain_GraphMVP.py`` and ``submit_pre_training_GraphMVP.sh``):
GIN 5×300, JK ``last``, no dropout, mean pooling; SchNet of width 300 (128 filters, 6 interactions,
51 Gaussians, cutoff 10 Å, mean readout; :mod:`workbench.nn.schnet`, written here because
``torch_cluster`` is not installable); ``L = α1·L_C + α2·L_G`` with the contrastive ``L_C``
EBM-NCE (InfoNCE optional) on L2-normalized representations at temperature 0.1 and the generative
``L_G`` the variational representation reconstruction (MSE to the detached other view plus β·KL,
β = 1); α1 = α2 = 1 (their grid: α2 ∈ {0.1, 1}, β ∈ {1, 2}, T ∈ {0.1, 0.2}); Adam 1e-3, SchNet and
the 3D → 2D head at 0.1× that learning rate; batch 256; no 2D masking (their final scripts use 0).

Where this differs, by choice:

* the conformers are ETKDG + MMFF94s ones made here (``workbench data conformers``), not GEOM's
  CREST ensembles, and both views use heavy atoms only (GEOM's molecules carry explicit hydrogens
  in both views; the downstream featurizer has none);
* each step draws one conformer per molecule (uniformly, from the run's saved generator); GraphMVP
  lists every (molecule, conformer) pair as a sample, so one of its epochs is ``conformers`` of ours;
* molecules without a conformer (embedding failed, timed out, unparsable) are left out of the
  training set; their count is logged and recorded in the card's recipe;
* a batch of a single molecule (possible as the last of an epoch) has no negatives and cannot pass
  a batch norm: it contributes a zero loss.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch

from workbench.data.corpus_conformers import CorpusConformers, load_corpus_conformers
from workbench.data.corpus_files import CorpusInfo
from workbench.nn.graphmvp import GraphMVPModel, contrastive_loss
from workbench.train.pretrain.config import PretrainConfig
from workbench.train.pretrain.corpus_loader import PackedGraphs

__all__ = ["ConformerBatch", "ConformerGraphs", "GraphMVP"]


class ConformerBatch(NamedTuple):
    """A graph batch (as :class:`~workbench.train.pretrain.corpus_loader.GraphBatch`) with every conformer.

    ``positions`` holds each molecule's ``n_conformers`` conformers one after the other (float32, Å).
    """

    x: torch.Tensor
    edge_index: torch.Tensor
    edge_attr: torch.Tensor
    ptr: torch.Tensor
    num_graphs: int
    positions: torch.Tensor
    n_conformers: torch.Tensor


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    shift = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) + shift


@dataclass(frozen=True)
class ConformerGraphs:
    """The corpus molecules that have conformers: their graphs and conformer blocks, indexable like PackedGraphs."""

    graphs: PackedGraphs
    graph_index: np.ndarray  # per training molecule: its index in ``graphs``
    conformer_index: np.ndarray  # per training molecule: its index in ``conformers``
    conformers: CorpusConformers
    failed: np.ndarray  # corpus rows the featurizer could not read (as PackedGraphs.failed)

    def __len__(self) -> int:
        return len(self.graph_index)

    def batch(self, rows: np.ndarray) -> ConformerBatch:
        rows = np.asarray(rows, dtype=np.int64)
        g = self.graphs.batch(self.graph_index[rows])
        j = self.conformer_index[rows]
        c = self.conformers
        blocks = _ranges(c.offsets[j], c.n_atoms[j] * c.n_conformers[j])
        positions = torch.from_numpy(c.positions[blocks].astype(np.float32))
        return ConformerBatch(*g, positions, torch.from_numpy(c.n_conformers[j].copy()))


def conformer_graphs(graphs: PackedGraphs, conformers: CorpusConformers) -> tuple[ConformerGraphs, dict[str, int]]:
    """Pair each featurized corpus molecule with its conformers; counts of what was left out."""
    n_rows = len(graphs) + len(graphs.failed)
    graph_of_row = np.full(n_rows, -1, dtype=np.int64)
    graph_of_row[np.setdiff1d(np.arange(n_rows), graphs.failed)] = np.arange(len(graphs))
    g = graph_of_row[conformers.rows]
    atoms = graphs.atom_ptr[1:] - graphs.atom_ptr[:-1]
    keep = (g >= 0) & (atoms[np.maximum(g, 0)] == conformers.n_atoms)
    counts = {
        "corpus_rows": n_rows,
        "featurized": len(graphs),
        "with_conformers": int(keep.sum()),
        "without_conformers": len(graphs) - int(keep.sum()),
        "atom_count_mismatches": int(((g >= 0) & ~keep).sum()),
    }
    pairs = ConformerGraphs(graphs, g[keep], np.flatnonzero(keep), conformers, graphs.failed)
    return pairs, counts


def choose_conformers(batch: ConformerBatch, generator: torch.Generator) -> torch.Tensor:
    """One conformer per molecule, drawn uniformly: the positions ``[n_atoms, 3]`` aligned with ``batch.x``."""
    atoms = batch.ptr[1:] - batch.ptr[:-1]
    k = batch.n_conformers.to(torch.int64)
    choice = torch.floor(torch.rand(len(k), generator=generator, dtype=torch.float64) * k).to(torch.int64)
    block_start = torch.cumsum(k * atoms, 0) - k * atoms
    within = torch.arange(int(atoms.sum())) - torch.repeat_interleave(batch.ptr[:-1], atoms)
    return batch.positions[torch.repeat_interleave(block_start + choice * atoms, atoms) + within]


class GraphMVP:
    """The GraphMVP method: a GIN and a SchNet trained to agree on each molecule (2D graph vs a conformer)."""

    name = "graphmvp"
    task = "2d_3d_contrastive_and_generative"
    title = "GraphMVP (Liu et al. 2022: 2D GIN and 3D SchNet, EBM-NCE + variational reconstruction)"
    metrics = ("accuracy", "contrastive", "generative")

    def __init__(self) -> None:
        self.hashed_extra: dict[str, object] = {}
        self.data: dict[str, object] = {}

    def build(self, cfg: PretrainConfig) -> GraphMVPModel:
        return GraphMVPModel(cfg.num_layer, cfg.emb_dim, cfg.drop_ratio, cfg.jk, beta=cfg.beta)

    def prepare(
        self, graphs: PackedGraphs, corpus: CorpusInfo, cfg: PretrainConfig, log: Callable[[str], None] = print
    ) -> ConformerGraphs:
        """The training set: the corpus molecules with conformers in the corpus's conformer cache."""
        conformers = load_corpus_conformers(corpus, cfg.conformers)
        pairs, counts = conformer_graphs(graphs, conformers)
        log(
            f"{counts['with_conformers']:,} of {counts['featurized']:,} molecules have conformers "
            f"({conformers.folder.name}); {counts['without_conformers']:,} without are left out"
        )
        self.hashed_extra = {"conformer_cache_sha256": conformers.sha256}
        settings = conformers.report["settings"]
        self.data = {
            "conformer_cache": conformers.folder.name,
            "conformer_cache_sha256": conformers.sha256,
            "conformer_settings": {k: settings[k] for k in ("conformers", "method", "optimize", "seed", "prune_rms")},
            "conformers_per_molecule": conformers.report.get("conformers_per_molecule"),
            **counts,
        }
        return pairs

    def param_groups(self, model: GraphMVPModel, cfg: PretrainConfig) -> list[dict]:
        """GraphMVP's groups: GIN and 2D → 3D head at ``lr``, SchNet and 3D → 2D head at ``lr · schnet_lr_scale``."""
        slow = cfg.lr * cfg.schnet_lr_scale
        return [
            {"params": [*model.gnn.parameters(), *model.vrr_2d_to_3d.parameters()], "lr": cfg.lr},
            {"params": [*model.schnet.parameters(), *model.vrr_3d_to_2d.parameters()], "lr": slow},
        ]

    def recipe(self, cfg: PretrainConfig) -> dict[str, object]:
        return {
            "reference": "chao1224/GraphMVP src_classification/pretrain_GraphMVP.py (Liu et al., ICLR 2022)",
            "loss": "alpha_1 * contrastive + alpha_2 * generative (both symmetric over 2D->3D and 3D->2D)",
            "contrastive": cfg.cl_loss,
            "temperature": cfg.temperature,
            "normalize": True,
            "negatives": "1 per molecule: the next molecule of the batch (EBM-NCE); the whole batch (InfoNCE)",
            "generative": "variational representation reconstruction: MSE to the detached other view + beta * KL",
            "beta": cfg.beta,
            "alpha_1": cfg.alpha_1,
            "alpha_2": cfg.alpha_2,
            "schnet": "workbench.nn.schnet (plain torch): width emb_dim, 128 filters, 6 interactions, "
            "51 gaussians, cutoff 10 A, mean readout; every neighbour within the cutoff",
            "schnet_lr_scale": cfg.schnet_lr_scale,
            "pooling": "mean",
            "conformer_sampling": "one conformer per molecule per step, uniform, from the run's generator",
            "atoms": "heavy atoms in both views",
            **self.data,
        }

    def step(
        self, model: GraphMVPModel, batch: ConformerBatch, generator: torch.Generator, cfg: PretrainConfig
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """Draw a conformer per molecule and the reconstruction noise (CPU, ``generator``); the loss and metrics."""
        device = next(model.parameters()).device
        if batch.num_graphs < 2:
            zero = sum(p.sum() for p in model.parameters()) * 0.0
            return zero, {"accuracy": float("nan"), "contrastive": float("nan"), "generative": float("nan")}
        pos = choose_conformers(batch, generator)
        dim = model.gnn.out_dim
        noise_2d = torch.randn(batch.num_graphs, dim, generator=generator)
        noise_3d = torch.randn(batch.num_graphs, dim, generator=generator)
        h2d, h3d = model.views(
            batch.x.to(device), batch.edge_index.to(device), batch.edge_attr.to(device), pos.to(device), batch.ptr
        )
        contrastive, accuracy = contrastive_loss(h2d, h3d, cfg.cl_loss, cfg.temperature, normalize=True)
        generative = model.reconstruction(h2d, h3d, noise_2d.to(device), noise_3d.to(device))
        loss = cfg.alpha_1 * contrastive + cfg.alpha_2 * generative
        return loss, {
            "accuracy": float(accuracy),
            "contrastive": float(contrastive.detach()),
            "generative": float(generative.detach()),
        }
