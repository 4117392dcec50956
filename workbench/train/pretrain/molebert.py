"""Mole-BERT-style pretraining (Xia et al., ICLR 2023): a VQ-VAE atom tokenizer, then MAM + TMCL.

One run, two stages, one command (``workbench train pretrain --method molebert``):

1. **Tokenizer** (the first ``tokenizer_epochs`` epochs): the
   :class:`~workbench.nn.vq_tokenizer.VQTokenizer` learns to reconstruct atom types, chirality and
   bond types from its quantized atom embeddings; the codebook (512 codes) is split by atom family
   (carbon 377, nitrogen 55, oxygen 54, others 26), so a carbon atom only gets a carbon code.
   Only the tokenizer receives gradients (the shipped GIN is untouched).
2. **MAM + TMCL** (the next ``epochs`` epochs): the tokenizer is frozen (eval mode, no gradient) and
   labels every atom of the unmasked molecule with its code id. Two views of each molecule are
   masked (``mask_rate`` 0.15 and ``mask_rate2`` 0.30, independent draws, the AttrMask mask token);
   masked atom modelling predicts the code ids of each view's masked atoms (one linear head per
   view, cross-entropy in float64); triplet masked contrastive learning adds GraphCL's NT-Xent
   between the two views' projected mean-pooled graph representations (temperature 0.1) and
   ``λ`` × a triplet loss with the unmasked molecule as anchor (no gradient), the 0.15 view as
   positive and the 0.30 view as negative. ``L = L_MAM + L_NT-Xent + λ·L_triplet``.

Both stages use the one Adam (parameters without a gradient in a step are not updated, so this is
the released code's separate optimizers), the runner's batch order and the saved mask generator:
an interrupted run resumes to the same weights. The stage follows from the epoch, which follows
from the saved step.

Where the paper leaves a choice open (and the released ``vqvae.py`` / ``pretrain.py`` were read to
decide): β = 0.25, decoders as in ``vqvae.py``, λ = 0.1 and margin 0.0 as in ``pretrain.py``
(both options here), the triplet anchor computed without gradient as there; no bond masking or
bond prediction in MAM (``--mask_edge 1`` there; here atoms only, as in our AttrMask); the tokenizer
stage's default length is ``vqvae.py``'s 60 epochs; the frozen tokenizer runs in eval mode (the
released code leaves its batch norm in training mode); the codebook split is contiguous (see
:mod:`~workbench.nn.vq_tokenizer`).
"""

from __future__ import annotations

import torch

from workbench.nn.masked_atoms import masked_atom_accuracy, masked_atom_loss
from workbench.nn.molebert import MoleBERTModel, nt_xent, triplet_loss
from workbench.nn.vq_tokenizer import ATOM_FAMILIES
from workbench.train.pretrain.config import PretrainConfig
from workbench.train.pretrain.corpus_loader import GraphBatch
from workbench.train.pretrain.masking import mask_atoms

__all__ = ["MoleBERT"]

_NAN = float("nan")


