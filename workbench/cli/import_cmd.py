"""``workbench import admet-ai``: convert external checkpoints once into workbench checkpoints."""

from __future__ import annotations

import argparse

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("import", help="convert checkpoints shipped by other packages (ADMET-AI) into models/")
    which = p.add_subparsers(dest="import_source", metavar="SOURCE")
    a = which.add_parser(
        "admet-ai",
        help="ADMET-AI's Chemprop ensembles (41 endpoints) -> models/admet_ai (safetensors + card)",
        description="Reads the .pt files inside the installed admet-ai package with torch.load(weights_only=True), "
        "every class mapped to an inert placeholder (no code from the files runs), and writes stacked safetensors "
        "weights run by the workbench's own Chemprop re-implementation.",
    )
    a.add_argument("--models-dir", default="models")
    a.add_argument("--name", default="admet_ai")
    a.add_argument("--package-dir", help="an admet_ai package folder (default: the installed one)")
    a.set_defaults(func=run_admet_ai)
    p.set_defaults(func=lambda _args: p.print_help() or 2)


def run_admet_ai(args: argparse.Namespace) -> int:
    from workbench.models.importers.admet_ai import import_admet_ai

    card = import_admet_ai(args.models_dir, name=args.name, package_dir=args.package_dir)
    print(f"wrote {args.models_dir}/{card.name}: {len(card.tasks)} tasks, {len(card.weights)} weight files")
    return 0
