"""Does pretraining help? No pretraining vs each shipped encoder, fine-tuned under one protocol.

Run: ``workbench bench pretraining [--arms none attrmask] [--datasets ...] [--seeds 0 1 2] [--epochs 30]
[--big-epochs 10] [--max-minutes M]``; ``--report-only`` rewrites ``bench/results/pretraining.md`` from the
stored cells.

Each data set × arm × seed is one cell (:func:`workbench.train.pretrain.evaluation.finetune_cell`): the
pretrain-gnns protocol (scaffold split 80/10/10, batch 32, Adam 1e-3, dropout 0.5, mean pooling), the same
split, seeds and epochs for every arm, and both read-outs (test at the best-validation epoch; test at the
last epoch). A finished cell is one row of ``bench/results/pretraining_cells.csv`` (committed), so a stopped
run resumes where it left off; an unfinished cell resumes from its run folder under ``runs/bench-pretraining``.
On CPU, HIV and MUV (85 % of the cost) run only for no pretraining and the best encoder, at ``--big-epochs``.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cells import append_cell, read_cells, report_head
from workbench.encoders.comparison import EVERY_ARM_SETS, PUBLISHED  # GraphMVP's averages, shown in the lab too

if TYPE_CHECKING:
    import pandas as pd

RESULTS = Path(__file__).parent / "results"
CELLS = RESULTS / "pretraining_cells.csv"
REPORT = RESULTS / "pretraining.md"
RUNS = Path("runs/bench-pretraining")
ENCODERS = Path("models/encoders")

CLASSIFICATION = ["bbbp", "tox21", "toxcast", "sider", "clintox", "muv", "hiv", "bace"]
REGRESSION = ["esol", "freesolv", "lipophilicity"]
BIG = ("hiv", "muv")


def arm_paths(arms: Sequence[str]) -> dict[str, Path | None]:
    """``none`` → no encoder; any other arm → ``models/encoders/<arm>/`` (which must hold a card)."""
    out: dict[str, Path | None] = {}
    for arm in arms:
        if arm == "none":
            out[arm] = None
            continue
        folder = ENCODERS / arm
        if not (folder / "card.json").is_file():
            raise SystemExit(f"no encoder '{arm}': {folder}/card.json is missing (see `workbench models list`)")
        out[arm] = folder
    return out


def done_cells(path: Path = CELLS) -> pd.DataFrame:
    """The finished cells (empty frame when none)."""
    return read_cells(path)


def _append(row: dict, path: Path = CELLS) -> None:
    append_cell(row, path)


def run(
    datasets: Sequence[str],
    arms: Sequence[str],
    seeds: Sequence[int],
    *,
    epochs: int,
    big_epochs: int,
    big_arms: Sequence[str],
    threads: int | None = None,
    max_minutes: float | None = None,
    log: Callable[[str], None] = print,
) -> int:
    """Run every missing cell (dataset-major, so a data set is featurized once); returns the cells run."""
    import torch

    from workbench.data.prepared import prepare
    from workbench.train.finetune import featurize_prepared, scaled_targets
    from workbench.train.pretrain.evaluation import Protocol, finetune_cell

    if threads:
        torch.set_num_threads(threads)
    paths = arm_paths(arms)
    finished = done_cells()
    have = set()
    if not finished.empty:
        have = {(r.dataset, r.arm, int(r.seed), int(r.epochs)) for r in finished.itertuples()}
    deadline = time.monotonic() + max_minutes * 60 if max_minutes else math.inf
    ran = 0
    for dataset in datasets:
        big = dataset in BIG
        n_epochs = big_epochs if big else epochs
        todo = [
            (arm, seed)
            for arm in arms
            if not big or arm in big_arms
            for seed in seeds
            if (dataset, arm, seed, n_epochs) not in have
        ]
        if not todo:
            continue
        prep = prepare(dataset, "scaffold")
        graphs, _errors, _bad = featurize_prepared(prep)
        y, mean, std = scaled_targets(prep)
        protocol = Protocol(epochs=n_epochs)
        for arm, seed in todo:
            if time.monotonic() > deadline:
                log(f"time budget reached after {ran} cells; run again to continue")
                return ran
            log(f"{dataset} / {arm} / seed {seed}: {n_epochs} epochs")
            cell = finetune_cell(
                prep, graphs, y, mean, std, arm=arm, init=paths[arm], seed=seed, protocol=protocol,
                run_dir=RUNS / dataset / arm / f"seed{seed}", echo=None,
            )  # fmt: skip
            row = {**cell.to_row(), "dataset": dataset, "threads": torch.get_num_threads()}
            _append(row)
            log(f"  test at best valid {cell.test_at_best_valid:.4f}, last {cell.test_last:.4f} ({cell.seconds:.0f} s)")
            ran += 1
    return ran


def _fmt(values: pd.Series, scale: float) -> str:
    if values.empty:
        return "–"
    mean = values.mean() * scale
    if len(values) == 1:  # one seed has no spread to show
        return f"{mean:.2f} (n=1)"
    return f"{mean:.2f} ± {values.std(ddof=0) * scale:.2f} (n={len(values)})"


def _vs_none(cells: pd.DataFrame, arms: Sequence[str], column: str) -> str:
    """Each arm's mean over the classification sets it shares with ``none`` minus ``none``'s over the same sets
    (per set the mean over its seeds), with the number of sets: a comparison before every set has a cell."""
    per_set = cells[cells["dataset"].isin(CLASSIFICATION)].groupby(["arm", "dataset"])[column].mean() * 100
    if "none" not in per_set.index.get_level_values("arm"):
        return " | ".join("–" for _ in arms) + " |"
    out = []
    for arm in arms:
        if arm == "none" or arm not in per_set.index.get_level_values("arm"):
            out.append("–")
            continue
        shared = per_set["none"].index.intersection(per_set[arm].index)
        diff = per_set[arm][shared].mean() - per_set["none"][shared].mean()
        out.append(f"{diff:+.2f} ({len(shared)} sets)")
    return " | ".join(out) + " |"


def report(cells: pd.DataFrame, *, command: str, machine: str) -> str:
    """The markdown report: per data set and arm, both read-outs; averages where an arm has every set."""
    lines = report_head("Pretraining benchmark: does an encoder pretrained here help fine-tuning?", command, machine)
    if cells.empty:
        return "\n".join([*lines, "No cell has finished yet."]) + "\n"
    arms = list(dict.fromkeys(cells["arm"]))
    epochs = sorted({int(e) for e in cells["epochs"]})
    lines += [
        "Protocol (identical for every arm): the pretrain-gnns fine-tuning recipe (scaffold split 80/10/10, batch 32,",
        "Adam lr 1e-3, dropout 0.5, mean pooling, JK last, GIN 5×300), no early stopping, paired seeds (the same",
        "split, seeds and epochs for every arm).",
        f"Epochs in these cells: {', '.join(map(str, epochs))} (HIV and MUV use fewer epochs on CPU and run only for",
        "no pretraining and the best encoder). Classification: test ROC-AUC × 100",
        "(higher is better); regression: test RMSE (lower is better). Mean ± standard deviation over seeds.",
        "",
    ]
    for readout, column in (("best-validation epoch", "test_at_best_valid"), ("last epoch", "test_last")):
        lines += [f"## Test score at the {readout}", "", "| data set | metric | " + " | ".join(arms) + " |"]
        lines.append("|---|---|" + "---|" * len(arms))
        for dataset in [*CLASSIFICATION, *REGRESSION]:
            sub = cells[cells["dataset"] == dataset]
            if sub.empty:
                continue
            scale = 100.0 if dataset in CLASSIFICATION else 1.0
            metric = "ROC-AUC" if dataset in CLASSIFICATION else "RMSE"
            row = [_fmt(sub[sub["arm"] == arm][column], scale) for arm in arms]
            lines.append(f"| {dataset} | {metric} | " + " | ".join(row) + " |")
        averages = []
        for arm in arms:
            sub = cells[(cells["arm"] == arm) & cells["dataset"].isin(CLASSIFICATION)]
            per_set = sub.groupby("dataset")[column].mean() * 100
            if set(per_set.index) == set(CLASSIFICATION):
                averages.append(f"{per_set.mean():.2f}")
            else:
                averages.append(f"– ({len(per_set)} of 8 sets)")
        lines.append("| **average, 8 classification sets** | ROC-AUC | " + " | ".join(averages) + " |")
        six = []
        for arm in arms:
            sub = cells[(cells["arm"] == arm) & cells["dataset"].isin(EVERY_ARM_SETS)]
            per_set = sub.groupby("dataset")[column].mean() * 100
            full = set(per_set.index) == set(EVERY_ARM_SETS)
            six.append(f"{per_set.mean():.2f}" if full else f"– ({len(per_set)} of {len(EVERY_ARM_SETS)} sets)")
        lines.append(f"| **average, the {len(EVERY_ARM_SETS)} classification sets every arm runs (no HIV, MUV)** "
                     "| ROC-AUC | " + " | ".join(six) + " |")  # fmt: skip
        paired = _vs_none(cells, arms, column)
        lines += ["| **vs none, on the classification sets both have** | ROC-AUC | " + paired, ""]
    lines += [
        "## Published (for orientation: GraphMVP paper, 100 fine-tuning epochs, its pretraining data; not run here)",
        "",
        "| method | average ROC-AUC, 8 classification sets |",
        "|---|---|",
        *[f"| {name} | {value:.2f} |" for name, value in PUBLISHED.items()],
        "",
        "## Cost",
        "",
        "| arm | cells | fine-tuning seconds | molecules/s (mean) |",
        "|---|---|---|---|",
    ]
    for arm in arms:
        sub = cells[cells["arm"] == arm]
        lines.append(f"| {arm} | {len(sub)} | {sub['seconds'].sum():.0f} | {sub['molecules_per_s'].mean():.0f} |")
    lines += ["", f"Raw cells: `bench/results/{CELLS.name}`."]
    return "\n".join(lines) + "\n"


def write_report(command: str, load_at_start: float | None = None) -> Path:
    """Rewrite the report from the stored cells."""
    from bench.machine import describe_machine

    REPORT.write_text(report(done_cells(), command=command, machine=describe_machine(load_at_start)))
    return REPORT


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``workbench bench pretraining`` (also ``python -m bench.pretraining``)."""
    p.add_argument("--datasets", nargs="*", default=[*CLASSIFICATION, *REGRESSION])
    p.add_argument("--arms", nargs="*", default=["none", "attrmask"])
    p.add_argument("--big-arms", nargs="*", help="arms run on HIV and MUV (default: none and the last --arms)")
    p.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2])
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--big-epochs", type=int, default=10, help="epochs on HIV and MUV")
    p.add_argument("--threads", type=int)
    p.add_argument("--max-minutes", type=float, help="stop (resumably) after this long")
    p.add_argument("--report-only", action="store_true")


def run_from_args(args: argparse.Namespace, command: str) -> int:
    """Run the missing cells (unless ``--report-only``) and rewrite the report."""
    from bench.machine import load_average

    load = load_average()
    if not args.report_only:
        big_arms = args.big_arms or ["none", args.arms[-1]]
        run(
            args.datasets, args.arms, args.seeds, epochs=args.epochs, big_epochs=args.big_epochs, big_arms=big_arms,
            threads=args.threads, max_minutes=args.max_minutes,
            log=lambda m: print(m, file=sys.stderr, flush=True),
        )  # fmt: skip
    print(write_report(command, load))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.pretraining ...``."""
    p = argparse.ArgumentParser(prog="python -m bench.pretraining", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_from_args(p.parse_args(argv), "python -m bench.pretraining " + shlex.join(argv))


if __name__ == "__main__":
    raise SystemExit(main())
