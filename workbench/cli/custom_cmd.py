"""``workbench train custom DATA --target COLUMN``: a validated model on a user's own measurements.

Writes a normal checkpoint into the user's models folder (``WORKBENCH_MODELS_DIR``, default
``~/.local/share/workbench/models``), where ``workbench predict``, ``workbench models list`` and the Property
prediction page find it at once.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

__all__ = ["register", "run_custom"]


def register(verbs: argparse._SubParsersAction) -> None:
    c = verbs.add_parser(
        "custom",
        help="train on your own data (CSV / SMI / SDF with measured values) and save a model you can predict with",
        description="Standardize the molecules, drop and report what cannot be used, split (scaffold by default), "
        "search random forests, XGBoost and SVRs on ECFP4 + RDKit descriptors, choose on validation, calibrate "
        "(classification) or add conformal intervals (regression), refit on train + validation and report the "
        "untouched test metrics; then write the checkpoint.",
    )
    c.add_argument("data", help="a CSV / TSV (with a SMILES column), .smi or .sdf file")
    c.add_argument("--target", action="append", required=True, metavar="COLUMN", help="column to learn (repeatable)")
    c.add_argument("--task", default="auto", choices=["auto", "regression", "classification"])
    c.add_argument(
        "--transform",
        default="none",
        choices=["none", "log10", "pIC50-from-nM"],
        help="target transform (pIC50-from-nM: 9 - log10(value in nM))",
    )
    c.add_argument("--split", default="scaffold", help="scaffold (default), random, or column:NAME (train/valid/test)")
    c.add_argument("--effort", default="quick", choices=["quick", "thorough"])
    c.add_argument("--seed", type=int, default=0, help="split, folds and model seeds (default 0)")
    c.add_argument("--coverage", type=float, default=0.9, help="conformal interval coverage (default 0.9)")
    c.add_argument("--name", help="model name (default: the file's stem, lowercase)")
    c.add_argument("--smiles-column", help="CSV column holding the SMILES (default: found by name)")
    c.add_argument("--models-dir", help="where to write (default: WORKBENCH_MODELS_DIR or the user folder)")
    c.add_argument("--overwrite", action="store_true", help="replace a user model of the same name")
    c.add_argument("--jobs", type=int, default=1, help="CPU workers for the forests and boosters")
    c.set_defaults(func=run_custom)


def _default_name(path: Path) -> str:
    import re

    stem = path.name.split(".")[0]
    return re.sub(r"[^a-z0-9_.-]+", "_", stem.lower()).strip("._-")[:64] or "my_model"


def _command(args: argparse.Namespace) -> str:
    parts = ["workbench", "train", "custom", str(args.data)]
    for target in args.target:
        parts += ["--target", target]
    parts += ["--task", args.task, "--transform", args.transform, "--split", args.split, "--effort", args.effort]
    parts += ["--seed", str(args.seed), "--coverage", str(args.coverage), "--name", args.name]
    if args.smiles_column:
        parts += ["--smiles-column", args.smiles_column]
    return shlex.join(parts)


def run_custom(args: argparse.Namespace) -> int:
    """Train, print the report, save; a bad input or name is one line on stderr and exit status 2."""
    from workbench.chem.files import MoleculeFileError, read_molecules
    from workbench.custom.checkpoint import ModelNameError, check_model_name, save_custom_model
    from workbench.custom.data import CustomDataError, prepare_user_data
    from workbench.custom.report import summary_lines
    from workbench.custom.training import CustomConfig, TrainingCancelled, train_custom
    from workbench.hashing import sha256_file

    path = Path(args.data)
    args.name = args.name or _default_name(path)
    models_dir = Path(args.models_dir) if args.models_dir else None
    try:
        check_model_name(args.name, models_dir, overwrite=args.overwrite)
        if not path.is_file():
            raise CustomDataError(f"{path} is not a file")
        frame = read_molecules(path, smiles_column=args.smiles_column)
        split_column = args.split.split(":", 1)[1] if args.split.startswith("column:") else None
        data = prepare_user_data(
            frame,
            args.target,
            task=args.task,
            transform=args.transform,
            split_column=split_column,
            name=path.name,
            sha256=sha256_file(path),
        )
        config = CustomConfig(args.split, args.effort, args.seed, args.coverage, args.jobs)

        def progress(fraction: float, message: str) -> None:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr, flush=True)

        result = train_custom(data, config, progress=progress)
    except (CustomDataError, ModelNameError, MoleculeFileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (TrainingCancelled, KeyboardInterrupt):
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    for line in summary_lines(result):
        print(line)
    folder = save_custom_model(
        result, args.name, models_dir=models_dir, command=_command(args), overwrite=args.overwrite, log=lambda _m: None
    )
    print(f"wrote {folder}: predict with `workbench predict FILE --models {args.name}`")
    return 0
