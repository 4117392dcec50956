"""Checkpoints from other projects, run by the workbench's own inference path.

Importing this package registers their architecture builders with
:func:`workbench.predictors.register_architecture` (``chemprop_mpnn`` for ADMET-AI,
``minimol_head`` for heads on MiniMol embeddings).
"""

from workbench.external import admet_ai, minimol

__all__ = ["admet_ai", "minimol"]
