"""``workbench cliffs``: MoleculeACE activity-cliff pairs of a CSV (SMILES + potency)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.streaming import UsageError, check_input, check_output

__all__ = ["MAX_MOLECULES", "register"]

#: Cliffs compare every pair of molecules (n² / 2 pairs, three similarities each), so the input cannot be
#: streamed; a larger file is refused before any work, with this number in the message.
MAX_MOLECULES = 20_000

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
    helptext = (
        "find activity-cliff pairs (MoleculeACE rules) in a CSV of SMILES and potencies "
        f"(at most {MAX_MOLECULES:,} molecules: every pair is compared)"
    )
    p = sub.add_parser("cliffs", help=helptext, description=helptext)
    p.add_argument("input", help="CSV with a smiles column and a potency column (MoleculeACE files work as they are)")
    p.add_argument("-o", "--output", help="output CSV, one row per cliff pair (default: stdout)")
    p.add_argument(
        "--smiles-column",
        help="SMILES column (default: the column whose cells parse as molecules; 'smiles' when several do)",
    )
    p.add_argument(
        "--potency-column",
        help="potency column (default: 'exp_mean [nM]', else the only numeric column that is not an id or a 0/1 flag)",
    )
    p.add_argument("--unit", choices=["nM", "pActivity"], default="nM", help="potency unit (default nM)")
    p.add_argument("--similarity", type=float, default=0.9, help="similarity threshold (default 0.9)")
    p.add_argument("--fold-change", type=float, default=10.0, help="fold-change threshold, exclusive (default 10)")
    p.add_argument("--all-similar", action="store_true", help="write every similar pair, with an is_cliff column")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from workbench.cliffs import find_cliffs
    from workbench.cliffs.columns import ColumnError, cliff_input, detect_columns, read_potency_csv

    check_input(args.input)
    check_output(args.output)
    rows = _count_lines(Path(args.input), MAX_MOLECULES + 1) - 1  # the header line
    if rows > MAX_MOLECULES:
        raise UsageError(
            f"{args.input} has more than {MAX_MOLECULES:,} rows; cliffs compares every pair of molecules, so it "
            f"takes at most {MAX_MOLECULES:,} (split the file, e.g. by target or assay)"
        )
    try:
        frame = read_potency_csv(args.input)
        choice = detect_columns(frame, smiles=args.smiles_column, potency=args.potency_column)
    except ColumnError as exc:
        hint = f"; pass --{exc.field}-column" if exc.field else ""
        raise ValueError(f"{args.input}: {exc}{hint}") from exc
    data = cliff_input(frame, choice.smiles, choice.potency)
    result = find_cliffs(
        data["smiles"].tolist(),
        data["potency"].to_numpy(),
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
        f"{int(result.cliff_mol.sum())} cliff molecules; {choice.note}; potency unit {args.unit}",
        file=sys.stderr,
    )
    if bad:
        print(f"{bad} rows were left out (unparsable SMILES or missing potency)", file=sys.stderr)
    return 0


def _count_lines(path: Path, stop: int) -> int:
    """Lines in a file, counted in 1 MiB blocks, up to a little past ``stop`` (a huge file is not read)."""
    count, last = 0, b"\n"
    with path.open("rb") as handle:
        while count <= stop and (block := handle.read(1 << 20)):
            count += block.count(b"\n")
            last = block[-1:]
    return count + (last != b"\n")
