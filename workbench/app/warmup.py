"""Background warm-up: load the heavy resources while the first page renders, once per server process.

``app.py`` calls :func:`start_warmup` on every run; the first call starts one daemon thread that loads
the registry, every default property predictor (with its applicability-domain index) and the retrieval
model through the library's process-wide caches (:func:`workbench.predict.inference.load_model`,
:func:`workbench.predict.applicability.domain_index`, :func:`workbench.retrieval.load_retriever`). The
pages' cached loaders (:func:`workbench.app.models.cached_model`, ...) read through those caches, so a page
opened after the warm-up finds everything loaded, and one opened during it waits for the model being
loaded instead of loading it a second time (the library loaders hold a lock while they build).

``python -m workbench.app.serve`` starts it with the server. It gives way to the pages visitors open: while a
page runs (:func:`page_priority`, around every script run in ``app.py``), it runs only the steps that page
uses and waits before any other, so on two CPUs a page is not slowed by models it does not use.

The thread never raises into a page: a step that fails is recorded in :func:`warmup_report` and the page
that needs the resource reports the problem itself when it loads it. Set ``WORKBENCH_WARMUP=0`` to turn the
warm-up off; Streamlit's ``AppTest`` (unit tests) never starts it.
"""

from __future__ import annotations

import collections
import contextlib
import gc
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

__all__ = [
    "THREAD_VARIABLES",
    "StepList",
    "WarmupReport",
    "freeze_heap",
    "limit_threads",
    "page_priority",
    "run_steps",
    "start_warmup",
    "warmup_enabled",
    "warmup_report",
    "warmup_steps",
]

_LOG = logging.getLogger(__name__)
_LOCK = threading.Lock()
_THREAD: threading.Thread | None = None
_REPORT: WarmupReport | None = None
_THREADS_SET = False

#: Pages whose own resources go first when a session opens them before anything else.
RETRIEVAL_PAGE = "text-retrieval"
#: The warm-up's top-level steps each page uses (a group step's own steps belong to it); while a page runs, the
#: warm-up waits before any other step.
PAGE_STEPS = {
    "property-prediction": ("MiniMol worker", "registry", "property models"),
    RETRIEVAL_PAGE: ("registry", "retrieval"),
}
#: Longest the warm-up waits before one step for other pages' runs to end (a long run does not stop it).
PAUSE_LIMIT_S = 30.0
_PAGES = threading.Condition()
_RUNNING: collections.Counter[str] = collections.Counter()  # script runs in progress, by page

Step = tuple[str, Callable[[], object]]


class StepList(list):
    """Steps a group step returns: they run next, in order."""


