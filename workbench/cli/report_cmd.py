"""``workbench report SMILES -o dossier.html``: one molecule's dossier as a self-contained HTML page."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="a one-page dossier of one molecule as self-contained HTML",
        description="Depiction, identifiers, descriptors, what standardization changed, every model's prediction "
        "with its ensemble spread, applicability domain, nearest training molecules, approved-drug percentiles, "
        "an attribution map, the lowest-energy conformer and the closest ChEBI-20 descriptions, with the model "
        "versions (weights sha256). One HTML file: no scripts, no external links, images inline.",
    )
    p.add_argument("smiles", help="the molecule as SMILES")
    p.add_argument("-o", "--output", default="dossier.html", help="output HTML file (default dossier.html)")
    p.add_argument(
        "--models",
        help="comma-separated checkpoint names or data-set names (bbbp picks every bbbp_* checkpoint); "
        "default: the MoleculeNet GIN of each data set",
    )
    p.add_argument("--explain", metavar="MODEL", help="model of the attribution map (default: the first model)")
    p.add_argument("--task", help="task of the attribution map (default: the model's first)")
    p.add_argument("--name", default="", help="title of the page (default 'Molecule dossier')")
    p.add_argument("--no-conformer", action="store_true", help="skip the 3D conformer")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.chem import parse_one
    from workbench.cli.predict_cmd import resolve_models
    from workbench.report import build_dossier, default_models, render_html

    parsed = parse_one(args.smiles)
    if not parsed.ok:  # before any model is loaded
        raise ValueError(f"cannot use '{args.smiles}': {parsed.error}")
    models = resolve_models(args.models) if args.models else default_models()
    if not models:
        raise ValueError("no MoleculeNet GIN checkpoint is registered; name models with --models")
    dossier = build_dossier(
        args.smiles,
        models,
        explain_model=args.explain,
        explain_task=args.task,
        name=args.name,
        conformers=not args.no_conformer,
    )
    if dossier.error:
        raise ValueError(f"cannot use '{args.smiles}': {dossier.error}")
    with open(args.output, "w", encoding="utf-8") as handle:
        handle.write(render_html(dossier))
    for section, problem in dossier.problems.items():
        print(f"{section}: {problem}", file=sys.stderr)
    print(
        f"wrote {args.output}: {len(models)} models, {len(dossier.problems)} sections with a problem",
        file=sys.stderr,
    )
    return 0
