"""Prediction tables as a chemist reads them: readable task names, per-task rows of one molecule, a screen table.

``row`` / ``table`` hold ``MODEL:TASK`` (ensemble mean) and ``MODEL:TASK:std`` for every model; ``cards`` maps
each model name to its card, whose tasks say which outputs are probabilities and which carry units. Downloads
keep the machine column names; these tables are for the screen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from workbench.models.card import ModelCard
from workbench.predict.endpoints import ENDPOINTS, LEVEL_ICONS, task_label, task_units, verdict
from workbench.predict.panel import champion
from workbench.predict.percentiles import percentile
from workbench.predict.table import domain_columns
from workbench.predict.user_columns import join_user_columns

__all__ = [
    "ROW_COLUMNS",
    "all_percentiles",
    "classification_bars",
    "readable_columns",
    "regression_values",
    "screen_table",
]

#: Per-row columns shown beside every prediction on the screen.
ROW_COLUMNS = ["input", "smiles", "error", "warnings"]


def classification_bars(row: pd.Series, cards: Mapping[str, ModelCard]) -> pd.DataFrame:
    """Columns ``label`` (``readable task · model``), ``probability`` and ``std``: one row per classification task."""
    rows = [
        {
            "label": f"{task_label(card, task.name)} · {name}",
            "probability": row[f"{name}:{task.name}"],
            "std": row[f"{name}:{task.name}:std"],
        }
        for name, card in cards.items()
        for task in card.tasks
        if task.is_classification
    ]
    return pd.DataFrame(rows, columns=["label", "probability", "std"])


def _interval(row: pd.Series, column: str) -> str:
    lo, hi = row.get(f"{column}:lo"), row.get(f"{column}:hi")
    if lo is None or hi is None or not (np.isfinite(float(lo)) and np.isfinite(float(hi))):
        return ""
    return f"{float(lo):.2f} to {float(hi):.2f}"


def regression_values(row: pd.Series, cards: Mapping[str, ModelCard]) -> pd.DataFrame:
    """Columns ``property``, ``model``, ``prediction``, ``± std``, ``90 % interval`` (where the model has one) and
    ``units``: one row per regression task."""
    rows = [
        {
            "property": task_label(card, task.name),
            "model": name,
            "prediction": row[f"{name}:{task.name}"],
            "± std": row[f"{name}:{task.name}:std"],
            "90 % interval": _interval(row, f"{name}:{task.name}"),
            "units": task.units or "",
        }
        for name, card in cards.items()
        for task in card.tasks
        if not task.is_classification
    ]
    return pd.DataFrame(rows, columns=["property", "model", "prediction", "± std", "90 % interval", "units"])


def all_percentiles(
    row: pd.Series, references: Mapping[str, pd.DataFrame], cards: Mapping[str, ModelCard]
) -> pd.DataFrame:
    """Columns ``property``, ``model``, ``prediction`` and ``percentile`` (among approved drugs) for every task."""
    rows = [
        {
            "property": task_label(cards[name], column.removeprefix(name + ":")),
            "model": name,
            "prediction": row[column],
            "percentile": percentile(row[column], reference[column].to_numpy()),
        }
        for name, reference in references.items()
        if name in cards
        for column in reference.columns
        if column in row.index
    ]
    return pd.DataFrame(rows, columns=["property", "model", "prediction", "percentile"])


def readable_columns(columns: Sequence[str], cards: Mapping[str, ModelCard]) -> dict[str, str]:
    """Screen names of a prediction table's model columns: ``Hydration free energy · freesolv_champion (kcal/mol)``."""
    names: dict[str, str] = {}
    for model, card in cards.items():
        for task in card.tasks:
            units = task_units(card, task.name)
            label = f"{task_label(card, task.name)} · {model}" + (f" ({units})" if units else "")
            names[f"{model}:{task.name}"] = label
            names[f"{model}:{task.name}:std"] = f"{label} ± std"
            names[f"{model}:{task.name}:lo"] = f"{label} 90 % interval, low"
            names[f"{model}:{task.name}:hi"] = f"{label} 90 % interval, high"
        score, flag = domain_columns(model)
        names[score] = f"{model}: similarity to training set"
        names[flag] = f"{model}: in domain"
    return {c: names[c] for c in columns if c in names}


def screen_table(
    table: pd.DataFrame,
    cards: Mapping[str, ModelCard],
    keys: Sequence[str],
    user: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The batch screen: the user's columns, input, smiles, error, warnings, then per chosen endpoint its
    recommended model's value (``Name (units)``) and verdict.

    Args:
        table: the prediction table.
        cards: the card of every model in the table.
        keys: :data:`~workbench.predict.endpoints.ENDPOINTS` keys to show (those no model answers are left out).
        user: the user's other columns, row for row (placed first; clashing names get the ``input_`` prefix).
    """
    out = table[[c for c in ROW_COLUMNS if c in table.columns]].copy()
    for endpoint in (e for e in ENDPOINTS if e.key in keys):
        best = champion(endpoint, cards)
        if best is None or best.column not in table.columns:
            continue
        values = table[best.column].astype(float)
        out[f"{endpoint.name} ({endpoint.units})"] = values
        verdicts = [verdict(endpoint.rule, v) for v in values.to_numpy()]
        out[f"{endpoint.name}: verdict"] = [
            "" if not np.isfinite(v) else f"{LEVEL_ICONS[level]} {text}"
            for v, (level, text) in zip(values.to_numpy(), verdicts, strict=True)
        ]
    if user is not None and len(user.columns):
        out = join_user_columns(user, out)
    return out
