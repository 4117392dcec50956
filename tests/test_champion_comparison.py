"""Our champions beside GraphMVP's published rows: chosen on validation, reported on test, nothing invented."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.champions.comparison import OURS, champion_comparison, read_champion_cells
from workbench.champions.published import GRAPHMVP


def _cells() -> pd.DataFrame:
    rows = []
    # bace: rf wins on validation although xgboost is better on test; freesolv has no published row
    for seed, (rf_valid, rf_test, xgb_valid, xgb_test) in enumerate(
        [(0.80, 0.70, 0.75, 0.90), (0.82, 0.72, 0.74, 0.92)]
    ):
        rows += [
            {"dataset": "bace", "task_type": "classification", "family": "rf", "features": "ecfp4", "seed": seed,
             "valid_roc_auc": rf_valid, "test_roc_auc": rf_test, "seconds": 1.0},
            {"dataset": "bace", "task_type": "classification", "family": "xgboost", "features": "maccs", "seed": seed,
             "valid_roc_auc": xgb_valid, "test_roc_auc": xgb_test, "seconds": 1.0},
        ]  # fmt: skip
    for seed, (valid, test) in enumerate([(2.0, 2.5), (2.2, 2.7)]):
        rows.append({"dataset": "freesolv", "task_type": "regression", "family": "svm", "features": "minimol",
                     "seed": seed, "valid_rmse": valid, "test_rmse": test, "seconds": 1.0})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_champion_is_chosen_on_validation_and_reported_on_test_beside_the_published_rows():
    table = champion_comparison(_cells())
    ours = table[table["model"] == OURS].set_index("dataset")
    assert ours.loc["bace", "mean"] == pytest.approx(0.71) and ours.loc["bace", "std"] == pytest.approx(0.01)
    assert "rf on ecfp4" in ours.loc["bace", "detail"]
    assert ours.loc["freesolv", "metric"] == "rmse" and ours.loc["freesolv", "mean"] == pytest.approx(2.6)
    bace = table[(table["dataset"] == "bace") & (table["source"] == "published")]
    assert dict(zip(bace["model"], bace["mean"], strict=True)) == {
        f"{name} (published)": values["bace"] for name, values in GRAPHMVP.items()
    }
    assert table[(table["dataset"] == "freesolv") & (table["source"] == "published")].empty  # none published


def test_no_cells_or_no_file_give_an_empty_table(tmp_path):
    assert champion_comparison(pd.DataFrame()).empty
    assert read_champion_cells(tmp_path / "missing.csv").empty
    (tmp_path / "empty.csv").write_text("")
    assert read_champion_cells(tmp_path / "empty.csv").empty
