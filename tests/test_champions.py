"""The champion search: its grid per data-set size, one fitted cell, selection on validation, the resumable bench."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import average_precision_score

from tests.data_fixtures import tiny_tables
from workbench.champions.features import FeatureMatrix
from workbench.champions.fit import fit_candidate, prc_auc
from workbench.champions.grid import (
    FAMILIES,
    FEATURES,
    LARGE_FEATURES,
    MLP,
    MLP_LARGE,
    GridLimits,
    grid_name,
    search_grid,
)
from workbench.champions.selection import champions, summarize_cells
from workbench.custom.families import Candidate
from workbench.data.splits import Split


def test_small_sets_get_every_family_on_every_feature_set() -> None:
    grid = search_grid("classification", n_train=1600, n_tasks=1)
    assert {(c.family, c.features) for c in grid} == {(f, s) for f in ("rf", "xgboost", "svc", "mlp") for s in FEATURES}
    assert {c.family for c in search_grid("regression", 900, 1)} == {"rf", "xgboost", "svr", "mlp"}


def test_large_and_many_task_sets_get_the_smaller_grids() -> None:
    assert grid_name(33_000, 1) == "large" and grid_name(33_000, 1, GridLimits(large_train=40_000)) == "full"
    assert grid_name(6_200, 12) == "full"  # Tox21
    large = search_grid("classification", 33_000, 1)
    assert {c.features for c in large} == set(LARGE_FEATURES)
    assert {c.family for c in large} == {"rf", "xgboost", "mlp"}  # no SVM on 33,000 molecules
    assert all(c.params["n_estimators"] == 100 for c in large if c.family == "rf")
    for n_train, n_tasks in ((74_000, 17), (6_800, 617)):  # MUV, ToxCast
        huge = search_grid("classification", n_train, n_tasks)
        assert grid_name(n_train, n_tasks) == "huge" and {c.family for c in huge} == {"xgboost", "mlp"}
        assert all(c.params["n_estimators"] == 200 for c in huge if c.family == "xgboost")
        assert all(c.params == MLP_LARGE for c in huge if c.family == "mlp")
    assert all(c.params == MLP_LARGE for c in large if c.family == "mlp")  # larger batches, an earlier stop
    small = search_grid("classification", 1600, 1)
    assert all(c.params == MLP and c.params["batch_size"] == 64 for c in small if c.family == "mlp")


def test_svms_are_left_out_above_the_training_size_limit() -> None:
    families = {c.family for c in search_grid("regression", 12_000, 1, limits=GridLimits(large_labels=10**9))}
    assert "svr" not in families and "rf" in families
    only = search_grid("regression", 500, 1, families=("svm",), features=("maccs",))
    assert [(c.family, c.features) for c in only] == [("svr", "maccs")]
    with pytest.raises(ValueError, match="unknown family"):
        search_grid("regression", 500, 1, families=("knn",))


def _toy(n: int = 240, seed: int = 0) -> tuple[FeatureMatrix, np.ndarray, Split]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 6)).astype(np.float32)
    y = np.stack([(x[:, 0] > 0).astype(float), (x[:, 1] + 0.3 * x[:, 2] > 0).astype(float)], axis=1)
    y[rng.random(y.shape) < 0.1] = np.nan  # missing labels
    idx = rng.permutation(n)
    parts = np.sort(idx[: n * 8 // 10]), np.sort(idx[n * 8 // 10 : n * 9 // 10]), np.sort(idx[n * 9 // 10 :])
    split = Split(*parts, "random")
    return FeatureMatrix(x, np.ones(n, bool), 0), y, split


@pytest.mark.parametrize("family", ["rf", "svc", "mlp"])
def test_a_learnable_multitask_signal_scores_high_on_validation_and_test(family: str) -> None:
    matrix, y, split = _toy()
    params = {"n_estimators": 50} if family == "rf" else {"C": 5.0} if family == "svc" else {
        "hidden": 32, "n_layers": 1, "dropout": 0.0, "lr": 1e-2, "weight_decay": 0.0, "batch_size": 32,
        "max_epochs": 40, "patience": 5, "stop_fraction": 0.1}  # fmt: skip
    result = fit_candidate(Candidate(family, "toy", params), matrix, y, split, classification=True, seed=0)
    assert result.valid["roc_auc"] > 0.85 and result.test["roc_auc"] > 0.85
    assert set(result.valid) == {"roc_auc", "prc_auc"} and result.seconds >= 0


def test_molecules_without_features_are_predicted_as_the_training_mean() -> None:
    matrix, y, split = _toy()
    y = y[:, :1] * 3.0  # a regression target
    usable = np.ones(len(y), bool)
    usable[split.test] = False  # no test molecule has features
    result = fit_candidate(Candidate("rf", "toy", {"n_estimators": 20}), FeatureMatrix(matrix.x, usable, 0), y,
                           split, classification=False, seed=0)  # fmt: skip
    labelled = y[split.test, 0][~np.isnan(y[split.test, 0])]
    expected = np.sqrt(np.mean((labelled - np.nanmean(y[split.train, 0])) ** 2))
    assert result.test["rmse"] == pytest.approx(expected)


def test_prc_auc_averages_tasks_that_have_both_classes() -> None:
    y = np.array([[1, 0], [0, 0], [1, np.nan], [0, 0]], dtype=float)
    s = np.array([[0.9, 0.1], [0.2, 0.3], [0.6, 0.5], [0.7, 0.2]])
    assert prc_auc(y, s) == pytest.approx(average_precision_score(y[:, 0], s[:, 0]))
    assert np.isnan(prc_auc(np.zeros((3, 1)), np.ones((3, 1))))


def test_the_champion_is_chosen_on_validation_never_on_test() -> None:
    rows = []
    for family, valid, test in (("rf", 0.80, 0.70), ("xgboost", 0.75, 0.90)):
        for seed in (0, 1):
            rows.append(
                {
                    "dataset": "bbbp",
                    "task_type": "classification",
                    "family": family,
                    "features": "ecfp4",
                    "seed": seed,
                    "valid_roc_auc": valid + 0.01 * seed,
                    "test_roc_auc": test,
                    "seconds": 1.0,
                }
            )
    rows.append({"dataset": "esol", "task_type": "regression", "family": "svm", "features": "maccs", "seed": 0,
                 "valid_rmse": 0.9, "test_rmse": 0.8, "seconds": 2.0})  # fmt: skip
    rows.append({"dataset": "esol", "task_type": "regression", "family": "rf", "features": "maccs", "seed": 0,
                 "valid_rmse": 1.1, "test_rmse": 0.5, "seconds": 2.0})  # fmt: skip
    summary = summarize_cells(pd.DataFrame(rows))
    first = summary[summary["family"] == "rf"].iloc[0]
    assert first["seeds"] == 2 and first["valid_roc_auc_mean"] == pytest.approx(0.805)
    assert first["valid_roc_auc_std"] == pytest.approx(0.005)
    chosen = champions(summary)
    assert chosen["bbbp"]["champion"]["family"] == "rf"  # better on validation, worse on test
    assert [r["family"] for r in chosen["bbbp"]["runners_up"]] == ["xgboost"]
    assert chosen["esol"]["champion"]["family"] == "svm" and chosen["esol"]["metric"] == "rmse"


def test_bench_runs_resumes_and_reports(data_dirs, tmp_path) -> None:
    from bench import champions as bench

    moleculenet = data_dirs[0] / "moleculenet"
    moleculenet.mkdir()
    tiny_tables(moleculenet)
    argv = ["--datasets", "bbbp", "esol", "--families", "rf", "svm", "--features", "ecfp4", "maccs",
            "--seeds", "0", "1", "--jobs", "1", "--out", str(tmp_path)]  # fmt: skip
    assert bench.main(argv) == 0
    assert "fitted no cell" not in (tmp_path / "moleculenet.md").read_text()
    cells = pd.read_csv(tmp_path / "champions.csv")
    # rf: 2 seeds x 2 feature sets; svm: seed-independent, one seed x 2 feature sets; for each of 2 data sets
    assert len(cells) == 12 and set(cells["family"]) == {"rf", "svm"}
    assert set(cells.loc[cells["family"] == "svm", "seed"]) == {0}
    assert cells.loc[cells["dataset"] == "esol", "valid_rmse"].notna().all()
    assert bench.main(argv) == 0 and len(pd.read_csv(tmp_path / "champions.csv")) == 12  # resumed: nothing re-run
    text = (tmp_path / "moleculenet.md").read_text()
    # a search restricted to some families and feature sets is not the whole grid: leaders, no champions yet
    assert "## Champions" in text and "bbbp, 6 of 70 cells, leader so far" in text and "esol, 6 of 70 cells" in text
    assert "### bbbp (full grid)" in text and "Search under way: 6 of 70 cells" in text
    assert "GraphMVP-C" in text and "Command: `python -m bench.champions --datasets bbbp esol" in text
    assert "this command fitted no cell" in text  # the resumed run only rewrote the report, and says so


def test_a_cell_another_run_fitted_meanwhile_is_not_fitted_again(data_dirs, tmp_path, monkeypatch) -> None:
    import workbench.champions.fit as fit
    from bench import champions as bench
    from bench.cells import append_cell

    moleculenet = data_dirs[0] / "moleculenet"
    moleculenet.mkdir()
    tiny_tables(moleculenet)
    real, fitted = fit.fit_candidate, []

    def fit_and_race(candidate, matrix, y, split, classification, seed, jobs=1):
        fitted.append(seed)
        if seed == 0:  # meanwhile a second lane on the same data set finishes seed 1
            append_cell({"dataset": "esol", "task_type": "regression", "split": "scaffold", "family": "rf",
                         "model": "rf", "features": "maccs", "seed": 1, "valid_rmse": 1.0, "test_rmse": 1.0,
                         "seconds": 1.0}, tmp_path / "champions.csv")  # fmt: skip
        return real(candidate, matrix, y, split, classification, seed, jobs)

    monkeypatch.setattr(fit, "fit_candidate", fit_and_race)
    argv = ["--datasets", "esol", "--families", "rf", "--features", "maccs", "--seeds", "0", "1", "--jobs", "1",
            "--out", str(tmp_path)]  # fmt: skip
    assert bench.main(argv) == 0
    cells = pd.read_csv(tmp_path / "champions.csv")
    assert fitted == [0] and sorted(cells["seed"]) == [0, 1]  # seed 1 once, from the other lane


def test_unknown_feature_sets_are_refused_before_anything_runs(tmp_path) -> None:
    from bench import champions as bench

    with pytest.raises(SystemExit, match=r"unknown feature set ecfp6 .*minimol"):  # MiniMol is one of the known
        bench.main(["--datasets", "bbbp", "--features", "ecfp6", "minimol", "--out", str(tmp_path)])
    assert not (tmp_path / "champions.csv").exists()
    assert set(FAMILIES) == {"rf", "xgboost", "svm", "mlp"}


def test_random_splits_run_every_family_once_per_split_and_report_beside_xia(data_dirs, tmp_path) -> None:
    from bench import champions as bench

    moleculenet = data_dirs[0] / "moleculenet"
    moleculenet.mkdir()
    tiny_tables(moleculenet)
    argv = ["--datasets", "bbbp", "esol", "--split", "random", "--families", "svm", "--features", "maccs",
            "--seeds", "0", "1", "--out", str(tmp_path)]  # fmt: skip
    assert bench.main(argv) == 0
    assert not (tmp_path / "champions.csv").exists()
    cells = pd.read_csv(tmp_path / "champions_random.csv")
    assert len(cells) == 4 and set(cells["seed"]) == {0, 1} and set(cells["split"]) == {"random"}
    bbbp = cells[cells["dataset"] == "bbbp"]
    assert bbbp["train"].iloc[0] == round(64 * 0.81)  # 81 / 9 / 10 of the 64 molecules
    text = (tmp_path / "moleculenet.md").read_text()
    assert "No scaffold-split cells yet." in text and "## Repeated random splits (81/9/10)" in text
    assert "| esol | rmse | 2 | — | — |" in text and "XGB 0.583, IFM-MLP 0.587" in text
    assert "Feature sets fitted on these splits: maccs (" in text and "--split random --seeds 0 1 --features" in text


def test_the_champion_ships_as_a_tabular_checkpoint_that_predicts(data_dirs, models_dir, tmp_path, few_reference_drugs):
    from bench import champions as bench
    from workbench.champions.ship import ChampionError, choose, train_champion
    from workbench.models import load_card
    from workbench.predict.inference import predict

    moleculenet = data_dirs[0] / "moleculenet"
    moleculenet.mkdir()
    tiny_tables(moleculenet)
    argv = ["--datasets", "esol", "--families", "rf", "svm", "mlp", "--features", "maccs", "rdkit2d",
            "--seeds", "0", "--jobs", "1", "--out", str(tmp_path)]  # fmt: skip
    assert bench.main(argv) == 0
    cells = pd.read_csv(tmp_path / "champions.csv")
    with pytest.raises(ChampionError, match=r"esol's search is under way \(6 of \d+ cells\).*--partial"):
        choose("esol", cells)  # one seed of a restricted grid: a leader, not a champion
    _, row, _ = choose("esol", cells, partial=True)
    esol = cells[cells["dataset"] == "esol"]
    best = esol.sort_values("valid_rmse").iloc[0]
    assert (row["family"], row["features"]) == (best["family"], best["features"])
    with pytest.raises(ChampionError, match="no search cells for bace"):
        choose("bace", cells)
    with pytest.raises(ChampionError, match="no cells for xgboost:maccs"):
        choose("esol", cells, candidate="xgboost:maccs")
    folder = train_champion("esol", cells, candidate="rf:maccs", models_dir=models_dir, seeds=(0, 1), jobs=1)
    card = load_card(folder)
    assert card.architecture.type == "tabular" and list(card.seeds) == [0, 1]
    assert card.training["chosen"] == {"family": "rf", "features": "maccs", "params": {"n_estimators": 200}}
    assert card.training["search_progress"]["done"] == 6  # the card says how much of the grid was fitted
    top = (card.training["search_champion"]["family"], card.training["search_champion"]["features"])
    assert top == (row["family"], row["features"])  # the validation-best one, beside what was shipped
    assert card.training["shipped_is_champion"] == (top == ("rf", "maccs"))
    assert len(card.training["runners_up"]) == 5  # the other five searched candidates, by validation
    search = cells[(cells["family"] == "rf") & (cells["features"] == "maccs")]["test_rmse"].iloc[0]
    assert card.metrics["test"]["rmse"].per_seed[0] == pytest.approx(search, abs=1e-5)  # the search's fit, refitted
    table = predict(["CCO", "c1ccccc1CCO", "not a smiles"], ["esol_champion"])
    assert table["esol_champion:log_solubility"].notna().tolist() == [True, True, False]


@pytest.mark.slow
def test_mlp_and_svc_champions_ship_and_predict_as_in_the_search(data_dirs, models_dir, tmp_path, few_reference_drugs):
    from bench import champions as bench
    from workbench.champions.ship import train_champion
    from workbench.models import load_card
    from workbench.predict.inference import predict

    moleculenet = data_dirs[0] / "moleculenet"
    moleculenet.mkdir()
    tiny_tables(moleculenet)
    argv = ["--datasets", "bbbp", "esol", "--families", "svm", "mlp", "--features", "maccs", "--seeds", "0",
            "--jobs", "1", "--out", str(tmp_path)]  # fmt: skip
    assert bench.main(argv) == 0
    cells = pd.read_csv(tmp_path / "champions.csv")
    shipped = (("bbbp", "mlp", "roc_auc"), ("esol", "mlp", "rmse"), ("bbbp", "svm", "roc_auc"))
    for dataset, family, metric in shipped:
        name = f"{dataset}_{family}"
        folder = train_champion(dataset, cells, candidate=f"{family}:maccs", models_dir=models_dir, seeds=(0,),
                                name=name, jobs=1)  # fmt: skip
        card = load_card(folder)
        files = [w.file for w in card.weights]
        svm_files = ["component0_seed0_support.safetensors", "component0_seed0_task0.safetensors"]  # shared rows
        assert files == (["component0_seed0.safetensors"] if family == "mlp" else svm_files)
        search = cells[(cells["dataset"] == dataset) & (cells["family"] == family)][f"test_{metric}"].iloc[0]
        assert card.metrics["test"][metric].per_seed[0] == pytest.approx(search, abs=1e-5)  # cells keep 5 decimals
        table = predict(["CCO", "c1ccccc1CCO", "not a smiles"], [name], calibrated=False)
        column = f"{name}:{card.tasks[0].name}"
        assert table[column].notna().tolist() == [True, True, False]
        if metric == "roc_auc":  # an SVC's decision function through a logistic: a probability
            assert table[column].iloc[:2].between(0, 1).all()
    # an MLP in half precision: half the bytes, and the card's metric is that of the stored weights
    from safetensors.numpy import load_file

    from workbench.data.prepared import prepare
    from workbench.train.metrics import regression_metrics

    half = train_champion("esol", cells, candidate="mlp:maccs", models_dir=models_dir, seeds=(0,), name="esol_half",
                          jobs=1, float16=True)  # fmt: skip
    stored = load_file(str(half / "component0_seed0.safetensors"))
    assert {v.dtype for k, v in stored.items() if k.startswith("net.")} == {np.dtype("float16")}
    full_bytes = (models_dir / "esol_mlp" / "component0_seed0.safetensors").stat().st_size
    assert (half / "component0_seed0.safetensors").stat().st_size < 0.6 * full_bytes
    card = load_card(half)
    assert card.training["weights_dtype"] == "float16"
    prep = prepare("esol", "scaffold")
    table = predict([prep.smiles[i] for i in prep.split.test], ["esol_half"], calibrated=False)
    rmse = regression_metrics(prep.y[prep.split.test], table[[f"esol_half:{card.tasks[0].name}"]].to_numpy())["rmse"]
    assert rmse == pytest.approx(card.metrics["test"]["rmse"].per_seed[0], abs=1e-4)


def test_a_search_under_way_names_its_leader_but_no_champion() -> None:
    from bench.champions_report import report
    from workbench.champions.selection import search_progress

    def cell(dataset, family, model, features, seed, valid):
        return {"dataset": dataset, "task_type": "regression", "split": "scaffold", "grid": "full", "family": family,
                "model": model, "features": features, "seed": seed, "valid_rmse": valid, "test_rmse": valid + 0.1,
                "seconds": 1.0, "train": 900, "tasks": 1, "params": "{}"}  # fmt: skip

    full = [cell("esol", f, m, feat, s, 1.0 + 0.01 * i) for i, feat in enumerate(FEATURES)
            for f, m in (("rf", "rf"), ("xgboost", "xgboost"), ("mlp", "mlp")) for s in (0, 1, 2)]  # fmt: skip
    full += [cell("esol", "svm", "svr", feat, 0, 0.9) for feat in FEATURES]
    partial = [cell("freesolv", "rf", "rf", "ecfp4", s, 2.0) for s in (0, 1)]
    cells = pd.DataFrame(full + partial)
    assert search_progress(cells) == {"esol": (70, 70), "freesolv": (2, 70)}
    text = report(cells, pd.DataFrame(), "cmd", "machine", datasets=("esol", "freesolv", "bbbp"))
    champions_table = text.split("## Champions")[1].split("## Every candidate")[0]
    assert "| esol | rmse | svm on ecfp4 |" in champions_table and "| freesolv |" not in champions_table
    assert "freesolv, 2 of 70 cells, leader so far on validation rf on ecfp4" in champions_table
    assert "Not searched yet: bbbp" in champions_table
    assert "Search under way: 2 of 70 cells; the marked row leads so far." in text


def test_muv_candidates_are_reported_by_prc_auc_as_well_as_roc_auc() -> None:
    from bench.champions_report import dataset_section

    rows = []
    for family, roc, prc in (("xgboost", 0.80, 0.20), ("mlp", 0.75, 0.30)):
        for dataset in ("muv", "hiv"):
            rows.append({"dataset": dataset, "task_type": "classification", "family": family, "features": "ecfp4",
                         "seed": 0, "valid_roc_auc": roc, "test_roc_auc": roc, "valid_prc_auc": prc,
                         "test_prc_auc": prc - 0.1, "seconds": 1.0})  # fmt: skip
    summary = summarize_cells(pd.DataFrame(rows))
    chosen = champions(summary)
    muv = "\n".join(dataset_section("muv", summary[summary["dataset"] == "muv"], chosen["muv"]))
    assert (
        "| valid prc_auc | test prc_auc |" in muv
        and "| **xgboost** | **ecfp4** | 1 | 0.800 ± 0.000 | 0.800 ± 0.000 | 0.200 ± 0.000 | 0.100 ± 0.000 |" in muv
    )
    assert "PRC-AUC of the champion on test: 0.100" in muv  # the ROC-AUC champion's PRC-AUC
    hiv = "\n".join(dataset_section("hiv", summary[summary["dataset"] == "hiv"], chosen["hiv"]))
    assert "prc_auc" not in hiv  # one headline metric elsewhere
