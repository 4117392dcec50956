"""Task transfer when labels are scarce: single-task vs multi-task vs task-relation transfer on Tox21 and SIDER.

Run: ``workbench bench transfer [--datasets tox21 sider] [--arms ...] [--seeds 0 1 2] [--epochs 8]
[--max-minutes M]``; ``--plan`` prints the cells and their estimated CPU time without running anything;
``--report-only`` rewrites ``bench/results/transfer.md`` from the stored cells.

Protocol (:mod:`workbench.transfer.protocol`): the scaffold split 80/10/10; target tasks keep a seeded share of their
*training* labels, helping tasks 90 %; validation and test keep every label. Each cell is one data set × target set
× arm × label fraction × seed (:func:`workbench.transfer.cells.run_cell`) and one row of
``bench/results/transfer.csv`` (committed), so a stopped run resumes at the next cell, and an unfinished GIN resumes
from its run folder under ``runs/bench-transfer``. The plan:

* **main**: every arm at 10 % on the paper's target pairs (``--seeds``, paired across arms) and on three random
  partitions with 25 % of the tasks as targets (``--random-seeds``);
* **sweep**: the single-task arm and the best transfer arm (``--sweep-arms``; ``best`` = the GIN transfer arm with
  the highest mean validation ROC-AUC over the paper targets at 10 % among the finished cells) on the pairs at 5, 25 and
  50 % (``--fractions``, ``--sweep-seeds``), for the plot of ROC-AUC against the label fraction.

Cost (:mod:`bench.transfer_plan`): the default plan is 96 + 12 cells, at most 8 epochs per network, estimated at
3.1 CPU hours with one thread from rates measured on the 2-CPU machine under load (an upper bound: every network
is counted for all its epochs; early stopping with patience 3 shortens it). Run one process at a time: cells are
appended to one CSV.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.cells import append_cell, read_cells

RESULTS = Path(__file__).parent / "results"
CELLS = RESULTS / "transfer.csv"
REPORT = RESULTS / "transfer.md"
FIGURE = RESULTS / "transfer_fractions.png"
RUNS = Path("runs/bench-transfer")
ENCODERS = Path("models/encoders")

DATASETS = ("tox21", "sider")
ARMS = ("single", "mtl", "uw", "gradnorm", "kt", "ebm", "xgb", "xgb_helpers")
TARGET_SETS = ("paper", "random0", "random1", "random2")
FRACTIONS = (0.05, 0.1, 0.25, 0.5)
MAIN_FRACTION = 0.1
#: The target of each data set drawn in the label-fraction plot (one of the paper's pair).
SWEEP_TASK = {"tox21": "SR-ARE", "sider": "Investigations"}

#: Default settings, chosen so that the default plan fits about 3 hours on the 2-CPU machine (see the report).
EPOCHS = 8
PATIENCE = 3

Log = Callable[[str], None]


def init_path(init: str) -> str | None:
    """``none`` → train from scratch; any other name → ``models/encoders/<name>`` (which must hold a card)."""
    if init == "none":
        return None
    folder = ENCODERS / init
    if not (folder / "card.json").is_file():
        raise SystemExit(f"no encoder '{init}': {folder}/card.json is missing (see `workbench models list`)")
    return str(folder)


def main_keys(datasets, target_sets, arms, seeds, random_seeds, init):
    """The 10 % cells: every arm on every target set (paper: ``seeds``; random partitions: ``random_seeds``)."""
    from workbench.transfer.cells import CellKey

    keys = []
    for dataset in datasets:
        for target_set in target_sets:
            for seed in seeds if target_set == "paper" else random_seeds:
                keys += [CellKey(dataset, target_set, arm, MAIN_FRACTION, seed, init) for arm in arms]
    return keys


def sweep_keys(datasets, fractions, sweep_arms, sweep_seeds, init):
    """The label-fraction cells on the paper pairs (``best`` is resolved when they run)."""
    from workbench.transfer.cells import CellKey

    return [
        CellKey(dataset, "paper", arm, fraction, seed, init)
        for dataset in datasets
        for fraction in fractions
        if not math.isclose(fraction, MAIN_FRACTION)
        for seed in sweep_seeds
        for arm in sweep_arms
    ]


def resolve_best(cells, init: str) -> str:
    """The GIN transfer arm with the highest mean paper-target validation ROC-AUC at 10 % (``kt`` if none yet)."""
    from workbench.transfer.results import best_transfer_arm, task_scores

    scores = task_scores(cells)
    if not scores.empty:
        scores = scores[(scores["target_set"] == "paper") & (scores["init"] == init)]
    arm, _ = best_transfer_arm(scores, fraction=MAIN_FRACTION) if not scores.empty else (None, math.nan)
    return arm or "kt"


def _done(cells, epochs: int) -> set[tuple]:
    if cells.empty:
        return set()
    return {
        (r.dataset, r.target_set, r.arm, round(float(r.fraction), 4), int(r.seed), r.init)
        for r in cells.itertuples()
        if int(r.epochs) == epochs
    }


def _key_tuple(key) -> tuple:
    return (key.dataset, key.target_set, key.arm, round(key.fraction, 4), key.seed, key.init)


def run(
    keys: Sequence,
    *,
    settings,
    sweep: Sequence = (),
    cells_path: Path = CELLS,
    runs: Path = RUNS,
    max_minutes: float | None = None,
    log: Log = print,
) -> int:
    """Run every missing cell of ``keys``, then of ``sweep`` (``best`` resolved first); returns the cells run."""
    from dataclasses import replace

    from bench.machine import load_average
    from workbench.transfer.data import load_transfer_data
    from workbench.transfer.protocol import LabelFractionError

    deadline = time.monotonic() + max_minutes * 60 if max_minutes else math.inf
    loaded: dict = {}
    cache: dict = {}
    ran = 0
    for phase, todo in (("main", list(keys)), ("sweep", list(sweep))):
        finished = read_cells(cells_path)
        if phase == "sweep" and any(k.arm == "best" for k in todo):
            best = {init: resolve_best(finished, init) for init in {k.init for k in todo}}
            todo = list(dict.fromkeys(replace(k, arm=best[k.init]) if k.arm == "best" else k for k in todo))
            log(f"sweep: best transfer arm {best}")
        have = _done(finished, settings.epochs)
        for key in todo:
            if _key_tuple(key) in have:
                continue
            if time.monotonic() > deadline:
                log(f"time budget reached after {ran} cells; run again to continue")
                return ran
            if key.dataset not in loaded:
                loaded.clear()  # one data set in memory at a time
                cache.clear()
                log(f"loading {key.dataset}")
                loaded[key.dataset] = load_transfer_data(key.dataset)
            log(f"{key.dataset} / {key.target_set} / {key.arm} / {key.fraction:g} / seed {key.seed} / {key.init}")
            load = load_average()
            cell_settings = replace(settings, init=init_path(key.init))
            try:
                row = _run_cell(key, loaded[key.dataset], cell_settings, runs, cache)
            except LabelFractionError as exc:
                log(f"  refused: {exc}")
                continue
            row["load_at_start"] = None if load is None else round(load, 1)
            append_cell(row, cells_path)
            have.add(_key_tuple(key))
            log(f"  test ROC-AUC {row['roc_auc']:.3f} {row['task_auc']} ({row['seconds']:.0f} s)")
            ran += 1
    return ran


def _run_cell(key, data, settings, runs: Path, cache: dict) -> dict:
    from workbench.transfer.cells import run_cell

    return run_cell(key, data, settings, run_root=runs, cache=cache)


def settings_from_args(args: argparse.Namespace):
    from workbench.transfer.arms import TrainSettings

    return TrainSettings(epochs=args.epochs, patience=args.patience)


def write_report(command: str, load_at_start: float | None = None, out: Path = RESULTS, note: str = "") -> Path:
    """Rewrite the report (and the label-fraction figure) from the stored cells of ``out``."""
    from bench.machine import describe_machine
    from bench.transfer_report import report

    cells = read_cells(out / CELLS.name)
    machine = describe_machine(load_at_start)
    text = report(cells, command=command, machine=machine, figure=out / FIGURE.name, note=note)
    (out / REPORT.name).write_text(text)
    return out / REPORT.name


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``workbench bench transfer`` (also ``python -m bench.transfer``)."""
    p.add_argument("--datasets", nargs="*", default=list(DATASETS))
    p.add_argument("--arms", nargs="*", default=list(ARMS), choices=ARMS)
    p.add_argument("--target-sets", nargs="*", default=list(TARGET_SETS), help="paper, random0..2")
    p.add_argument("--fractions", type=float, nargs="*", default=list(FRACTIONS), help="the sweep's label fractions")
    p.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="seeds of the paper pairs at 10 %%")
    p.add_argument("--random-seeds", type=int, nargs="*", default=[0], help="seeds of each random partition")
    p.add_argument("--sweep-arms", nargs="*", default=["single", "best"], help="arms of the fraction sweep")
    p.add_argument("--sweep-seeds", type=int, nargs="*", default=[0])
    p.add_argument("--epochs", type=int, default=EPOCHS, help="most epochs per network (early stopping)")
    p.add_argument("--patience", type=int, default=PATIENCE)
    p.add_argument("--init", default="none", help="encoder: none (from scratch) or a models/encoders name")
    p.add_argument(
        "--threads", type=int, default=1,
        help="PyTorch and XGBoost threads (default 1: on this 2-CPU machine under load, 2 threads cost 5-8x the CPU "
        "time per molecule; the --plan rates are one-thread rates)",
    )  # fmt: skip
    p.add_argument("--max-minutes", type=float, help="stop (resumably) after this long")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder of transfer.csv / .md / _fractions.png")
    p.add_argument("--runs", type=Path, default=RUNS, help="folder of the networks' run folders (resume)")
    p.add_argument("--plan", action="store_true", help="print the cells and their estimated CPU time, run nothing")
    p.add_argument("--report-only", action="store_true")
    p.add_argument("--note", default="", help="a sentence for the report, e.g. how the cells were run")


