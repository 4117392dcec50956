"""``workbench predict in.csv [--models bbbp,tox21] -o out.csv``: streaming batch prediction with row-level errors."""

from __future__ import annotations

import argparse
import sys

from workbench.cli.streaming import (
    ChunkWriter,
    add_chunk_option,
    check_at_least,
    check_common,
    chunks_or_empty,
    read_errors_first,
    user_part,
)

__all__ = ["register"]

#: Rows per chunk for ``predict``: each parsed molecule holds ~30 KB (standardized RDKit molecule and its
#: frame row) on top of the models, so 1,000 keeps one GIN under 0.7 GB where 5,000 reached 1.1 GB.
PREDICT_CHUNK_SIZE = 1_000


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "predict",
        help="predict properties for a file of molecules with the shipped checkpoints",
        description="One output row per input row, in order, with an 'error' column, a 'warnings' column naming "
        "what standardization changed (a removed counter-ion, neutralized charges, ...) and, per model and task, "
        "the ensemble mean ('MODEL:TASK') and standard deviation ('MODEL:TASK:std').",
    )
    p.add_argument("input", help="a CSV with a smiles column, a .smi or an .sdf file")
    p.add_argument("-o", "--output", help="output CSV (default: stdout)")
    p.add_argument(
        "--models",
        help="comma-separated checkpoint names or data-set names (bbbp picks every bbbp_* checkpoint); "
        "default: every MoleculeNet checkpoint",
    )
    p.add_argument("--smiles-column", help="CSV column holding the SMILES (default: 'smiles')")
    p.add_argument(
        "--batch-size",
        type=int,
        default=256,
        help="molecules per network call (default 256; larger is slightly faster and uses more memory)",
    )
    add_chunk_option(p, default=PREDICT_CHUNK_SIZE)
    p.add_argument(
        "--precision",
        choices=["fp32", "bf16"],
        help="numeric precision of neural models (default: WORKBENCH_PRECISION or fp32; bf16 is faster on "
        "CPUs with bf16 support and differs from fp32 by up to ~1e-2 in probabilities)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def resolve_models(spec: str | None) -> list[str]:
    """Checkpoint names for ``--models``: exact names, or data-set prefixes; default all MoleculeNet ones."""
    from workbench.predict.inference import list_models

    available = list_models()
    if not spec:
        chosen = [c.name for c in available if c.group == "MoleculeNet"]
        if not chosen:
            raise ValueError("no MoleculeNet checkpoints are registered (see `workbench models list`)")
        return chosen
    names = [c.name for c in available]
    chosen: list[str] = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        matches = [item] if item in names else [n for n in names if n.startswith(item.lower() + "_")]
        if not matches:
            raise ValueError(f"no checkpoint matches '{item}'; registered: {', '.join(names) or 'none'}")
        chosen += [m for m in matches if m not in chosen]
    return chosen


def run(args: argparse.Namespace) -> int:
    from tqdm.auto import tqdm

    from workbench.chem.files import iter_molecule_chunks
    from workbench.predict.inference import load_model, predict
    from workbench.predict.user_columns import join_user_columns

    check_common(args)
    check_at_least("--batch-size", args.batch_size)
    models = [load_model(name, precision=args.precision) for name in resolve_models(args.models)]
    chunks = iter_molecule_chunks(args.input, chunk_size=args.chunk_size, smiles_column=args.smiles_column)
    with (
        ChunkWriter(args.output) as writer,
        tqdm(unit="mol", desc="predicting", disable=args.no_progress, file=sys.stderr) as bar,
    ):
        for chunk in chunks_or_empty(chunks):
            smiles = chunk["smiles"].fillna("").astype(str).tolist()
            result = read_errors_first(predict(smiles, models, batch_size=args.batch_size), chunk)
            writer.write_csv(join_user_columns(user_part(chunk), result))
            bar.update(len(chunk))
    counts = writer.counts
    print(
        f"{counts.rows} rows, {counts.errors} with an error, {counts.warned} changed by standardization "
        f"(see 'warnings'); models: {', '.join(m.name for m in models)}",
        file=sys.stderr,
    )
    return 0
