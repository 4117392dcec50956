"""Background runs of the "Train on your data" and "Virtual screening" pages, held server-side (not in a session).

A :class:`TrainingJob` runs ``work(progress, should_stop)`` in a daemon thread and records what the page shows:
its state, the last progress fraction and message, a log, the result or one sentence saying what failed. The
page polls it (a fragment that reruns every second); the job never touches Streamlit.

* **States**: ``running`` → ``done`` (the result is kept) | ``failed`` (``error``: the exception's sentence for
  the input errors the caller names, else its type and message; the traceback goes to the server log) |
  ``cancelled``. A done job can then be saved, again in a thread: ``save_state`` ``saving`` → ``saved``
  (``saved_path``) | ``failed`` (``save_error``).
* **Cancel**: :meth:`TrainingJob.cancel` sets the stop flag; ``should_stop()`` then answers True and the
  training raises at its next step (``TrainingCancelled``); an exception after a cancel means ``cancelled``.
  Nothing is written by a training run: only a save writes, and a cancelled job cannot be saved.
* **Registry** (:class:`JobRegistry`, one per server process through :func:`job_registry`): jobs by id, an id
  that is hard to guess (16 hex digits) and goes into the page's URL (``?job=<id>``), so a rerun, a page change
  or a second tab with that URL finds the same job. One job per owner (a browser session): a new run replaces
  the owner's finished one, and is refused while the owner's run is still going. At most
  :data:`MAX_RUNNING` runs train at once (the CPUs are shared by every visitor). A finished job is kept
  :data:`KEEP_S` seconds after it ended, and at most :data:`MAX_KEPT` finished jobs are kept (oldest dropped
  first); running and saving jobs are never dropped. Jobs live in memory: a server restart forgets them.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import streamlit as st

__all__ = [
    "KEEP_S",
    "MAX_KEPT",
    "MAX_RUNNING",
    "JobRefusedError",
    "JobRegistry",
    "TrainingJob",
    "job_registry",
]

_LOG = logging.getLogger(__name__)

#: Runs training at the same time on one server.
MAX_RUNNING = 2
#: Seconds a finished job stays available after it ended.
KEEP_S = 2 * 3600
#: Finished jobs kept at most (each holds its fitted models).
MAX_KEPT = 16
#: Log lines a job keeps.
MAX_LOG = 500

Progress = Callable[[float, str], None]
Work = Callable[[Progress, Callable[[], bool]], Any]


class JobRefusedError(RuntimeError):
    """A run that cannot start now; ``str(exc)`` says why, for the user."""


def _failure(exc: BaseException, user_errors: tuple[type[BaseException], ...]) -> str:
    if isinstance(exc, user_errors):
        return str(exc)
    _LOG.error("training job failed", exc_info=exc)
    return f"{type(exc).__name__}: {exc}"


@dataclass
class TrainingJob:
    """One run: state, progress, log and outcome, updated by its thread and read by any page session."""

    id: str
    owner: str
    label: str = ""
    request: Any = None
    state: str = "running"  # running | done | failed | cancelled
    fraction: float = 0.0
    message: str = "starting"
    log: list[str] = field(default_factory=list)
    result: Any = None
    error: str = ""
    started: float = field(default_factory=time.time)
    finished: float | None = None
    save_state: str = ""  # "" | saving | saved | failed
    saved_name: str = ""
    saved_path: Path | None = None
    save_error: str = ""
    _stop: threading.Event = field(default_factory=threading.Event, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _threads: list[threading.Thread] = field(default_factory=list, repr=False)

    @property
    def running(self) -> bool:
        """The training thread has not finished."""
        return self.state == "running"

    @property
    def busy(self) -> bool:
        """Training or saving: the job must stay in the registry."""
        return self.running or self.save_state == "saving"

    @property
    def seconds(self) -> float:
        """Wall time so far, or until the run ended."""
        return (self.finished or time.time()) - self.started

    def should_stop(self) -> bool:
        """Whether a cancel was asked for (the training polls this between fits)."""
        return self._stop.is_set()

    def cancel(self) -> None:
        """Ask the run to stop at its next step; a finished run is left as it is."""
        if self.running:
            self._stop.set()
            self.note("cancel requested: stopping after the current step")

    def note(self, message: str) -> None:
        """Append a line to the log (thread-safe)."""
        with self._lock:
            self.log.append(message)
            del self.log[:-MAX_LOG]

    def progress(self, fraction: float, message: str) -> None:
        """The training's progress callback: fraction done and what it is doing."""
        with self._lock:
            self.fraction, self.message = min(max(float(fraction), 0.0), 1.0), message
        self.note(f"[{fraction:4.0%}] {message}")

    def log_tail(self, lines: int = 12) -> list[str]:
        """The last ``lines`` log lines (a copy)."""
        with self._lock:
            return list(self.log[-lines:])

    def wait(self, timeout: float | None = None) -> bool:
        """Wait for the job's threads (training, then a save if one started); True when none is left running."""
        deadline = None if timeout is None else time.monotonic() + timeout
        for thread in list(self._threads):
            thread.join(None if deadline is None else max(0.0, deadline - time.monotonic()))
        return not any(t.is_alive() for t in self._threads)

    def _run(self, work: Work, user_errors: tuple[type[BaseException], ...]) -> None:
        try:
            result = work(self.progress, self.should_stop)
        except Exception as exc:  # a thread's exception would be lost: record it
            with self._lock:
                if self._stop.is_set():
                    self.state, self.message = "cancelled", "cancelled: nothing was written"
                else:
                    self.state, self.error = "failed", _failure(exc, user_errors)
                    self.message = "failed"
                self.finished = time.time()
            self.note(self.message if self.state == "cancelled" else f"failed: {self.error}")
            return
        with self._lock:
            self.result, self.state, self.fraction, self.message = result, "done", 1.0, "done"
            self.finished = time.time()

    def start_save(self, name: str, save: Callable[[Callable[[str], None]], Path], user_errors: tuple = ()) -> None:
        """Run ``save(log)`` (which writes the model named ``name``) in a thread; only a done job saves.

        Raises:
            JobRefusedError: the run did not finish, or a save is already going.
        """
        with self._lock:
            if self.state != "done":
                raise JobRefusedError("Only a finished training run can be saved.")
            if self.save_state == "saving":
                raise JobRefusedError(f"'{self.saved_name}' is being saved already.")
            self.save_state, self.saved_name, self.save_error = "saving", name, ""

        def run() -> None:
            try:
                path = save(self.note)
            except Exception as exc:
                with self._lock:
                    self.save_state, self.save_error = "failed", _failure(exc, user_errors)
                self.note(f"save failed: {self.save_error}")
                return
            with self._lock:
                self.save_state, self.saved_path = "saved", path
            self.note(f"saved {name} to {path}")

        thread = threading.Thread(target=run, name=f"save-{self.id}", daemon=True)
        self._threads.append(thread)
        thread.start()


