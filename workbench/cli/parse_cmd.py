"""``workbench standardize`` and ``workbench descriptors``: batch chemistry with row-level errors and warnings.

The ``warnings`` column names what standardization changed in a row (fragments removed,
charges neutralized, stereo marks dropped); ``error`` says why a row has no result.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator

from workbench.cli.streaming import ChunkWriter, add_chunk_option, check_common, chunks_or_empty, read_errors_first

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
        add_chunk_option(p)
        p.set_defaults(func=func)


def _chunks(args: argparse.Namespace) -> Iterator:
    from workbench.chem.files import iter_molecule_chunks, iter_smi_chunks

    if args.input == "-":
        return iter_smi_chunks(sys.stdin, chunk_size=args.chunk_size)
    return iter_molecule_chunks(args.input, chunk_size=args.chunk_size, smiles_column=args.smiles_column)


def _options(args: argparse.Namespace) -> dict[str, object]:
    return {
        "max_heavy_atoms": args.max_heavy_atoms,
        "largest_fragment": not args.keep_fragments,
        "neutralize": not args.no_neutralize,
    }


def _stream(args: argparse.Namespace, table: Callable) -> int:
    """Read a chunk, make its table (``table(smiles, **options)``), append it to the output; then the summary."""
    check_common(args, stdin=True)
    with ChunkWriter(args.output) as writer:
        for chunk in chunks_or_empty(_chunks(args)):
            smiles = chunk["smiles"].fillna("").astype(str).tolist()
            writer.write_csv(read_errors_first(table(smiles, **_options(args)), chunk))
    counts = writer.counts
    if counts.errors:
        print(f"{counts.errors} of {counts.rows} rows have an error (see the 'error' column)", file=sys.stderr)
    if counts.warned:
        print(
            f"{counts.warned} of {counts.rows} rows were changed by standardization (see the 'warnings' column)",
            file=sys.stderr,
        )
    return 0


#: The descriptors that are not whole numbers; every other one is written as ``2``, not ``2.0``, in every chunk.
FRACTIONAL_DESCRIPTORS = ("MW", "cLogP", "TPSA", "QED")


def _descriptors(smiles: list[str], **options: object):
    """The descriptor table with whole-number columns as integers, so every chunk prints them alike."""
    from workbench.chem import DESCRIPTOR_COLUMNS, descriptor_table

    table = descriptor_table(smiles, **options)
    for column in (c for c in DESCRIPTOR_COLUMNS if c not in FRACTIONAL_DESCRIPTORS):
        table[column] = table[column].astype("Int64")
    return table


def run_standardize(args: argparse.Namespace) -> int:
    from workbench.chem import parse

    def table(smiles: list[str], **options: object):
        frame = parse(smiles, **options)
        frame.attrs = {}
        return frame

    return _stream(args, table)


def run_descriptors(args: argparse.Namespace) -> int:
    return _stream(args, _descriptors)
