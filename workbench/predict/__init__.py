"""THE shared inference module and what is built on it: result tables, applicability domain, attributions,
percentiles. Pages, CLI, notebooks and benchmarks all predict through :mod:`workbench.predict.inference`.
"""

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
