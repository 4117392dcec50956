"""The background job registry of "Train on your data", and the run it starts: the CLI's command and arguments.

The small data set is every 10th row of one MoleculeACE target (64 molecules), made at test time; nothing is
committed. Jobs that train use it with quick effort (about 10 s here).
"""

from __future__ import annotations

import io
import shlex
import threading
import time

import pandas as pd
import pytest

from workbench.app.own_data import TrainRequest, default_model_name, example_file, run_training, split_options
from workbench.app.training_jobs import JobRefusedError, JobRegistry
from workbench.app.upload import TRAIN_LIMITS
from workbench.chem.files import read_molecules
from workbench.chem.uploads import read_upload
from workbench.cli import build_parser
from workbench.cli.custom_cmd import _command as cli_command
from workbench.custom.data import CustomDataError
from workbench.custom.training import CustomConfig, TrainingCancelled
from workbench.hashing import sha256_bytes

TARGET = "CHEMBL2047_EC50"
POTENCY = "exp_mean [nM]"


def own_data_csv(step: int = 10) -> bytes:
    """Every ``step``-th row of the example target as the CSV a user would upload (smiles, potency, split)."""
    data, _ = example_file(TARGET)
    frame = pd.read_csv(io.BytesIO(data))
    return frame.iloc[::step].to_csv(index=False).encode()


def request_for(data: bytes, **choices) -> TrainRequest:
    fields = {"transform": "pIC50-from-nM", "name": "mine", "smiles_column": "smiles"} | choices
    return TrainRequest(f"{TARGET}.csv", sha256_bytes(data), (POTENCY,), **fields)