@dataclass
class WarmupReport:
    """What the warm-up loaded: ``(step, seconds)`` per finished step and ``step: message`` per failed one."""

    loaded: list[tuple[str, float]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    done: threading.Event = field(default_factory=threading.Event)


def warmup_enabled() -> bool:
    """False when ``WORKBENCH_WARMUP`` is ``0``/``false``/``no``/``off`` or under Streamlit's AppTest."""
    if os.environ.get("WORKBENCH_WARMUP", "1").strip().lower() in ("0", "false", "no", "off"):
        return False
    return not _under_apptest()


def _under_apptest() -> bool:
    """Streamlit's AppTest (the unit tests) runs the app in the test process, which must be left alone."""
    return "streamlit.testing.v1" in sys.modules


def _property_steps() -> list[Step]:
    from workbench.app.models import default_model_names
    from workbench.predict.applicability import domain_index
    from workbench.predict.inference import load_model

    def domain(name: str) -> object:
        return domain_index(load_model(name).checkpoint)

    steps = StepList()
    # last to first: the property page loads first to last, so when it opens during the warm-up the two
    # threads load different models (the library builds each once) and meet in the middle
    for name in reversed(default_model_names()):
        steps.append((f"model {name}", lambda name=name: load_model(name)))
        steps.append((f"domain index {name}", lambda name=name: domain(name)))
    return steps


def _retrieval_steps() -> list[Step]:
    def retriever() -> object:
        from workbench.retrieval import DEFAULT_MODEL, load_retriever

        return load_retriever(DEFAULT_MODEL)

    return StepList([("retrieval model", retriever)])


def _registry() -> object:
    from workbench.predict.inference import list_models

    return list_models()


def _minimol_worker() -> object:
    from workbench.featurizers.minimol_worker import get_worker

    return get_worker()


def warmup_steps(first_page: str | None = None) -> list[Step]:
    """The warm-up's steps in order: the MiniMol worker process where it is on (it imports the MiniMol
    featurizer on another CPU meanwhile), the registry, then the first page's resources, then the others.

    Nothing is imported here (this runs in the page's thread): the group steps import the library and
    return the steps of each model (a :class:`StepList`) when the warm-up thread runs them.
    """
    registry: Step = ("registry", _registry)
    property_group: Step = ("property models", _property_steps)
    retrieval_group: Step = ("retrieval", _retrieval_steps)
    groups = [retrieval_group, property_group] if first_page == RETRIEVAL_PAGE else [property_group, retrieval_group]
    from workbench.featurizers.minimol_worker import worker_enabled

    worker: list[Step] = [("MiniMol worker", _minimol_worker)] if worker_enabled() else []
    return [*worker, registry, *groups]


@contextlib.contextmanager
def page_priority(url_path: str | None) -> Iterator[None]:
    """Around a page's run: while it runs, the warm-up runs only the steps that page uses (:data:`PAGE_STEPS`)."""
    page = url_path or ""
    with _PAGES:
        _RUNNING[page] += 1
    try:
        yield
    finally:
        with _PAGES:
            _RUNNING[page] -= 1
            if _RUNNING[page] <= 0:
                del _RUNNING[page]
            _PAGES.notify_all()


def _give_way(group: str, limit_s: float) -> None:
    def free() -> bool:
        return all(group in PAGE_STEPS.get(page, ()) for page in _RUNNING)

    with _PAGES:
        _PAGES.wait_for(free, timeout=limit_s)


def run_steps(
    steps: list[Step], report: WarmupReport | None = None, pause_limit_s: float = PAUSE_LIMIT_S
) -> WarmupReport:
    """Run each step, catching every exception; a step returning a :class:`StepList` has those run next.

    Before each step it waits (at most ``pause_limit_s``) while a page that does not use that step runs; the
    steps a group step returns belong to its group (:data:`PAGE_STEPS` names top-level steps).
    """
    report = report if report is not None else WarmupReport()
    queue = [(name, name, step) for name, step in steps]  # (group, name, step)
    try:
        while queue:
            group, name, step = queue[0]
            _give_way(group, pause_limit_s)
            queue.pop(0)
            start = time.perf_counter()
            try:
                result = step()
            except Exception as exc:  # the page that needs the resource reports the problem itself
                report.failed.append(f"{name}: {exc}")
                _LOG.info("warm-up step %s failed: %s", name, exc)
                continue
            if isinstance(result, StepList):
                queue[0:0] = [(group, child, child_step) for child, child_step in result]
            else:
                report.loaded.append((name, time.perf_counter() - start))
    finally:
        report.done.set()
    return report


#: Variables that size the thread pools of OpenMP (torch, XGBoost), MKL and OpenBLAS when those libraries load.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def limit_threads() -> int:
    """Size the server's per-operation thread pools: ``WORKBENCH_THREADS``, else ``OMP_NUM_THREADS``, else 1.

    The app predicts a few molecules per request, for many sessions at once: an operation that small gains
    nothing from a thread pool, and on a busy machine each pooled operation waits for every pool thread to
    get a CPU (measured here at load average 23-29 on 2 CPUs: XGBoost's 24 boosters on one molecule
    21 s with the default pool, 0.65 s with one thread; a GIN ensemble's load 14.8 s vs 2.4 s). Takes effect
    for libraries not yet imported (the variables are read when they load) and for torch at once.
    """
    chosen = os.environ.get("WORKBENCH_THREADS") or os.environ.get("OMP_NUM_THREADS") or "1"
    threads = max(1, int(chosen)) if chosen.strip().isdigit() else 1
    for variable in THREAD_VARIABLES:
        os.environ[variable] = str(threads)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    return threads


def start_warmup(first_page: str | None = None) -> bool:
    """Start the warm-up thread once per process (True only on the call that started it).

    The first call also sizes the server's thread pools (:func:`limit_threads`), warm-up or not.

    Args:
        first_page: the ``url_path`` of the page the first session opened; its resources load first.
    """
    global _THREAD, _REPORT, _THREADS_SET
    if _under_apptest():
        return False
    with _LOCK:
        if not _THREADS_SET:
            limit_threads()
            _THREADS_SET = True
        if _THREAD is not None or not warmup_enabled():
            return False
        _REPORT = WarmupReport()
        steps = [*warmup_steps(first_page), ("freeze the loaded heap", freeze_heap)]
        _THREAD = threading.Thread(target=run_steps, args=(steps, _REPORT), name="workbench-warmup", daemon=True)
        _THREAD.start()
    return True


def freeze_heap() -> int:
    """Move everything alive now (libraries, models, references) out of the garbage collector's scans.

    Streamlit runs a full collection after every script run (``runner.postScriptGC``); with the models
    loaded that scanned millions of long-lived objects each time (about a quarter of the server's CPU
    per session, profiled with py-spy under 10 concurrent sessions). Frozen objects are never
    collected, so this runs once, after the warm-up, following a collection. Returns the frozen count.
    """
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()


def warmup_report() -> WarmupReport | None:
    """The report of this process's warm-up (``None`` when none was started)."""
    return _REPORT
