"""The pretraining benchmark's GINs as champion-search candidates: validation chooses, test is read at that epoch."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.champions.comparison import champion_comparison
from workbench.champions.gin import ARM_FEATURES, candidate_cells, gin_cells, gin_init
from workbench.champions.selection import champions, summarize_cells
from workbench.champions.ship import ChampionError, choose


def _pretraining() -> pd.DataFrame:
    rows = []
    for dataset, metric, arm, valid, test in [
        ("bace", "roc_auc", "none", 0.70, 0.75),
        ("bace", "roc_auc", "attrmask", 0.90, 0.60),
        ("esol", "rmse", "none", 1.4, 1.5),
        ("tox21", "roc_auc", "none", 0.75, 0.71),  # a data set the search has not run on
        ("bace", "roc_auc", "someday", 0.99, 0.99),  # an arm without a label: left out
    ]:
        for seed in (0, 1):
            rows.append({"dataset": dataset, "arm": arm, "seed": seed, "metric": metric, "epochs": 30,
                         "best_epoch": 7, "valid_at_best": valid + 0.01 * seed, "test_at_best_valid": test,
                         "test_last": test - 0.1, "train_molecules": 100, "seconds": 10.0})  # fmt: skip
    return pd.DataFrame(rows)


def _search() -> pd.DataFrame:
    return pd.DataFrame([
        {"dataset": "bace", "task_type": "classification", "grid": "full", "family": "rf", "model": "rf",
         "features": "ecfp4", "seed": s, "valid_roc_auc": 0.80, "test_roc_auc": 0.85, "seconds": 1.0,
         "params": '{"n_estimators": 200}'} for s in (0, 1)
    ] + [
        {"dataset": "esol", "task_type": "regression", "grid": "full", "family": "svm", "model": "svr",
         "features": "maccs", "seed": 0, "valid_rmse": 1.0, "test_rmse": 1.1, "seconds": 1.0, "params": "{}"}
    ])  # fmt: skip


def test_gin_cells_take_the_best_validation_epoch_and_name_the_initialisation():
    cells = gin_cells(_pretraining())
    assert set(cells["features"]) == {ARM_FEATURES["none"], ARM_FEATURES["attrmask"]}  # unknown arm left out
    bace = cells[(cells["dataset"] == "bace") & (cells["features"] == ARM_FEATURES["attrmask"])]
    assert bace["valid_roc_auc"].tolist() == pytest.approx([0.90, 0.91]) and (bace["test_roc_auc"] == 0.60).all()
    esol = cells[cells["dataset"] == "esol"]
    assert (esol["task_type"] == "regression").all() and esol["valid_rmse"].notna().all()
    assert gin_init(ARM_FEATURES["attrmask"]) == "models/encoders/attrmask" and gin_init(ARM_FEATURES["none"]) is None
    with pytest.raises(ValueError):
        gin_init("ecfp4")


def test_gins_join_only_searched_data_sets_and_can_win_on_validation_not_on_test():
    cells = candidate_cells(_search(), _pretraining())
    assert "tox21" not in set(cells["dataset"])  # no search there: no champion from GINs alone
    chosen = champions(summarize_cells(cells))
    assert chosen["bace"]["champion"]["features"] == ARM_FEATURES["attrmask"]  # best validation, worst test
    assert chosen["esol"]["champion"]["family"] == "svm"  # lower validation RMSE than the GIN
    assert candidate_cells(pd.DataFrame(), _pretraining()).empty
    assert len(candidate_cells(_search(), pd.DataFrame())) == len(_search())


def test_a_gin_champion_is_not_refitted_as_a_tabular_model_but_pointed_to_finetune():
    cells = candidate_cells(_search(), _pretraining())
    with pytest.raises(ChampionError, match=r"train finetune --dataset bace --init models/encoders/attrmask.*rf:ecfp4"):
        choose("bace", cells)
    chosen, row, _ = choose("bace", cells, candidate="rf:ecfp4")  # the best tabular one, asked for by name
    assert chosen.family == "rf" and row["features"] == "ecfp4"


def test_the_comparison_shows_our_gins_beside_the_published_rows():
    table = champion_comparison(candidate_cells(_search(), _pretraining()))
    bace = table[table["dataset"] == "bace"].set_index("model")
    assert bace.loc["GIN, random init (ours)", "mean"] == pytest.approx(0.75)
    assert bace.loc["GIN, AttrMask init (ours)", "source"] == "ours"
    assert "no pretraining (published)" in bace.index
