"""``workbench models list``: every registered checkpoint and its headline metrics."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    models = sub.add_parser("models", help="checkpoints: list what is registered")
    verbs = models.add_subparsers(dest="models_verb", metavar="ACTION")
    lst = verbs.add_parser("list", help="show each registered checkpoint with its tasks and test metrics")
    lst.set_defaults(func=run_list)
    models.set_defaults(func=lambda _args: models.print_help() or 2)


def _headline(card: dict) -> str:
    test = card.get("metrics", {}).get("test", {})
    parts = [
        f"{metric} {value['mean']:.3f} ± {value['std']:.3f}"
        for metric, value in test.items()
        if isinstance(value.get("mean"), int | float) and isinstance(value.get("std"), int | float)
    ]
    return ", ".join(parts) or "-"


def run_list(_args: argparse.Namespace) -> int:
    import pandas as pd

    from workbench.checkpoints import find_checkpoints, models_dirs

    checkpoints, problems = find_checkpoints()
    rows = [
        {
            "name": c.name,
            "group": c.group,
            "architecture": c.architecture,
            "tasks": len(c.tasks),
            "data": c.card["data"]["dataset"],
            "split": c.card["split"]["kind"],
            "test metrics": _headline(c.card),
            "path": str(c.path),
        }
        for c in checkpoints
    ]
    if rows:
        print(pd.DataFrame(rows).to_string(index=False))
    else:
        print("no checkpoints registered in: " + ", ".join(map(str, models_dirs())))
    for problem in problems:
        print(f"skipped {problem}")
    return 0
