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
    device: str = "cpu"
    threads: int | None = None
    amp: bool | None = None  # None: on for CUDA (bfloat16 autocast), off on the CPU
    weights_dtype: str = "float16"  # the shipped encoder's floating-point weights
    save_every_s: float = 300.0  # resumable state at least this often (and after every epoch)
    name: str | None = None  # run folder name (default <method>-<molecules or all>-seed<seed>)

    @property
    def run_name(self) -> str:
        return self.name or f"{self.method}-{self.molecules or 'all'}-seed{self.seed}"


def hashed_config(cfg: PretrainConfig, corpus_sha256: str) -> dict[str, object]:
    """What decides a run's weights; a run folder refuses to resume under another one.

    Device, threads, AMP, the save interval and paths are left out: a run may move between machines
    (the numerics may then differ slightly); the corpus enters by its sha256.
    """
    return {
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
