"""The user's own columns (ids, names, notes) kept in front of ours in every batch output."""

from __future__ import annotations

import pandas as pd

__all__ = ["INPUT_PREFIX", "join_user_columns", "renamed_user_columns"]

#: A user column named like one of ours (``error``, ``warnings``, ``smiles``, ``MODEL:TASK``) is kept under this prefix.
INPUT_PREFIX = "input_"


def renamed_user_columns(user: list[str], ours: list[str]) -> dict[str, str]:
    """New names for the user's columns that clash with ours: ``error`` -> ``input_error`` (``input_2_error``, ...)."""
    taken = set(ours) | set(user)
    renames: dict[str, str] = {}
    for name in user:
        if name not in ours:
            continue
        candidate, k = f"{INPUT_PREFIX}{name}", 2
        while candidate in taken:
            candidate, k = f"{INPUT_PREFIX}{k}_{name}", k + 1
        taken.add(candidate)
        renames[name] = candidate
    return renames


def join_user_columns(user: pd.DataFrame, result: pd.DataFrame) -> pd.DataFrame:
    """The user's columns first (renamed where they clash with ours), then ours; rows matched by position.

    Raises:
        ValueError: the two tables do not have the same number of rows.
    """
    if len(user) != len(result):
        raise ValueError(f"{len(user)} input rows but {len(result)} result rows")
    user = user.rename(columns=renamed_user_columns([str(c) for c in user.columns], [str(c) for c in result.columns]))
    return pd.concat([user.reset_index(drop=True), result.reset_index(drop=True)], axis=1)
