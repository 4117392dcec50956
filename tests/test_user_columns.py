"""The user's columns are kept before ours; clashing names are prefixed, never overwritten."""

import pandas as pd
import pytest

from workbench.predict.user_columns import join_user_columns, renamed_user_columns


def test_user_columns_come_first_and_keep_their_values():
    user = pd.DataFrame({"id": ["a", "b"], "name": ["x", "y"]})
    ours = pd.DataFrame({"smiles": ["C", "O"], "error": ["", ""]})
    out = join_user_columns(user, ours)
    assert list(out.columns) == ["id", "name", "smiles", "error"]
    assert out["id"].tolist() == ["a", "b"]


def test_a_user_error_column_is_kept_under_a_prefix_and_ours_keeps_its_name():
    user = pd.DataFrame({"error": ["theirs"], "input_error": ["also theirs"]})
    ours = pd.DataFrame({"error": ["ours"]})
    out = join_user_columns(user, ours)
    assert out["error"].tolist() == ["ours"]
    assert out["input_2_error"].tolist() == ["theirs"]
    assert out["input_error"].tolist() == ["also theirs"]


def test_renames_only_clashing_columns():
    assert renamed_user_columns(["id", "smiles"], ["smiles", "error"]) == {"smiles": "input_smiles"}


def test_row_count_mismatch_is_refused():
    with pytest.raises(ValueError, match="2 input rows but 1"):
        join_user_columns(pd.DataFrame({"id": [1, 2]}), pd.DataFrame({"error": [""]}))
