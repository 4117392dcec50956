"""IFM as the paper ran it: the column filters, the search space, the search and the resumable benchmark."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from rdkit import Chem

from tests.data_fixtures import tiny_tables
from workbench.cliffs.ifm_faithful import faithful_features, sample_configs, search, select_columns
from workbench.data.splits import Split


def test_low_variance_and_correlated_columns_are_removed_on_training_rows() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=100)
    raw = np.stack([a, 0.01 * rng.normal(size=100), a * 2 + 0.001 * rng.normal(size=100), rng.normal(size=100)], 1)
    kept, low, correlated = select_columns(raw, np.arange(80))
    assert kept == [0, 3] and (low, correlated) == (1, 1)  # column 1: tiny variance; column 2: copy of column 0


def test_features_are_standardized_with_training_statistics_only() -> None:
    smiles = ["CCO", "CCN", "c1ccccc1O", "CC(=O)O", "CCCCCC", "c1ccncc1", "CC(C)CO", "OCC(O)CO", "CCOC(=O)C", "N#CC"]
    mols = [Chem.MolFromSmiles(s) for s in smiles]
    train = np.arange(8)
    features = faithful_features(mols, train)
    assert features.x.shape == (10, len(features.columns)) and features.x.dtype == np.float32
    assert np.allclose(features.x[train].mean(axis=0), 0, atol=1e-5)
    assert features.removed_low_variance > 0 and all(c.startswith(("rdkit2d:", "maccs:")) for c in features.columns)


def test_the_search_space_is_the_papers_and_seeded() -> None:
    ifm = sample_configs(200, ifm=True, seed=3)
    assert ifm == sample_configs(200, ifm=True, seed=3) and ifm != sample_configs(200, ifm=True, seed=4)
    assert all(1 <= c["d"] <= 127 and 0.01 <= c["sigma"] <= 100 for c in ifm)
    assert all(0 <= c["l2"] <= 0.01 and 0 <= c["dropout"] <= 0.5 for c in ifm)
    assert {w for c in ifm for w in c["widths"]} == {64, 128, 256, 512}
    assert max(c["sigma"] for c in ifm) > 10 and min(c["sigma"] for c in ifm) < 0.1  # log-uniform reaches both ends
    assert all("d" not in c and "sigma" not in c for c in sample_configs(5, ifm=False, seed=3))


@pytest.mark.parametrize("ifm", [False, True])
def test_search_keeps_the_trial_best_on_validation(ifm: bool) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(120, 4)).astype(np.float32)
    y = (x[:, 0] - 0.5 * x[:, 1])[:, None]
    split = Split(np.arange(90), np.arange(90, 105), np.arange(105, 120), "random")
    best, trials = search(x, y, split, False, ifm=ifm, budget=3, epochs=5, patience=3, seed=0)
    assert len(trials) == 3 and best.valid == min(t.valid for t in trials)
    assert best.predictions.shape == (15, 1) and np.isfinite(best.test)


def test_bench_runs_resumes_and_reports(data_dirs, tmp_path) -> None:
    from bench import ifm as bench

    moleculenet = data_dirs[0] / "moleculenet"
    moleculenet.mkdir()
    tiny_tables(moleculenet)
    argv = ["--datasets", "esol", "--targets", "--repetitions", "2", "--budget", "2", "--epochs", "3",
            "--patience", "2", "--out", str(tmp_path)]  # fmt: skip
    assert bench.main(argv) == 0
    cells = pd.read_csv(tmp_path / "ifm.csv")
    assert len(cells) == 4 and set(cells["arm"]) == {"MLP", "IFM-MLP"} and set(cells["repetition"]) == {0, 1}
    assert bench.main(argv) == 0 and len(pd.read_csv(tmp_path / "ifm.csv")) == 4  # resumed: nothing re-run
    text = (tmp_path / "ifm.md").read_text()
    assert "| esol | rmse | 2 | 2 |" in text and "/ 2 |" in text
    assert "this command fitted no cell" in text  # the second run resumed everything and only rewrote the report


def test_the_summary_pairs_arms_by_repetition_and_counts_ifm_wins_in_each_metrics_direction() -> None:
    from workbench.cliffs.ifm_results import summarize_ifm_cells

    def cell(dataset, rep, arm, test, metric="rmse", cliff=float("nan")):
        return {"dataset": dataset, "repetition": rep, "arm": arm, "metric": metric, "test": test, "budget": 10,
                "seconds": 360.0, "test_rmse_cliff": cliff}  # fmt: skip

    cells = pd.DataFrame([
        cell("esol", 0, "MLP", 0.60), cell("esol", 0, "IFM-MLP", 0.55),  # IFM lower RMSE: a win
        cell("esol", 1, "MLP", 0.50), cell("esol", 1, "IFM-MLP", 0.58),
        cell("esol", 2, "MLP", 0.40),  # only one arm finished: left out
        cell("bace", 0, "MLP", 0.80, "roc_auc"), cell("bace", 0, "IFM-MLP", 0.85, "roc_auc"),  # higher: a win
        cell("CHEMBL2047_EC50", 0, "MLP", 0.9, cliff=1.2), cell("CHEMBL2047_EC50", 0, "IFM-MLP", 1.0, cliff=1.1),
        cell("lipophilicity", 0, "MLP", 0.7),  # no IFM arm at all: no row
    ])  # fmt: skip
    summary = summarize_ifm_cells(cells).set_index("dataset")
    assert list(summary.index) == ["esol", "bace", "CHEMBL2047_EC50"]
    esol = summary.loc["esol"]
    assert esol["repetitions"] == 2 and esol["ifm_better"] == 1
    assert esol["mlp_mean"] == pytest.approx(0.55) and esol["diff_mean"] == pytest.approx(0.015)
    assert np.isnan(esol["mlp_cliff_mean"]) and esol["hours"] == pytest.approx(0.5)
    assert summary.loc["bace", "ifm_better"] == 1
    assert summary.loc["CHEMBL2047_EC50", "ifm_cliff_mean"] == pytest.approx(1.1)
    assert summarize_ifm_cells(pd.DataFrame()).empty


def test_the_verdict_names_the_winning_sets_and_the_repetition_counts() -> None:
    from workbench.cliffs.ifm_results import ifm_verdict, summarize_ifm_cells

    def cells(dataset, metric, pairs):
        return [{"dataset": dataset, "repetition": r, "arm": arm, "metric": metric, "test": score, "budget": 10,
                 "seconds": 60.0, "test_rmse_cliff": float("nan")}
                for r, (mlp, ifm) in enumerate(pairs) for arm, score in (("MLP", mlp), ("IFM-MLP", ifm))]  # fmt: skip

    esol = cells("esol", "rmse", [(0.6, 0.7), (0.5, 0.6)])  # IFM worse twice
    bace = cells("bace", "roc_auc", [(0.80, 0.85), (0.80, 0.82)])  # IFM better twice
    two = summarize_ifm_cells(pd.DataFrame(esol + bace))
    assert (
        ifm_verdict(two)
        == "IFM-MLP beat the MLP's mean test score on 1 of 2 data sets (bace), over 2 repetitions each."
    )
    mixed = summarize_ifm_cells(pd.DataFrame(esol + bace[:2]))
    assert ifm_verdict(mixed).endswith("on 1 of 2 data sets (bace), over 1–2 repetitions each.")
    one = summarize_ifm_cells(pd.DataFrame(esol[:2]))
    assert ifm_verdict(one) == "IFM-MLP beat the MLP's mean test score on 0 of 1 data sets, over 1 repetition each."
    assert ifm_verdict(summarize_ifm_cells(pd.DataFrame())) == "No data set has both arms finished yet."
