"""THE shared inference module and what is built on it: result tables, applicability domain, attributions,
percentiles. Pages, CLI, notebooks and benchmarks all predict through :mod:`workbench.predict.inference`.

The names below are imported on first use (PEP 562): a page that only needs, say, ``predict.table.MAX_ROWS``
does not import torch with this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

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


def __getattr__(name: str) -> object:
    if name not in __all__:
        raise AttributeError(f"module 'workbench.predict' has no attribute '{name}'")
    value = getattr(importlib.import_module("workbench.predict.inference"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


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
