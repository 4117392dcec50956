"""``workbench bench ...``: the resumable benchmarks (cliffs, pretraining, coldstart, load, transfer, screening)."""

from __future__ import annotations

import argparse
import shlex
import sys
from functools import partial
from pathlib import Path

__all__ = ["register"]

#: The benchmarks whose module (``bench/<name>.py``) has ``add_arguments`` and ``run_from_args``, and their help.
BENCHES = {
    "pretraining": "no pretraining vs each encoder in models/encoders, fine-tuned under the pretrain-gnns protocol",
    "coldstart": "seconds from navigation to each app page's first result, cold and warm (coldstart.md)",
    "load": "concurrent single-molecule sessions and the server's memory during a refused 331,000-row upload "
    "(sections of throughput.md)",
    "transfer": "task transfer with scarce labels on Tox21 and SIDER: single-task, multi-task, loss balancing, "
    "knowledge transfer, task-relation EBM and XGBoost baselines (transfer.md)",
    "champions": "every model family x feature set on the MoleculeNet scaffold split, the champion of each data "
    "set chosen on validation, beside GraphMVP's published rows (moleculenet.md)",
    "ifm": "MLP vs IFM-MLP with the IFM paper's inputs (descriptors + substructure keys) and a search, on repeated "
    "random splits and MoleculeACE cliff targets (ifm.md)",
    "screening": "MOSES molecules through `workbench screen`: molecules/s and peak memory, local and Ray engines, "
    "and the whole 1.58 M library (screening.md)",
}


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="run a benchmark and write its report under bench/results/")
    which = p.add_subparsers(dest="bench", metavar="BENCH", required=True)
    c = which.add_parser(
        "cliffs",
        help="MoleculeACE RMSE / RMSE_cliff for KNN, RF, SVM, XGBoost, MLP, IFM-MLP and GINs, plus IFM diagnostics",
    )
    c.add_argument("--targets", nargs="*", help="MoleculeACE targets (default: all 30)")
    c.add_argument(
        "--models", nargs="*", default=["KNN", "RF", "SVM", "XGBoost", "MLP", "IFM-MLP", "SVM-Tanimoto", "Consensus"]
    )
    c.add_argument("--gin-models", nargs="*", default=["GIN", "IFM-GIN"])
    c.add_argument("--gin-epochs", type=int, default=40)
    c.add_argument("--no-diagnostics", action="store_true", help="skip the rotation and MoleculeNet tables")
    c.add_argument("--cache", type=Path, default=Path("bench/results/cache/cliffs"), help="per-result JSON cache")
    c.add_argument("--out", type=Path, default=Path("bench/results"), help="folder for cliffs.md/.csv/.png")
    c.add_argument("--report-only", action="store_true", help="only rewrite the report from the cache")
    c.set_defaults(func=run_cliffs)
    for name, text in BENCHES.items():
        parser = which.add_parser(name, help=text)
        _bench_module(name).add_arguments(parser)
        parser.set_defaults(func=partial(run_bench, name))


def _bench_module(name: str):
    """Import ``bench.<name>`` from the repository checkout (benchmarks are not part of the installed package)."""
    import importlib

    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module(f"bench.{name}")


def run_cliffs(args: argparse.Namespace) -> int:
    cliff_benchmark = _bench_module("cliffs")

    if not args.report_only:
        cliff_benchmark.run(
            args.targets,
            args.models,
            gin_models=args.gin_models,
            diagnostics=not args.no_diagnostics,
            cache_dir=args.cache,
            gin_epochs=args.gin_epochs,
            log=lambda msg: print(msg, file=sys.stderr, flush=True),
        )
    command = "workbench " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["bench"] else ""
    path = cliff_benchmark.write_report(args.cache, args.out, command=command or "workbench bench cliffs")
    print(path)
    return 0


def run_bench(name: str, args: argparse.Namespace) -> int:
    """Run ``bench/<name>.py`` with the parsed options; its report names the command as typed."""
    typed = sys.argv[1:3] == ["bench", name]
    command = "workbench " + shlex.join(sys.argv[1:]) if typed else f"workbench bench {name}"
    return _bench_module(name).run_from_args(args, command)