def run_from_args(args: argparse.Namespace, command: str) -> int:
    """Run the missing cells (unless ``--report-only``) and rewrite the report."""
    from bench.machine import load_average

    load = load_average()
    if args.plan:
        from bench.transfer_plan import plan_text
        from workbench.transfer.data import load_transfer_data

        keys = main_keys(args.datasets, args.target_sets, args.arms, args.seeds, args.random_seeds, args.init)
        sweep = sweep_keys(args.datasets, args.fractions, args.sweep_arms, args.sweep_seeds, args.init)
        print(plan_text(keys, sweep, settings_from_args(args), load_transfer_data))
        return 0
    if not args.report_only:
        import torch

        if args.threads:
            torch.set_num_threads(args.threads)
        keys = main_keys(args.datasets, args.target_sets, args.arms, args.seeds, args.random_seeds, args.init)
        sweep = sweep_keys(args.datasets, args.fractions, args.sweep_arms, args.sweep_seeds, args.init)
        args.out.mkdir(parents=True, exist_ok=True)
        run(
            keys, settings=settings_from_args(args), sweep=sweep, cells_path=args.out / CELLS.name, runs=args.runs,
            max_minutes=args.max_minutes, log=lambda m: print(m, file=sys.stderr, flush=True),
        )  # fmt: skip
    print(write_report(command, None if args.report_only else load, args.out, args.note))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.transfer ...``."""
    p = argparse.ArgumentParser(prog="python -m bench.transfer", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_from_args(p.parse_args(argv), "python -m bench.transfer " + shlex.join(argv))


if __name__ == "__main__":
    raise SystemExit(main())
