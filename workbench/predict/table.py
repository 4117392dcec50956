"""Prediction tables with trust signals: ensemble spread and applicability domain."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from workbench import chem
from workbench.data import DataUnavailableError
from workbench.models import CheckpointError
from workbench.predict.applicability import AD_THRESHOLD, domain_scores
from workbench.predict.inference import LoadedModel, load_model, predict_parsed

__all__ = ["MAX_ROWS", "TooManyRowsError", "domain_columns", "prediction_table"]

#: Largest batch the app accepts in one go.
MAX_ROWS = 10_000


class TooManyRowsError(ValueError):
    """More molecules than :data:`MAX_ROWS`."""


def domain_columns(model: str) -> tuple[str, str]:
    """Names of a model's applicability-domain score and flag columns."""
    return f"{model}:AD", f"{model}:in_domain"


def prediction_table(
    smiles: Sequence[str | None],
    models: Sequence[str],
    *,
    with_domain: bool = True,
    callback: Callable[[int, int], None] | None = None,
    max_rows: int = MAX_ROWS,
) -> tuple[pd.DataFrame, list[str]]:
    """Predict every model for every molecule, plus an applicability-domain score per model.

    Returns:
        The table (one row per input, ``error`` and ``warnings`` columns, ``MODEL:TASK``, ``MODEL:TASK:std``,
        ``MODEL:AD`` = max Tanimoto to the model's training set, ``MODEL:in_domain``) and
        notes about models whose training data could not be found (their AD is NaN).

    Raises:
        TooManyRowsError: more than ``max_rows`` inputs.
    """
    if len(smiles) > max_rows:
        raise TooManyRowsError(
            f"{len(smiles):,} molecules is more than the {max_rows:,} the app handles at once; "
            "split the file or use `workbench predict` on the command line."
        )
    parsed = chem.parse(smiles, inchikey=False).drop(columns=["inchikey"])
    loaded: list[LoadedModel] = [load_model(m) for m in models]
    table = predict_parsed(parsed, loaded, callback=callback)
    notes: list[str] = []
    if with_domain:
        mols = parsed.attrs["mols"]
        for model in loaded:
            score_col, flag_col = domain_columns(model.name)
            try:
                scores = domain_scores(mols, model.checkpoint)
            except (DataUnavailableError, CheckpointError) as exc:
                notes.append(f"{model.name}: applicability domain unavailable: {exc}")
                scores = np.full(len(mols), np.nan)
            table[score_col] = scores
            table[flag_col] = np.where(np.isnan(scores), None, scores >= AD_THRESHOLD)
    return table, notes