def wait_until(condition, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


# --- the registry with stand-in work ------------------------------------------------------------------------------


def test_a_job_reports_progress_then_its_result_and_is_found_again_by_id():
    registry, gate = JobRegistry(), threading.Event()

    def work(progress, should_stop):
        progress(0.25, "a quarter")
        gate.wait(5)
        progress(1.0, "end")
        return 42

    job = registry.start(work, owner="a", label="test")
    wait_until(lambda: job.fraction == 0.25)
    assert job.running and job.busy and job.message == "a quarter" and job.log_tail() == ["[ 25%] a quarter"]
    assert registry.get(job.id) is job and registry.get("nope") is None and registry.get(None) is None
    gate.set()
    assert job.wait(5)
    assert (job.state, job.result, job.fraction, job.error) == ("done", 42, 1.0, "")
    assert registry.get(job.id) is job and job.finished is not None


def test_an_exception_becomes_a_failed_state_with_its_message():
    registry = JobRegistry()

    def bad_input(progress, should_stop):
        raise CustomDataError("Only 20 labelled molecule(s) are left (of 20 rows).")

    def bug(progress, should_stop):
        raise RuntimeError("boom")

    job = registry.start(bad_input, owner="a", user_errors=(CustomDataError,))
    job.wait(5)
    assert (job.state, job.error) == ("failed", "Only 20 labelled molecule(s) are left (of 20 rows).")
    other = registry.start(bug, owner="b", user_errors=(CustomDataError,))
    other.wait(5)
    assert (other.state, other.error) == ("failed", "RuntimeError: boom")
    with pytest.raises(JobRefusedError, match="Only a finished training run"):
        other.start_save("x", lambda log: None)


def test_cancel_sets_the_stop_flag_and_the_job_ends_cancelled():
    registry, started = JobRegistry(), threading.Event()

    def work(progress, should_stop):
        started.set()
        while not should_stop():
            time.sleep(0.01)
        raise TrainingCancelled("training was cancelled")

    job = registry.start(work, owner="a")
    started.wait(5)
    job.cancel()
    assert job.wait(5)
    assert job.state == "cancelled" and job.should_stop() and job.result is None
    assert "cancel requested" in job.log_tail()[0]


def test_one_job_per_owner_and_a_limit_on_runs_at_once():
    registry, gate = JobRegistry(max_running=2), threading.Event()

    def work(progress, should_stop):
        gate.wait(5)
        return "ok"

    first = registry.start(work, owner="a")
    with pytest.raises(JobRefusedError, match="still going"):
        registry.start(work, owner="a")
    registry.start(work, owner="b")
    with pytest.raises(JobRefusedError, match="2 training runs are using this server"):
        registry.start(work, owner="c")
    gate.set()
    for job in registry.jobs():
        job.wait(5)
    again = registry.start(lambda progress, should_stop: "again", owner="a")
    assert registry.get(first.id) is None and registry.get(again.id) is again  # the finished one is replaced


def test_finished_jobs_expire_and_the_oldest_go_beyond_the_limit_but_never_a_running_one():
    registry, gate = JobRegistry(max_running=5, max_kept=2), threading.Event()
    done = [registry.start(lambda p, s: None, owner=f"o{k}") for k in range(3)]
    for job in done:
        job.wait(5)
        time.sleep(0.01)  # distinct end times
    running = registry.start(lambda p, s: gate.wait(5), owner="r")
    assert [j.id for j in registry.jobs()] == [done[1].id, done[2].id, running.id]
    registry.keep_s = 0.0
    time.sleep(0.01)
    assert registry.jobs() == [running]
    gate.set()
    running.wait(5)


def test_a_save_runs_in_its_own_thread_and_reports_its_path_or_its_error(tmp_path):
    registry = JobRegistry()
    job = registry.start(lambda p, s: "result", owner="a")
    job.wait(5)

    def save(log):
        log("writing")
        return tmp_path / "mine"

    job.start_save("mine", save)
    assert job.wait(5)
    assert (job.save_state, job.saved_name, job.saved_path) == ("saved", "mine", tmp_path / "mine")
    assert "writing" in job.log_tail()

    def clash(log):
        raise CustomDataError("taken")

    job.start_save("other", clash, (CustomDataError,))
    job.wait(5)
    assert (job.save_state, job.save_error) == ("failed", "taken")


# --- the real run ---------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_cancelled_training_run_writes_nothing(models_dir):
    data = own_data_csv()
    table = read_upload(data, f"{TARGET}.csv", TRAIN_LIMITS).table
    registry, asked = JobRegistry(), threading.Event()

    def stop_soon(progress, should_stop):
        def watched(fraction, message):
            progress(fraction, message)
            if fraction > 0:  # the training's first step has run: ask to stop now
                asked.set()
                registry.jobs()[0].cancel()

        return run_training(request_for(data), table, watched, should_stop)

    job = registry.start(stop_soon, owner="a")
    assert job.wait(120)
    assert asked.is_set() and job.state == "cancelled" and job.result is None
    assert list(models_dir.iterdir()) == []
    with pytest.raises(JobRefusedError):
        job.start_save("mine", lambda log: models_dir / "mine")


@pytest.mark.slow
def test_a_run_trains_on_the_table_and_too_few_molecules_fail_with_the_sentence():
    data = own_data_csv()
    table = read_upload(data, f"{TARGET}.csv", TRAIN_LIMITS).table
    registry = JobRegistry()
    job = registry.start(lambda p, s: run_training(request_for(data), table, p, s), owner="a")
    small = registry.start(
        lambda p, s: run_training(request_for(data), table.head(20), p, s), owner="b", user_errors=(CustomDataError,)
    )
    assert job.wait(180) and small.wait(30)
    assert job.state == "done", job.error
    assert job.result.data.sha256 == sha256_bytes(data) and job.result.data.name == f"{TARGET}.csv"
    assert job.result.config == CustomConfig("scaffold", "quick", 0, 0.9, 1)
    assert "rmse" in job.result.metrics[f"pIC50({POTENCY})"]
    assert small.state == "failed" and small.error.startswith("Only 20 labelled molecule(s) are left (of 20 rows)")


# --- the command line the page shows ----------------------------------------------------------------------------


def test_the_command_is_the_clis_own_and_its_arguments_give_the_same_config_and_table(tmp_path):
    data = own_data_csv()
    path = tmp_path / f"{TARGET}.csv"
    path.write_bytes(data)
    request = request_for(data, split="column:split", effort="thorough", seed=3, task="regression")
    command = request.command()
    args = build_parser().parse_args(shlex.split(command)[1:])
    assert cli_command(args) == command  # the CLI would record the very same line in its card
    assert (args.target, args.task, args.transform, args.split) == (
        [POTENCY],
        "regression",
        "pIC50-from-nM",
        "column:split",
    )
    assert CustomConfig(args.split, args.effort, args.seed, args.coverage, args.jobs) == request.config()
    assert (args.name, args.smiles_column, request.split_column) == ("mine", "smiles", "split")
    page = read_upload(data, path.name, TRAIN_LIMITS, args.smiles_column).table
    pd.testing.assert_frame_equal(page, read_molecules(path, smiles_column=args.smiles_column))
    assert request.command("other").endswith("--name other --smiles-column smiles")


def test_split_options_offer_columns_of_train_valid_test_and_names_default_to_a_free_one(models_dir):
    table = pd.DataFrame({"smiles": ["C"] * 3, "part": ["Train", "valid", "TEST"], "note": ["a", "b", "test"]})
    assert split_options(table) == ["scaffold", "random", "column:part"]
    assert default_model_name("My Assay (2024).csv") == "my_assay_2024"
    (models_dir / "my_assay_2024").mkdir()
    assert default_model_name("My Assay (2024).csv") == "my_assay_2024_2"
