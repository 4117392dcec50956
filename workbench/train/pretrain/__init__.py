"""Self-supervised pretraining of GIN encoders on the workbench corpus (``workbench train pretrain``).

Methods: AttrMask (:mod:`~workbench.train.pretrain.attrmask`), GraphMVP (:mod:`~workbench.train.pretrain.graphmvp`),
Mole-BERT (:mod:`~workbench.train.pretrain.molebert`).
The loop, run folder, logs and the shipped encoder are shared by every method (:mod:`~workbench.train.pretrain.runner`).
"""

from workbench.train.pretrain.config import PretrainConfig
from workbench.train.pretrain.runner import METHODS, PretrainInterrupted, pretrain

__all__ = ["METHODS", "PretrainConfig", "PretrainInterrupted", "pretrain"]
