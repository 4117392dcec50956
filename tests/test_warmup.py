"""The background warm-up: loads the registry and every default model once per process, never raises."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from workbench.app import warmup


@pytest.fixture
def fresh_warmup(monkeypatch):
    """A process state in which no warm-up has started, outside AppTest, with the warm-up switched on."""
    monkeypatch.setattr(warmup, "_THREAD", None)
    monkeypatch.setattr(warmup, "_REPORT", None)
    monkeypatch.setattr(warmup, "_THREADS_SET", True)  # leave this process's thread pools alone
    monkeypatch.setattr(warmup, "_under_apptest", lambda: False)
    monkeypatch.delenv("WORKBENCH_WARMUP", raising=False)
    return warmup


@pytest.mark.slow  # imports the inference stack (torch, RDKit, XGBoost, ...)
def test_steps_load_the_registry_then_every_default_model_last_to_first_with_its_domain_index(monkeypatch):
    import workbench.app.models as app_models
    import workbench.predict.applicability as applicability
    import workbench.predict.inference as inference

    loaded: list[str] = []
    monkeypatch.setattr(inference, "list_models", lambda: loaded.append("registry") or [])
    monkeypatch.setattr(app_models, "default_model_names", lambda: ["a", "b"])

    class Fake:
        def __init__(self, name):
            self.checkpoint = name

    monkeypatch.setattr(inference, "load_model", lambda name: loaded.append(f"model {name}") or Fake(name))
    monkeypatch.setattr(applicability, "domain_index", lambda checkpoint: loaded.append(f"index {checkpoint}"))
    steps = [s for s in warmup.warmup_steps() if s[0] != "retrieval"]
    report = warmup.run_steps(steps)
    assert report.done.is_set() and report.failed == []
    assert [name for name, _ in report.loaded] == [
        "registry",
        "model b",
        "domain index b",
        "model a",
        "domain index a",
    ]  # fmt: skip  (last to first: the page loads first to last, they meet in the middle)
    assert loaded == ["registry", "model b", "model b", "index b", "model a", "model a", "index a"]


def test_the_first_page_s_resources_load_first():
    assert [name for name, _ in warmup.warmup_steps("text-retrieval")] == ["registry", "retrieval", "property models"]
    assert [name for name, _ in warmup.warmup_steps("property-prediction")] == [
        "registry", "property models", "retrieval"
    ]  # fmt: skip


def test_the_minimol_worker_starts_first_where_it_is_on_and_the_property_page_waits_for_it(monkeypatch):
    monkeypatch.setenv("WORKBENCH_MINIMOL_WORKER", "1")
    assert [name for name, _ in warmup.warmup_steps()] == ["MiniMol worker", "registry", "property models", "retrieval"]
    assert "MiniMol worker" in warmup.PAGE_STEPS["property-prediction"]
    monkeypatch.setenv("WORKBENCH_MINIMOL_WORKER", "0")
    assert "MiniMol worker" not in [name for name, _ in warmup.warmup_steps()]


def test_a_failing_step_is_recorded_and_the_others_still_run():
    def broken():
        raise RuntimeError("card unreadable")

    report = warmup.run_steps([("bad", broken), ("good", lambda: 1)])
    assert report.failed == ["bad: card unreadable"]
    assert [name for name, _ in report.loaded] == ["good"]


def test_an_error_outside_exception_still_marks_the_report_done():
    def interrupted():
        raise KeyboardInterrupt

    report = warmup.WarmupReport()
    with pytest.raises(KeyboardInterrupt):
        warmup.run_steps([("stop", interrupted)], report)
    assert report.done.is_set()


def test_starts_once_per_process_in_a_daemon_thread(fresh_warmup, monkeypatch):
    release = threading.Event()
    calls: list[str] = []
    monkeypatch.setattr(
        fresh_warmup,
        "warmup_steps",
        lambda first_page=None: [("wait", lambda: calls.append(first_page) or release.wait(5))],
    )
    assert fresh_warmup.start_warmup("model-zoo") is True
    assert fresh_warmup.start_warmup("model-zoo") is False  # a second session does not start another
    assert fresh_warmup._THREAD.daemon
    release.set()
    assert fresh_warmup.warmup_report().done.wait(5)
    assert calls == ["model-zoo"]


def test_never_raises_into_the_page_when_the_registry_fails(fresh_warmup, monkeypatch):
    import workbench.predict.inference as inference

    def broken():
        raise OSError("models/ unreadable")

    monkeypatch.setattr(inference, "list_models", broken)
    monkeypatch.setattr(fresh_warmup, "warmup_steps", lambda first_page=None: [("registry", fresh_warmup._registry)])
    assert fresh_warmup.start_warmup() is True
    report = fresh_warmup.warmup_report()
    assert report.done.wait(5)
    assert report.failed == ["registry: models/ unreadable"]


def test_switched_off_by_the_environment(fresh_warmup, monkeypatch):
    monkeypatch.setenv("WORKBENCH_WARMUP", "0")
    assert not fresh_warmup.warmup_enabled()
    assert fresh_warmup.start_warmup() is False and fresh_warmup.warmup_report() is None


def test_switched_off_under_apptest(monkeypatch):
    monkeypatch.setenv("WORKBENCH_WARMUP", "1")
    import streamlit.testing.v1  # noqa: F401  (AppTest's module: its presence means unit tests)

    assert not warmup.warmup_enabled()


class _FakeTorch:
    threads: int | None = None

    @classmethod
    def set_num_threads(cls, n: int) -> None:
        cls.threads = n


@pytest.mark.parametrize(
    ("workbench_threads", "omp", "expected"), [(None, None, 1), ("3", None, 3), (None, "2", 2), ("x", None, 1)]
)
def test_limit_threads_sizes_the_pools_of_libraries_loaded_later_and_of_torch(
    monkeypatch, workbench_threads, omp, expected
):
    for variable in ("WORKBENCH_THREADS", *warmup.THREAD_VARIABLES):
        monkeypatch.delenv(variable, raising=False)
    if workbench_threads is not None:
        monkeypatch.setenv("WORKBENCH_THREADS", workbench_threads)
    if omp is not None:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    monkeypatch.setitem(sys.modules, "torch", _FakeTorch)
    assert warmup.limit_threads() == expected
    assert _FakeTorch.threads == expected
    assert all(os.environ[v] == str(expected) for v in warmup.THREAD_VARIABLES)


def test_freeze_heap_moves_live_objects_out_of_the_collectors_scans():
    import gc

    from workbench.app.warmup import freeze_heap

    try:
        frozen = freeze_heap()
        assert frozen > 1000 and gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_the_warm_up_waits_while_a_page_that_needs_none_of_its_models_runs():
    import threading

    done = []
    report = warmup.WarmupReport()
    with warmup.page_priority("activity-cliffs"):
        thread = threading.Thread(target=warmup.run_steps, args=([("step", lambda: done.append(1))], report, 5.0))
        thread.start()
        assert not report.done.wait(0.3) and done == []  # held back while the page runs
    assert report.done.wait(5.0) and done == [1]  # runs as soon as the page's run ends
    thread.join()


def test_the_warm_up_runs_beside_a_page_the_steps_that_page_uses_and_a_long_run_does_not_stop_it():
    report = warmup.WarmupReport()
    group = ("property models", lambda: warmup.StepList([("model bace_gin", lambda: 1)]))
    with warmup.page_priority("property-prediction"):
        warmup.run_steps([group], report, 5.0)  # the group's own steps belong to it
    assert report.done.is_set() and [name for name, _ in report.loaded] == ["model bace_gin"]
    with warmup.page_priority("property-prediction"):
        start = time.perf_counter()
        warmup.run_steps([("retrieval model", lambda: 1)], None, 0.3)  # not a step this page uses
    assert time.perf_counter() - start >= 0.3
    with warmup.page_priority("ifm-lab"):
        late = warmup.run_steps([("step", lambda: 1)], None, 0.2)  # gives way at most 0.2 s per step
    assert [name for name, _ in late.loaded] == ["step"]
