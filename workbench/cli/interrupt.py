"""Ctrl-C for a verb: received by a thread of its own, so that no library can swallow it.

RDKit (2026.09 here; its ControlCHandler) installs a C-level SIGINT handler of its own while it searches substructures,
embeds conformers, labels CIP or finds an MCS. A Ctrl-C that lands in that window never reaches Python: the
search stops early (logging "Substructure search was interrupted, result may not include all matches"), the
call returns a possibly incomplete result, and the run goes on as if nothing had been pressed (``workbench
standardize`` neutralizes charges by substructure search: the row in progress could come out wrong, and the
run then wrote its whole output as if finished).

So while a verb runs, SIGINT is blocked in every thread (threads started later inherit the mask; forked
children get it unblocked again) and one watcher thread takes it with ``sigwait``, then makes Python run its
SIGINT handler in the main thread (``_thread.interrupt_main``): the verb stops with KeyboardInterrupt between
two bytecodes, after the C call in progress returns with a complete result. Children started with ``exec``
(the MiniMol worker, spawned screening workers, Ray) keep SIGINT blocked: the parent stops them.
"""

from __future__ import annotations

import _thread
import os
import signal
import threading

from workbench.cli.streaming import note_stop_signal, stop_signal

__all__ = ["CtrlC"]

_SIGINT = {signal.SIGINT}
_MASKED: dict[str, bool] = {"active": False}  # whether a CtrlC holds SIGINT blocked (read after a fork)


def _unblock_in_forked_child() -> None:
    """A forked worker (a process pool) takes Ctrl-C itself as before: it has no watcher thread."""
    if _MASKED["active"]:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _SIGINT)
        _MASKED["active"] = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_unblock_in_forked_child)


class CtrlC:
    """Notes a Ctrl-C while a verb runs (then raises KeyboardInterrupt in the main thread as usual).

    A library can turn the KeyboardInterrupt into its own error on the way out (pandas' C parser reports
    "Calling read(nbytes) on source failed" when Ctrl-C arrives during its read), so the error handlers
    ask ``seen`` rather than trust the exception's type. Only in the main thread with Python's own handler
    (a shell's background job starts with SIGINT ignored: nothing changes then).
    """

    def __init__(self) -> None:
        self._previous = None
        self._previous_mask: set[int] | None = None
        self._watcher: threading.Thread | None = None
        self._closing = False

    @property
    def seen(self) -> bool:
        """Whether Ctrl-C came since the verb began (read before ``__exit__``, which clears it)."""
        return stop_signal() == signal.SIGINT

    def __enter__(self) -> CtrlC:
        main = threading.current_thread() is threading.main_thread()
        note_stop_signal(None)
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _SIGINT)
            _MASKED["active"] = True
            self._closing = False
            self._watcher = threading.Thread(target=self._watch, name="workbench-ctrl-c", daemon=True)
            self._watcher.start()
        return self

    def _watch(self) -> None:
        """Take each SIGINT (blocked everywhere else) and have the main thread run the Python handler."""
        while True:
            signal.sigwait(_SIGINT)
            if self._closing:
                return
            _thread.interrupt_main(signal.SIGINT)

    def _handle(self, signum: int, frame: object) -> None:
        note_stop_signal(signum)  # the output writer stops at its next chunk if this KeyboardInterrupt gets lost
        signal.default_int_handler(signum, frame)

    def __exit__(self, *_exc: object) -> None:
        if self._watcher is not None:
            self._closing = True
            signal.pthread_kill(self._watcher.ident, signal.SIGINT)  # wakes its sigwait; it sees _closing
            self._watcher.join()
            self._watcher = None
            # a Ctrl-C that came as the verb ended is dropped: the verb has finished (its output is complete)
            while signal.sigtimedwait(_SIGINT, 0) is not None:
                pass
            _MASKED["active"] = False
            signal.pthread_sigmask(signal.SIG_SETMASK, self._previous_mask)
        note_stop_signal(None)
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
            self._previous = None
