"""``workbench screen LIBRARY -o hits.parquet [--models ...] [--where EXPR] [--top N --by COL]``: screen at scale."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import sys
import threading
from pathlib import Path

from workbench.cli.streaming import UsageError, add_chunk_option, check_at_least, check_output

__all__ = ["register"]

#: Rows per chunk: a chunk is the unit of work of a worker and of ``--resume`` (as ``predict``'s 1,000: bounded
#: memory per worker with a GIN or Chemprop ensemble).
SCREEN_CHUNK_SIZE = 1_000
#: What ``--engine ray`` needs (pinned in requirements.txt).
RAY_REQUIREMENT = "ray[data]==2.60.0"

DESCRIPTION = """\
Predict, filter and rank a library of molecules with the shipped checkpoints, streaming: the library (a file or a
folder of CSV / TSV / SMI / SDF / Parquet files, optionally .gz) is read in chunks, each chunk is screened by one of
--workers processes and saved in a chunks folder beside the output (.NAME.chunks/, with a manifest), and at the end
the chunks are combined into one Parquet file, written under a hidden name and renamed when complete.

Output columns: source (file), row (0-based, in that file), smiles (input), canonical_smiles, per model and task
MODEL:TASK and MODEL:TASK:std, the descriptors named by --where / --by (MW, logP, TPSA, HBD, HBA, RotB, rings,
heavy_atoms, QED), prompt_score with --prompt, error and warnings. Without --where / --top every input row is
written, in order, bad rows with their error.

An interrupted run keeps its finished chunks: run the same command with --resume to continue (chunks whose input
rows are unchanged are not computed again). Without --resume a chunks folder holding finished chunks is refused;
--overwrite deletes it. The chunks folder is deleted after a finished run unless --keep-chunks (then --resume with
another --where or --top filters again without predicting again).

