"""``workbench standardize`` and ``workbench descriptors``: batch chemistry with row-level errors and warnings.

The ``warnings`` column names what standardization changed in a row (fragments removed,
charges neutralized, stereo marks dropped); ``error`` says why a row has no result.
"""

from __future__ import annotations

import argparse
import sys

__all__ = ["register"]


def register(sub: argparse._SubParsersAction) -> None:
    for verb, helptext, func in [
        (
            "standardize",
            "parse and standardize molecules: canonical SMILES, InChIKey, error and warnings per row",
            run_standardize,
        ),
        (
            "descriptors",
            "compute the descriptor table (MW, cLogP, TPSA, ...) with an error and warnings per row",
            run_descriptors,
        ),
    ]:
        p = sub.add_parser(verb, help=helptext, description=helptext)
        p.add_argument("input", help="a .csv with a smiles column, a .smi or an .sdf file; or '-' for SMILES on stdin")
        p.add_argument("-o", "--output", help="output CSV (default: stdout)")
        p.add_argument("--smiles-column", help="CSV column holding the SMILES (default: 'smiles')")
        p.add_argument("--max-heavy-atoms", type=int, default=150, help="refuse larger molecules (default 150)")
        p.add_argument("--keep-fragments", action="store_true", help="do not strip salts and solvents")
        p.add_argument("--no-neutralize", action="store_true", help="keep charges as given")
        p.set_defaults(func=func)


def _inputs(args: argparse.Namespace) -> list[str]:
    from workbench.chem.files import read_molecules, read_smi

    frame = (
        read_smi(sys.stdin.read())
        if args.input == "-"
        else read_molecules(args.input, smiles_column=args.smiles_column)
    )
    return frame["smiles"].tolist()


def _options(args: argparse.Namespace) -> dict[str, object]:
    return {
        "max_heavy_atoms": args.max_heavy_atoms,
        "largest_fragment": not args.keep_fragments,
        "neutralize": not args.no_neutralize,
    }


def _write(frame, args: argparse.Namespace) -> int:
    frame.to_csv(args.output or sys.stdout, index=False)
    failed = int((frame["error"] != "").sum())
    if failed:
        print(f"{failed} of {len(frame)} rows have an error (see the 'error' column)", file=sys.stderr)
    changed = int((frame["warnings"] != "").sum())
    if changed:
        print(
            f"{changed} of {len(frame)} rows were changed by standardization (see the 'warnings' column)",
            file=sys.stderr,
        )
    return 0


def run_standardize(args: argparse.Namespace) -> int:
    from workbench.chem import parse

    return _write(parse(_inputs(args), **_options(args)), args)


def run_descriptors(args: argparse.Namespace) -> int:
    from workbench.chem import descriptor_table

    return _write(descriptor_table(_inputs(args), **_options(args)), args)
