"""``workbench conformers``: 3D conformer ensembles for a file of molecules, written to one SDF."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workbench.cli.streaming import ChunkWriter, add_chunk_option, check_at_least, check_common, check_output

__all__ = ["register"]

FORCE_FIELD_NAMES = {"MMFF94s": "MMFF94s", "MMFF94": "MMFF94", "UFF": "UFF", "none": None}


def register(sub: argparse._SubParsersAction) -> None:
    helptext = "3D conformers (ETKDGv3 + force field) for each molecule, written to an SDF with energies and weights"
    p = sub.add_parser("conformers", help=helptext, description=helptext)
    p.add_argument("input", help="a .smi, a .csv with a smiles column, or an .sdf file")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output .sdf (errors go to OUTPUT.errors.csv beside it: row, input, name, error, warnings)",
    )
    p.add_argument("-n", "--num-conformers", type=int, default=10, help="conformers to embed per molecule (10)")
    p.add_argument("--force-field", choices=list(FORCE_FIELD_NAMES), default="MMFF94s", help="optimizer (MMFF94s)")
    p.add_argument("--prune-rms", type=float, default=0.5, help="heavy-atom RMSD (Å) for duplicates (0.5)")
    p.add_argument("--seed", type=int, default=42, help="random seed (42)")
    p.add_argument("--max-seconds", type=float, default=60.0, help="time limit per molecule (60)")
    p.add_argument("--max-heavy-atoms", type=int, default=100, help="refuse larger molecules (100)")
    p.add_argument("--smiles-column", help="CSV column holding the SMILES (default: 'smiles')")
    p.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (1; 0 = one per CPU)")
    p.add_argument("--cache", help="SQLite cache file to reuse ensembles across runs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_chunk_option(p)
    p.set_defaults(func=run)


def errors_path(output: str | Path) -> Path:
    """Where the failures of a run writing ``output`` are listed: ``<output>.errors.csv``."""
    output = Path(output)
    return output.with_name(output.name + ".errors.csv")


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from workbench.chem import join_warnings, parse_many
    from workbench.chem.files import iter_molecule_chunks
    from workbench.conformers import generate_conformers_batch

    check_common(args)
    check_output(str(errors_path(args.output)))
    check_at_least("--num-conformers", args.num_conformers)
    output, side = Path(args.output), errors_path(args.output)
    total = failed = conformers = 0
    changed, first_changed = 0, []
    chunks = iter_molecule_chunks(args.input, chunk_size=args.chunk_size, smiles_column=args.smiles_column)
    with ChunkWriter(str(output)) as sdf, ChunkWriter(str(side)) as errors:
        for chunk in chunks:
            smiles = chunk["smiles"].fillna("").astype(str).tolist()
            names = chunk["name"].tolist() if "name" in chunk.columns else [""] * len(smiles)
            read_errors = chunk["read_error"].tolist() if "read_error" in chunk.columns else [""] * len(smiles)
            ensembles = generate_conformers_batch(
                smiles,
                n_jobs=args.jobs,
                progress=not args.quiet,
                cache=args.cache,
                n=args.num_conformers,
                optimize=FORCE_FIELD_NAMES[args.force_field],
                prune_rms=args.prune_rms,
                seed=args.seed,
                max_seconds=args.max_seconds,
                max_heavy_atoms=args.max_heavy_atoms,
            ).attrs["ensembles"]
            # what standardization changed in each input (the same parse options as conformer generation)
            warnings = [join_warnings(p.warnings) for p in parse_many(smiles, max_heavy_atoms=10**6, inchikey=False)]
            failures = []
            for row, (ensemble, name, read_error, warning) in enumerate(
                zip(ensembles, names, read_errors, warnings, strict=True), start=total + 1
            ):
                error = read_error or ensemble.error
                if error:
                    failures.append(
                        {"row": row, "input": ensemble.input, "name": name, "error": error, "warnings": warning}
                    )
                    print(f"row {row} ({ensemble.input or 'empty'}): {error}", file=sys.stderr)
                    continue
                sdf.write_text(ensemble.to_sdf(name=str(name or ensemble.smiles)))
                conformers += ensemble.n_conformers
                if warning:
                    changed += 1
                    first_changed += [row] if len(first_changed) < 10 else []
            if failures:
                errors.write_csv(pd.DataFrame(failures, columns=["row", "input", "name", "error", "warnings"]))
            total += len(ensembles)
            failed += len(failures)
    if not failed:
        side.unlink(missing_ok=True)  # no failures: no list (and a stale one from an earlier run would mislead)
    else:
        print(f"{failed} of {total} molecules failed; listed in {side}", file=sys.stderr)
    if changed:
        shown = ", ".join(map(str, first_changed)) + (", ..." if changed > 10 else "")
        print(
            f"{changed} molecules were changed by standardization before embedding (removed counter-ions, "
            f"neutralized charges, ...): rows {shown}; `workbench standardize` lists what changed",
            file=sys.stderr,
        )
    print(f"wrote {conformers} conformers of {total - failed} molecules to {output}", file=sys.stderr)
    return 0