class MoleBERT:
    """The Mole-BERT method: its model, the tokenizer stage before ``cfg.epochs``, and one step's loss."""

    name = "molebert"
    task = "masked_atom_token"
    title = "Mole-BERT-style (Xia et al. 2023: VQ-VAE atom tokenizer, masked atom modelling, triplet contrast)"
    metrics = ("stage", "accuracy", "masked_atoms", "reconstruction", "vq", "mam", "contrastive", "triplet")

    def build(self, cfg: PretrainConfig) -> MoleBERTModel:
        return MoleBERTModel(
            cfg.num_layer, cfg.emb_dim, cfg.drop_ratio, cfg.jk, tuple(cfg.codebook_split), cfg.commitment_cost
        )

    def extra_epochs(self, cfg: PretrainConfig) -> int:
        """Epochs of the tokenizer stage, run before the ``cfg.epochs`` of MAM + TMCL."""
        return cfg.tokenizer_epochs

    def start_epoch(self, model: MoleBERTModel, epoch: int, cfg: PretrainConfig) -> None:
        """Choose the stage of run epoch ``epoch`` (the first ``tokenizer_epochs`` train the tokenizer)."""
        model.stage = "tokenizer" if epoch < cfg.tokenizer_epochs else "mam"

    def recipe(self, cfg: PretrainConfig) -> dict[str, object]:
        return {
            "reference": "Xia et al., ICLR 2023 (Mole-BERT); released code junxia97/Mole-BERT vqvae.py, pretrain.py",
            "stages": [
                f"tokenizer: {cfg.tokenizer_epochs} epochs (VQ-VAE over GIN atom embeddings)",
                f"MAM + TMCL: {cfg.epochs} epochs (tokenizer frozen, eval mode)",
            ],
            "tokenizer_epochs": cfg.tokenizer_epochs,
            "codebook": dict(zip(ATOM_FAMILIES, [int(s) for s in cfg.codebook_split], strict=True)),
            "codebook_layout": "contiguous family ranges (released code: [0:377] [378:433] [434:488] [489:511])",
            "tokenizer_loss": "CE(atom type) + CE(chirality) + CE(bond type) + ||sg[z]-e||^2 + beta*||z-sg[e]||^2",
            "commitment_cost": cfg.commitment_cost,
            "tokenizer_decoders": "PReLU, bias-free linear, one GIN layer (as vqvae.py); bonds: linear(e_i + e_j)",
            "mask_rates": [cfg.mask_rate, cfg.mask_rate2],
            "masked_atoms_per_molecule": "int(n_atoms * mask_rate + 1), two independent views",
            "mask_edge": False,
            "mam": "linear head per view, node representation -> code id; CE over masked atoms (float64), summed",
            "tmcl": "NT-Xent(view 0.15, view 0.30) + lambda * triplet(anchor unmasked, positive 0.15, negative 0.30)",
            "temperature": cfg.temperature,
            "triplet_margin": cfg.triplet_margin,
            "triplet_weight_lambda": cfg.triplet_weight,
            "triplet_anchor": "projected mean-pooled unmasked graph, no gradient (as pretrain.py)",
            "projection": "Linear-ReLU-Linear on the mean-pooled GIN output",
            "choices": "where the paper is silent the released code decided; see workbench/train/pretrain/molebert.py",
        }

    def step(
        self, model: MoleBERTModel, batch: GraphBatch, generator: torch.Generator, cfg: PretrainConfig
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """One step of the model's current stage; masks are drawn on the CPU from ``generator``."""
        device = next(model.parameters()).device
        x, edge_index, edge_attr = batch.x.to(device), batch.edge_index.to(device), batch.edge_attr.to(device)
        if model.stage == "tokenizer":
            model.tokenizer.train()
            out = model.tokenizer(x, edge_index, edge_attr)
            metrics = dict.fromkeys(self.metrics, _NAN)
            metrics.update(
                stage=0.0,
                accuracy=out.accuracy,
                masked_atoms=0,
                reconstruction=float(out.reconstruction.detach()),
                vq=float(out.vq.detach()),
            )
            return out.loss, metrics
        model.tokenizer.eval()
        codes = model.tokenizer.encode(x, edge_index, edge_attr)
        views = [mask_atoms(batch.x, batch.ptr, rate, generator) for rate in (cfg.mask_rate, cfg.mask_rate2)]
        mam, graphs, accuracy, masked = torch.zeros((), dtype=torch.float64, device=device), [], 0.0, 0
        for view, head in zip(views, (model.mam_head1, model.mam_head2), strict=True):
            indices = view.indices.to(device)
            nodes, graph = model.encode(view.x.to(device), edge_index, edge_attr, batch.ptr)
            logits, labels = head(nodes[indices]), codes[indices]
            mam = mam + masked_atom_loss(logits, labels)
            accuracy += float(masked_atom_accuracy(logits, labels)) / len(views)
            masked += len(indices)
            graphs.append(graph)
        with torch.no_grad(), torch.autocast(device.type, enabled=False):  # float32 (CPU sparse inference path)
            _, anchor = model.encode(x, edge_index, edge_attr, batch.ptr)
        contrastive = nt_xent(graphs[0], graphs[1], cfg.temperature)
        triplet = triplet_loss(anchor, graphs[0], graphs[1], cfg.triplet_margin)
        loss = mam + contrastive + cfg.triplet_weight * triplet
        metrics = dict.fromkeys(self.metrics, _NAN)
        metrics.update(
            stage=1.0,
            accuracy=accuracy,
            masked_atoms=masked,
            mam=float(mam.detach()),
            contrastive=float(contrastive.detach()),
            triplet=float(triplet.detach()),
        )
        return loss, metrics
