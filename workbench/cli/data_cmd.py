"""``workbench data list``: every data set, its size and where it was found."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="data sets: list what is available")
    verbs = data.add_subparsers(dest="data_verb", metavar="ACTION")
    lst = verbs.add_parser("list", help="show each data set, its size and where it was found")
    lst.add_argument("--csv", action="store_true", help="print CSV instead of a table")
    lst.add_argument("--no-targets", action="store_true", help="summarize MoleculeACE's 30 targets in one line")
    lst.set_defaults(func=run_list)
    data.set_defaults(func=lambda _args: data.print_help() or 2)


def run_list(args: argparse.Namespace) -> int:
    from workbench.data import data_dir, list_datasets

    table = list_datasets(include_moleculeace_targets=not args.no_targets)
    if args.csv:
        print(table.to_csv(index=False), end="")
    else:
        print(f"WORKBENCH_DATA_DIR: {data_dir()}")
        print(table.to_string(index=False))
    return 0
