"""The configuration of a pretraining run and the part of it that decides the weights (hashed)."""

from __future__ import annotations

from dataclasses import dataclass

from workbench.featurizers.graph import FEATURIZER_VERSION

__all__ = ["PretrainConfig", "hashed_config"]


@dataclass
class PretrainConfig:
    """Everything ``workbench train pretrain`` takes; defaults are pretrain-gnns' AttrMask recipe.

    ``molecules`` (a seeded sample of the corpus, ``None`` = all of it) and ``seed`` (sample,
    initialization, batch order and masks) decide the run together with the recipe.
    """

    method: str = "attrmask"
    corpus: str | None = None  # corpus folder or file (default: <WORKBENCH_CACHE_DIR>/corpus/corpus.csv)
    molecules: int | None = None
    seed: int = 0
    epochs: int = 100
    batch_size: int = 256
    lr: float = 1e-3
    weight_decay: float = 0.0
    num_layer: int = 5
    emb_dim: int = 300
    drop_ratio: float = 0.0
    jk: str = "last"
    mask_rate: float = 0.15
    # GraphMVP (--method graphmvp; defaults from chao1224/GraphMVP's pretraining scripts)
    conformers: int = 5  # the conformer cache to use (workbench data conformers --conformers)
    cl_loss: str = "ebm_nce"  # or "infonce"; its temperature is `temperature` (below, shared)
    beta: float = 1.0  # weight of the KL term of the variational reconstruction
    alpha_1: float = 1.0  # contrastive weight
    alpha_2: float = 1.0  # generative (reconstruction) weight
    schnet_lr_scale: float = 0.1
    device: str = "cpu"
    threads: int | None = None
    amp: bool | None = None  # None: on for CUDA (bfloat16 autocast), off on the CPU
    weights_dtype: str = "float16"  # the shipped encoder's floating-point weights
    save_every_s: float = 300.0  # resumable state at least this often (and after every epoch)
    name: str | None = None  # run folder name (default <method>-<molecules or all>-seed<seed>)
    # Mole-BERT only (hashed only when method == "molebert"); see workbench/train/pretrain/molebert.py
    tokenizer_epochs: int = 60  # VQ-VAE tokenizer stage, run before `epochs` of MAM + TMCL
    codebook_split: tuple[int, ...] = (377, 55, 54, 26)  # codes for carbon, nitrogen, oxygen, others
    commitment_cost: float = 0.25
    mask_rate2: float = 0.30  # the second, heavier masked view (the first uses mask_rate)
    temperature: float = 0.1  # contrastive temperature, shared: GraphMVP (EBM-NCE / InfoNCE), Mole-BERT (NT-Xent)
    triplet_margin: float = 0.0
    triplet_weight: float = 0.1  # lambda

    @property
    def run_name(self) -> str:
        return self.name or f"{self.method}-{self.molecules or 'all'}-seed{self.seed}"


def hashed_config(cfg: PretrainConfig, corpus_sha256: str) -> dict[str, object]:
    """What decides a run's weights; a run folder refuses to resume under another one.

    Device, threads, AMP, the save interval and paths are left out: a run may move between machines
    (the numerics may then differ slightly); the corpus enters by its sha256.
    """
    hashed: dict[str, object] = {
        "method": cfg.method,
        "corpus_sha256": corpus_sha256,
        "molecules": cfg.molecules,
        "seed": cfg.seed,
        "epochs": cfg.epochs,
        "batch_size": cfg.batch_size,
        "lr": cfg.lr,
        "weight_decay": cfg.weight_decay,
        "num_layer": cfg.num_layer,
        "emb_dim": cfg.emb_dim,
        "drop_ratio": cfg.drop_ratio,
        "jk": cfg.jk,
        "mask_rate": cfg.mask_rate,
        "featurizer_version": FEATURIZER_VERSION,
    }
    if cfg.method == "graphmvp":  # added only here, so the hashes of other methods' runs stay as they were
        keys = ("conformers", "cl_loss", "temperature", "beta", "alpha_1", "alpha_2", "schnet_lr_scale")
        hashed["graphmvp"] = {k: getattr(cfg, k) for k in keys}
    if cfg.method == "molebert":  # added only here, so the hashes of other methods' runs stay as they were
        hashed["molebert"] = {
            "tokenizer_epochs": cfg.tokenizer_epochs,
            "codebook_split": [int(s) for s in cfg.codebook_split],
            "commitment_cost": cfg.commitment_cost,
            "mask_rate2": cfg.mask_rate2,
            "temperature": cfg.temperature,
            "triplet_margin": cfg.triplet_margin,
            "triplet_weight": cfg.triplet_weight,
        }
    return hashed
