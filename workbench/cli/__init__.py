"""The ``workbench`` command line: one small module per verb."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence

from workbench import __version__
from workbench.cli import (
    bench_cmd,
    cliffs_cmd,
    conformers_cmd,
    data_cmd,
    describe_cmd,
    import_cmd,
    minimol_cmd,
    models_cmd,
    parse_cmd,
    predict_cmd,
    report_cmd,
    screen_cmd,
    search_cmd,
    train_cmd,
)
from workbench.cli.streaming import UsageError, note_stop_signal, stop_signal

__all__ = ["build_parser", "main"]

VERBS = (
    data_cmd,
    models_cmd,
    parse_cmd,
    conformers_cmd,
    train_cmd,
    predict_cmd,
    cliffs_cmd,
    bench_cmd,
    search_cmd,
    describe_cmd,
    import_cmd,
    minimol_cmd,
    report_cmd,
    screen_cmd,
)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every verb registered."""
    parser = argparse.ArgumentParser(
        prog="workbench",
        description="Molecular machine-learning workbench: data, models and predictions from the command line.",
    )
    parser.add_argument("--version", action="version", version=f"workbench {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB")
    for verb in VERBS:
        verb.register(sub)
    return parser


#: What Ctrl-C prints: rows already sent to stdout stay there; a file named with -o is never half-written.
INTERRUPTED = "workbench: interrupted before the end; an output file (-o) is only written by a finished run"


class _CtrlC:
    """Notes a Ctrl-C while a verb runs (then raises KeyboardInterrupt as usual).

    A library can turn the KeyboardInterrupt into its own error on the way out (pandas' C parser reports
    "Calling read(nbytes) on source failed" when Ctrl-C arrives during its read), so the error handlers
    ask ``seen`` rather than trust the exception's type. Only in the main thread with Python's own handler.
    """

    def __init__(self) -> None:
        self._previous = None

    @property
    def seen(self) -> bool:
        """Whether Ctrl-C came since the verb began (read before ``__exit__``, which clears it)."""
        return stop_signal() == signal.SIGINT

    def __enter__(self) -> _CtrlC:
        main = threading.current_thread() is threading.main_thread()
        note_stop_signal(None)
        if main and signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum: int, frame: object) -> None:
        note_stop_signal(signum)  # the output writer stops at its next chunk if this KeyboardInterrupt gets lost
        signal.default_int_handler(signum, frame)

    def __exit__(self, *_exc: object) -> None:
        note_stop_signal(None)
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    with _CtrlC() as ctrl_c:
        try:
            return _run(args, ctrl_c)
        except KeyboardInterrupt:  # Ctrl-C: the partial output is already deleted (ChunkWriter), no traceback
            print(INTERRUPTED, file=sys.stderr)
            return 130


def _run(args: argparse.Namespace, ctrl_c: _CtrlC) -> int:
    try:
        return int(args.func(args) or 0)
    except UsageError as exc:  # a bad argument, found before any work
        print(f"workbench: error: {exc}", file=sys.stderr)
        return 2
    except MemoryError:
        print("workbench: error: out of memory; try a smaller --chunk-size", file=sys.stderr)
        return 1
    except (OSError, KeyError, ValueError, RuntimeError) as exc:
        if ctrl_c.seen:  # the error is what Ctrl-C became inside a library
            raise KeyboardInterrupt from exc
        message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"workbench: error: {message}", file=sys.stderr)
        return 1