--engine ray runs the same screen with Ray Data (pip install 'ray[data]==2.60.0'): a local Ray on this machine's
CPUs, or the cluster of --ray-address (auto: the one this machine belongs to; every node with the same installation).
The library is read on this machine, actors load the models once each (one GPU each when the cluster has GPUs) and
screen chunk by chunk, and this machine writes the chunks, the manifest and the output: the same file as --engine
local, and --resume continues a run of either engine."""


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "screen",
        help="screen a large library: predict, filter (--where) and rank (--top) into a Parquet file",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("library", nargs="?", help="a molecule file or a folder of them")
    p.add_argument("-o", "--output", required=True, help="the output Parquet file")
    p.add_argument(
        "--library",
        dest="named_library",
        metavar="NAME",
        help="a named library instead of LIBRARY: moses (the MOSES training set, 1.58 M molecules, from the PyPI "
        "package molsets==0.3.1)",
    )
    p.add_argument(
        "--models",
        help="comma-separated checkpoint names or data-set names (bbbp picks every bbbp_* checkpoint); default: "
        "none (standardization, descriptors and prompt only)",
    )
    p.add_argument(
        "--where",
        metavar="EXPR",
        help="keep rows matching EXPR: comparisons of columns with numbers or strings joined by and / or / not, "
        'e.g. "admet_ai:BBB_Martins > 0.7 and MW < 450" (a comparison with a missing value is false)',
    )
    p.add_argument("--top", type=int, metavar="N", help="keep the N best rows by --by (written best first)")
    p.add_argument("--by", metavar="COLUMN", help="the column --top ranks by (largest first)")
    p.add_argument("--ascending", action="store_true", help="with --top: the smallest values are the best")
    p.add_argument("--prompt", metavar="TEXT", help="score each molecule against a text (column prompt_score)")
    p.add_argument(
        "--engine",
        choices=["local", "ray"],
        default="local",
        help="local: worker processes on this machine (default); ray: Ray Data, on a local Ray or a cluster "
        "(--ray-address), the same output file",
    )
    p.add_argument(
        "--ray-address",
        metavar="ADDRESS",
        help="with --engine ray: the cluster to join (auto: the one this machine belongs to; ray://HOST:10001); "
        "default a local Ray on this machine's CPUs",
    )
    p.add_argument(
        "--featurize-stage",
        choices=["auto", "on", "off"],
        default="auto",
        help="with --engine ray: featurize in CPU actors before the screening actors, which then run networks only "
        "(auto: on when the actors get GPUs)",
    )
    add_chunk_option(p, default=SCREEN_CHUNK_SIZE)
    p.add_argument(
        "--workers",
        type=int,
        help="worker processes (default: min(2, CPU count); 1 = in this process); with --engine ray: actors "
        "(default: one per GPU, else one per CPU minus one kept for reading)",
    )
    p.add_argument("--resume", action="store_true", help="continue an interrupted run (same settings)")
    p.add_argument("--overwrite", action="store_true", help="delete an earlier run's chunks folder and start again")
    p.add_argument("--keep-chunks", action="store_true", help="keep the chunks folder after the output is written")
    p.add_argument("--smiles-column", help="CSV / Parquet column holding the SMILES (default: 'smiles', any case)")
    p.add_argument("--batch-size", type=int, default=256, help="molecules per network call (default 256)")
    p.add_argument("--precision", choices=["fp32", "bf16"], help="numeric precision of neural models")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def _checkpoints(spec: str | None) -> tuple[list, list]:
    """The chosen checkpoints (none without ``--models``) and every registered one.

    Names resolve as in ``workbench predict`` (exact names, or data-set prefixes), from the registry's cards
    only: the main process does not import torch (~300 MB) when the workers do the predicting.
    """
    from workbench.models import find_checkpoints

    registered = find_checkpoints()[0]
    by_name = {c.name: c for c in registered}
    chosen: list = []
    for item in (s.strip() for s in (spec or "").split(",") if s.strip()):
        matches = [item] if item in by_name else [n for n in by_name if n.startswith(item.lower() + "_")]
        if not matches:
            raise ValueError(f"no checkpoint matches '{item}'; registered: {', '.join(by_name) or 'none'}")
        chosen += [by_name[m] for m in matches if by_name[m] not in chosen]
    return chosen, registered


def _library(args: argparse.Namespace) -> Path:
    from workbench.screen import LibraryError, resolve_library

    try:
        library = resolve_library(args.library, args.named_library)
    except LibraryError as exc:
        raise UsageError(str(exc)) from None
    if library.is_dir() and Path(args.output).resolve().is_relative_to(library.resolve()):
        raise UsageError(f"the output {args.output} is inside the library folder {library}; write it elsewhere")
    return library


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds: workers stopped, the hidden output file deleted


def run(args: argparse.Namespace) -> int:
    from workbench.screen import ResumeError, WhereError, default_workers, plan_screen, run_screen

    check_output(args.output)
    check_at_least("--chunk-size", args.chunk_size)
    check_at_least("--batch-size", args.batch_size)
    use_ray = args.engine == "ray"
    workers = args.workers or (None if use_ray else default_workers())
    if workers is not None:
        check_at_least("--workers", workers)
    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    if args.ray_address and not use_ray:
        raise UsageError("--ray-address goes with --engine ray")
    if args.featurize_stage != "auto" and not use_ray:
        raise UsageError("--featurize-stage goes with --engine ray")
    if use_ray and importlib.util.find_spec("ray") is None:
        raise UsageError(f"--engine ray needs Ray; install it with: pip install '{RAY_REQUIREMENT}'")
    library = _library(args)
    chosen, registered = _checkpoints(args.models)
    try:
        plan = plan_screen(
            chosen,
            where=args.where,
            top=args.top,
            by=args.by,
            ascending=args.ascending,
            prompt=args.prompt,
            registered=registered,
            smiles_column=args.smiles_column,
            batch_size=args.batch_size,
            precision=args.precision,
        )
    except WhereError as exc:
        raise UsageError(str(exc)) from None

    def skipped(message: str) -> None:
        print(f"workbench: warning: {message}", file=sys.stderr)

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm) if main else None
    common = {
        "chunk_size": args.chunk_size,
        "resume": args.resume,
        "overwrite": args.overwrite,
        "keep_chunks": args.keep_chunks,
        "progress": not args.no_progress,
        "on_skip": skipped,
    }
    how = f"{workers} worker{'s' if workers != 1 else ''}"
    try:
        if use_ray:
            from workbench.screen.ray_engine import run_ray_screen

            def sized(sizing, stages) -> None:
                nonlocal how
                gpus = f", {sizing.gpus_per_actor:g} GPU" if sizing.gpus_per_actor else ""
                plural = "s" if sizing.actors != 1 else ""
                how = f"Ray: {sizing.actors} actor{plural} of {sizing.cpus_per_actor:g} CPU{gpus} each"
                if stages is not None:
                    n = stages.featurizers
                    how += f" after {n} featurizer{'s' if n != 1 else ''} of {stages.cpus_per_featurizer:g} CPU"
                print(f"workbench: {how}, {sizing.read_cpus:g} CPU kept for reading", file=sys.stderr)

            stage = {"auto": None, "on": True, "off": False}[args.featurize_stage]
            summary = run_ray_screen(
                library,
                args.output,
                plan,
                actors=workers,
                address=args.ray_address,
                on_sizing=sized,
                featurize_stage=stage,
                **common,
            )
        else:
            summary = run_screen(library, args.output, plan, workers=workers, **common)
    except ResumeError as exc:
        raise UsageError(str(exc)) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    resumed = f", {summary.resumed_chunks} resumed" if summary.resumed_chunks else ""
    print(
        f"{summary.rows:,} molecules ({summary.errors:,} with an error) in {summary.chunks} chunks{resumed}; "
        f"{summary.written:,} rows written to {args.output} in {summary.seconds:.1f} s "
        f"({summary.rate:,.0f} molecules/s, {how})",
        file=sys.stderr,
    )
    return 0