class JobRegistry:
    """The jobs of one server process, by id (see the module docstring for their lifetime)."""

    def __init__(
        self,
        *,
        max_running: int = MAX_RUNNING,
        keep_s: float = KEEP_S,
        max_kept: int = MAX_KEPT,
        noun: str = "training run",
    ):
        self.max_running, self.keep_s, self.max_kept = max_running, keep_s, max_kept
        self.noun = noun  # what a run is called in the refusals ("training run", "screening run")
        self._jobs: dict[str, TrainingJob] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str | None) -> TrainingJob | None:
        """The job with this id, or ``None`` (never existed, or dropped after :data:`KEEP_S`)."""
        with self._lock:
            self._prune()
            return self._jobs.get(job_id or "")

    def jobs(self) -> list[TrainingJob]:
        """Every job held, oldest first."""
        with self._lock:
            self._prune()
            return sorted(self._jobs.values(), key=lambda j: j.started)

    def start(
        self,
        work: Work,
        *,
        owner: str,
        label: str = "",
        request: Any = None,
        user_errors: tuple[type[BaseException], ...] = (),
    ) -> TrainingJob:
        """Start ``work(progress, should_stop)`` in a thread as the owner's job and return it.

        Args:
            work: the run; its return value becomes ``result``.
            owner: who started it (a browser session); its earlier finished job is dropped.
            label, request: kept for the page (what was trained, with which choices).
            user_errors: exception types whose message is shown as it is (bad input, not a bug).

        Raises:
            JobRefusedError: the owner's run is still going, or :data:`MAX_RUNNING` runs are.
        """
        with self._lock:
            self._prune()
            mine = [j for j in self._jobs.values() if j.owner == owner]
            if any(j.busy for j in mine):
                raise JobRefusedError(f"Your {self.noun} is still going: cancel it or wait for it to end first.")
            running = sum(j.running for j in self._jobs.values())
            if running >= self.max_running:
                raise JobRefusedError(
                    f"{running} {self.noun}s are using this server's CPUs; try again when one ends, or run the "
                    "command line below on your own machine."
                )
            for job in mine:
                del self._jobs[job.id]
            job = TrainingJob(secrets.token_hex(8), owner, label, request)
            self._jobs[job.id] = job
        thread = threading.Thread(target=job._run, args=(work, user_errors), name=f"train-{job.id}", daemon=True)
        job._threads.append(thread)
        thread.start()
        return job

    def _prune(self) -> None:
        """Drop finished jobs past their time, then the oldest beyond :attr:`max_kept` (lock held)."""
        now = time.time()
        for job in list(self._jobs.values()):
            if not job.busy and job.finished is not None and now - job.finished > self.keep_s:
                del self._jobs[job.id]
        finished = sorted((j for j in self._jobs.values() if not j.busy), key=lambda j: j.finished or 0.0)
        for job in finished[: max(0, len(finished) - self.max_kept)]:
            del self._jobs[job.id]


@st.cache_resource(show_spinner=False)
def job_registry() -> JobRegistry:
    """The server process's registry, shared by every session and page."""
    return JobRegistry()
