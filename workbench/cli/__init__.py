"""The ``workbench`` command line: one small module per verb."""

from __future__ import annotations

import argparse
import sys
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
from workbench.cli.interrupt import CtrlC
from workbench.cli.streaming import UsageError

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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``workbench`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        with CtrlC() as ctrl_c:
            return _run(args, ctrl_c)
    except KeyboardInterrupt:  # Ctrl-C: the partial output is already deleted (ChunkWriter), no traceback
        print(INTERRUPTED, file=sys.stderr)
        return 130


def _run(args: argparse.Namespace, ctrl_c: CtrlC) -> int:
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
