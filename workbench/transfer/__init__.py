"""The task-transfer lab: learning a target assay with few labels from related assays with many.

* :mod:`~workbench.transfer.protocol`: the label-masking protocol (targets keep a seeded fraction of their
  training labels, helpers 90 %), the paper's target pairs and numbers, random partitions.
* :mod:`~workbench.transfer.data`: a multi-task classification set with graphs and fingerprints.
* :mod:`~workbench.transfer.arms`: the GIN arms (single-task, multi-task, uncertainty weighting, GradNorm,
  knowledge transfer, task-relation EBM); :mod:`~workbench.transfer.baselines`: XGBoost on ECFP4, alone and
  with the helpers' out-of-fold predictions.
* :mod:`~workbench.transfer.cells`: one benchmark cell; :mod:`~workbench.transfer.results`: reading cells,
  paired tests; :mod:`~workbench.transfer.relations`: label correlation and the task graph;
  :mod:`~workbench.transfer.figures`: Vega-Lite figures; :mod:`~workbench.transfer.live`: the page's live run.

Names are imported on first use, so reading the protocol's constants loads no torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.lazy_exports import lazy_exports

_SOURCES = {
    "ARMS": "arms",
    "TrainSettings": "arms",
    "run_gin_arm": "arms",
    "run_baseline": "baselines",
    "CellKey": "cells",
    "run_arm": "cells",
    "run_cell": "cells",
    "TransferData": "data",
    "load_transfer_data": "data",
    "LabelFractionError": "protocol",
    "PAPER_AUC": "protocol",
    "PAPER_TARGETS": "protocol",
    "TransferSetupError": "protocol",
    "mask_labels": "protocol",
    "label_correlation": "relations",
    "task_graph": "relations",
    "paired_comparison": "results",
    "task_scores": "results",
}

__all__ = [
    "ARMS",
    "PAPER_AUC",
    "PAPER_TARGETS",
    "CellKey",
    "LabelFractionError",
    "TrainSettings",
    "TransferData",
    "TransferSetupError",
    "label_correlation",
    "load_transfer_data",
    "mask_labels",
    "paired_comparison",
    "run_arm",
    "run_baseline",
    "run_cell",
    "run_gin_arm",
    "task_graph",
    "task_scores",
]

__getattr__, __dir__ = lazy_exports(__name__, _SOURCES)

if TYPE_CHECKING:
    from workbench.transfer.arms import ARMS, TrainSettings, run_gin_arm
    from workbench.transfer.baselines import run_baseline
    from workbench.transfer.cells import CellKey, run_arm, run_cell
    from workbench.transfer.data import TransferData, load_transfer_data
    from workbench.transfer.protocol import (
        PAPER_AUC,
        PAPER_TARGETS,
        LabelFractionError,
        TransferSetupError,
        mask_labels,
    )
    from workbench.transfer.relations import label_correlation, task_graph
    from workbench.transfer.results import paired_comparison, task_scores
