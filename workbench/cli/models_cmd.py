"""``workbench models list``: every registered checkpoint and its headline metrics."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="checkpoints: list what is registered")
    verbs = models.add_subparsers(dest="models_verb", metavar="ACTION")
    lst = verbs.add_parser("list", help="show each registered checkpoint with its tasks and test metrics")
    lst.add_argument("--markdown", action="store_true", help="print a Markdown table (used for the README)")
    lst.set_defaults(func=run_list)
    models.set_defaults(func=lambda _args: models.print_help() or 2)


def run_list(args: argparse.Namespace) -> int:
    from workbench.models import find_checkpoints, models_dirs
    from workbench.models.zoo import card_rows

    checkpoints, problems = find_checkpoints()
    if not checkpoints:
        print("no checkpoints registered in: " + ", ".join(map(str, models_dirs())))
    table = card_rows(checkpoints)
    if args.markdown and checkpoints:
        print(table.drop(columns=["command"]).to_markdown(index=False))
    elif checkpoints:
        print(table.drop(columns=["command"]).to_string(index=False))
    for problem in problems:
        print(f"skipped {problem}")
    return 0
