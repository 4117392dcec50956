"""One molecule's predictions, from a row of :func:`~workbench.predict.table.prediction_table`, by task type.

``row`` holds ``MODEL:TASK`` (ensemble mean) and ``MODEL:TASK:std`` for every model; ``cards`` maps each
model name to its card, whose tasks say which outputs are probabilities and which carry units.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from workbench.models.card import ModelCard

__all__ = ["classification_bars", "regression_values"]


def classification_bars(row: pd.Series, cards: Mapping[str, ModelCard]) -> pd.DataFrame:
    """Columns ``label`` (``model · task``), ``probability`` and ``std``: one row per classification task."""
    rows = [
        {
            "label": f"{name} · {task.name}",
            "probability": row[f"{name}:{task.name}"],
            "std": row[f"{name}:{task.name}:std"],
        }
        for name, card in cards.items()
        for task in card.tasks
        if task.is_classification
    ]
    return pd.DataFrame(rows, columns=["label", "probability", "std"])


def regression_values(row: pd.Series, cards: Mapping[str, ModelCard]) -> pd.DataFrame:
    """Columns ``model``, ``task``, ``prediction``, ``± std`` and ``units``: one row per regression task."""
    rows = [
        {
            "model": name,
            "task": task.name,
            "prediction": row[f"{name}:{task.name}"],
            "± std": row[f"{name}:{task.name}:std"],
            "units": task.units or "",
        }
        for name, card in cards.items()
        for task in card.tasks
        if not task.is_classification
    ]
    return pd.DataFrame(rows, columns=["model", "task", "prediction", "± std", "units"])
