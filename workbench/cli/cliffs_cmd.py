"""``workbench cliffs``: MoleculeACE activity-cliff pairs of a CSV (SMILES + potency)."""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]

PAIR_COLUMNS = [
    "smiles_i",
    "smiles_j",
    "tanimoto",
    "scaffold",
    "levenshtein",
    "potency_i_nM",
    "potency_j_nM",
    "pactivity_i",
    "pactivity_j",
    "fold_change",
    "sali",
]


def register(sub: argparse._SubParsersAction) -> None:
    helptext = "find activity-cliff pairs (MoleculeACE rules) in a CSV of SMILES and potencies"
    p = sub.add_parser("cliffs", help=helptext, description=helptext)
    p.add_argument("input", help="CSV with a smiles column and a potency column (MoleculeACE files work as they are)")
    p.add_argument("-o", "--output", help="output CSV, one row per cliff pair (default: stdout)")
    p.add_argument("--smiles-column", default="smiles")
    p.add_argument(
        "--potency-column", help="potency column (default: 'exp_mean [nM]', else the only other numeric column)"
    )
    p.add_argument("--unit", choices=["nM", "pActivity"], default="nM", help="potency unit (default nM)")
    p.add_argument("--similarity", type=float, default=0.9, help="similarity threshold (default 0.9)")
    p.add_argument("--fold-change", type=float, default=10.0, help="fold-change threshold, exclusive (default 10)")
    p.add_argument("--all-similar", action="store_true", help="write every similar pair, with an is_cliff column")
    p.set_defaults(func=run)


def _potency_column(frame, args: argparse.Namespace) -> str:
    from workbench.data.moleculeace import POTENCY_COLUMN

    if args.potency_column:
        if args.potency_column not in frame.columns:
            raise ValueError(f"no column '{args.potency_column}' in {args.input}")
        return args.potency_column
    if POTENCY_COLUMN in frame.columns:
        return POTENCY_COLUMN
    numeric = [c for c in frame.columns if c != args.smiles_column and frame[c].dtype.kind in "fi"]
    numeric = [c for c in numeric if c not in ("y", "cliff_mol")] or numeric
    if len(numeric) != 1:
        raise ValueError(f"cannot tell which column is the potency ({numeric}); pass --potency-column")
    return numeric[0]


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from workbench.cliffs import find_cliffs

    frame = pd.read_csv(args.input)
    if args.smiles_column not in frame.columns:
        raise ValueError(f"no '{args.smiles_column}' column in {args.input} (use --smiles-column)")
    column = _potency_column(frame, args)
    result = find_cliffs(
        frame[args.smiles_column].astype(str).tolist(),
        pd.to_numeric(frame[column], errors="coerce").to_numpy(),
        args.unit,
        similarity=args.similarity,
        fold_change=args.fold_change,
    )
    pairs = result.pairs if args.all_similar else result.cliffs
    cols = ["i", "j", *PAIR_COLUMNS] + (["is_cliff"] if args.all_similar else [])
    pairs[cols].to_csv(args.output or sys.stdout, index=False)
    bad = sum(1 for e in result.errors if e)
    print(
        f"{len(result.cliffs)} cliff pairs among {len(frame)} molecules; "
        f"{int(result.cliff_mol.sum())} cliff molecules; potency column '{column}' ({args.unit})",
        file=sys.stderr,
    )
    if bad:
        print(f"{bad} rows were left out (unparsable SMILES or missing potency)", file=sys.stderr)
    return 0
