"""THE shared inference module and what is built on it: result tables, applicability domain, attributions,
percentiles. Pages, CLI, notebooks and benchmarks all predict through :mod:`workbench.predict.inference`.

The names below are imported on first use (PEP 562): a page that only needs, say, ``predict.table.MAX_ROWS``
does not import torch with this package.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.lazy_exports import lazy_exports

__all__ = [
    "LoadedModel",
    "clear_cache",
    "get_device",
    "get_precision",
    "list_models",
    "load_model",
    "predict",
    "predict_parsed",
    "prediction_columns",
]


__getattr__, __dir__ = lazy_exports(__name__, dict.fromkeys(__all__, "inference"))


if TYPE_CHECKING:
    from workbench.predict.inference import (
        LoadedModel,
        clear_cache,
        get_device,
        get_precision,
        list_models,
        load_model,
        predict,
        predict_parsed,
        prediction_columns,
    )
