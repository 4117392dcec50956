"""Champion search on MoleculeNet: every model family × feature set on the scaffold split, chosen on validation.

Run: ``workbench bench champions [--datasets bbbp esol ...] [--families rf xgboost svm mlp] [--features ...]
[--seeds 0 1 2] [--max-minutes M] [--jobs 2]``. One CSV row per finished (data set, family, feature set, seed) in
``bench/results/champions.csv`` (a stopped run resumes at the next cell; seed-independent SVMs run one seed);
``bench/results/moleculenet.md`` is rewritten from all stored cells (``--report-only`` rewrites only the report), with
the pretraining benchmark's GIN cells (``bench/results/pretraining_cells.csv``) as the GIN candidates.
The grid and its limits are :mod:`workbench.champions.grid`'s; the split is the deterministic scaffold split
(80/10/10, Hu et al.) every shipped checkpoint uses, and the seeds vary the models, as in GraphMVP's protocol.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.cells import append_cell, read_cells
from bench.champions_report import report
from bench.machine import load_average, run_machine

RESULTS = Path(__file__).parent / "results"
CELLS = RESULTS / "champions.csv"
REPORT = RESULTS / "moleculenet.md"
PRETRAINING_CELLS = RESULTS / "pretraining_cells.csv"
DATASETS = ("bbbp", "bace", "clintox", "sider", "tox21", "toxcast", "hiv", "muv", "esol", "freesolv",
            "lipophilicity")  # fmt: skip
SPLIT = "scaffold"
#: ``--split random``: Xia et al.'s repeated random splits (train / validation / test), one per seed.
RANDOM_FRACTIONS = (0.81, 0.09, 0.10)
CELLS_BY_SPLIT = {"scaffold": CELLS, "random": RESULTS / "champions_random.csv"}


def _key(row) -> tuple:
    return (row["dataset"], row["family"], row["features"], int(row["seed"]))


def _plans(name: str, split: str, seeds: Sequence[int]) -> list[tuple[object, list[int]]]:
    """``(prepared data, seeds)`` pairs: the scaffold split with every seed, or one random split per seed."""
    import dataclasses

    from workbench.data.prepared import prepare
    from workbench.data.splits import random_split

    prep = prepare(name, SPLIT)
    if split == "scaffold":
        return [(prep, list(seeds))]
    return [(dataclasses.replace(prep, split=random_split(len(prep.smiles), RANDOM_FRACTIONS, s)), [s]) for s in seeds]


def _done(cells_path: Path) -> set[tuple]:
    finished = read_cells(cells_path)
    return set() if finished.empty else {_key(r) for r in finished.to_dict("records")}


def run_dataset(
    name: str,
    seeds: Sequence[int],
    *,
    families: Sequence[str],
    features: Sequence[str] | None,
    cells_path: Path,
    jobs: int,
    minimol_cache: Path | None,
    deadline: float,
    descriptor_cache: Path | None = None,
    split: str = SPLIT,
    log: Callable[[str], None] = print,
) -> int:
    """Run the missing cells of one data set; returns how many ran (stops starting cells at ``deadline``).

    On the scaffold split the seeds vary the models (seed-independent SVMs run once); on ``random`` each seed is
    also the split's seed (a repetition), so every family runs once per seed.
    """
    from workbench.champions.features import DatasetFeatures
    from workbench.champions.fit import fit_candidate
    from workbench.champions.grid import DETERMINISTIC, grid_name, search_grid

    done = _done(cells_path)
    ran = 0
    for prep, plan_seeds in _plans(name, split, seeds):
        n_train, n_tasks = len(prep.split.train), len(prep.tasks)
        grid = grid_name(n_train, n_tasks)
        candidates = search_grid(prep.task_type, n_train, n_tasks, families=tuple(families),
                                 features=tuple(features) if features else None)  # fmt: skip
        matrices = DatasetFeatures(prep, minimol_cache, descriptor_cache)
        classification = prep.task_type == "classification"
        for candidate in candidates:
            once = candidate.family in DETERMINISTIC and split == SPLIT
            for seed in plan_seeds[:1] if once else plan_seeds:
                family = "svm" if candidate.family in DETERMINISTIC else candidate.family
                if (name, family, candidate.features, seed) in done:
                    continue
                done = _done(cells_path)  # a run beside this one (another lane) may have fitted it meanwhile
                if (name, family, candidate.features, seed) in done:
                    continue
                if time.monotonic() > deadline:
                    return ran
                load = load_average()
                matrix = matrices(candidate.features)
                result = fit_candidate(candidate, matrix, prep.y, prep.split, classification, seed, jobs)
                row = {
                    "dataset": name, "task_type": prep.task_type, "split": split, "grid": grid, "family": family,
                    "model": candidate.family, "features": candidate.features, "seed": seed,
                    **{f"valid_{k}": round(v, 5) for k, v in result.valid.items()},
                    **{f"test_{k}": round(v, 5) for k, v in result.test.items()},
                    "seconds": result.seconds, "molecules": len(prep.smiles), "tasks": n_tasks,
                    "train": n_train, "noted_rows": matrix.noted, "unusable_rows": int((~matrix.usable).sum()),
                    "params": json.dumps(candidate.params, sort_keys=True), "jobs": jobs,
                    "load_at_start": None if load is None else round(load, 1), "date": time.strftime("%Y-%m-%d"),
                }  # fmt: skip
                append_cell(row, cells_path)
                shown = ", ".join(f"{k} {v:.3f}" for k, v in result.valid.items())
                log(f"{name} [{split}] {candidate.family} {candidate.features} seed {seed}: valid {shown} "
                    f"({result.seconds:.0f} s)")  # fmt: skip
                ran += 1
    return ran


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``workbench bench champions``."""
    from workbench.champions.grid import FAMILIES

    p.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=list(DATASETS))
    p.add_argument("--families", nargs="*", default=list(FAMILIES), choices=list(FAMILIES))
    p.add_argument("--features", nargs="*", help="feature sets instead of each grid's (e.g. ecfp4 rdkit2d)")
    p.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    p.add_argument(
        "--split",
        choices=list(CELLS_BY_SPLIT),
        default=SPLIT,
        help="scaffold (seeds vary the models) or random 81/9/10 (each seed a split: Xia et al.'s protocol)",
    )
    p.add_argument("--jobs", type=int, default=2, help="threads of the forests and boosters")
    p.add_argument("--max-minutes", type=float, help="start no new cell after this long")
    p.add_argument("--minimol-cache", type=Path, default=Path("runs/minimol"), help="MiniMol embeddings cache")
    p.add_argument("--descriptor-cache", type=Path,
                   help="RDKit 2D descriptor rows kept between runs (default: the workbench cache's)")  # fmt: skip
    p.add_argument("--out", type=Path, default=RESULTS, help="folder of champions.csv and moleculenet.md")
    p.add_argument("--report-only", action="store_true")


def run_from_args(args: argparse.Namespace, command: str) -> int:
    """Run the missing cells (unless ``--report-only``) and rewrite the report."""
    load = load_average()
    cells_path = args.out / CELLS_BY_SPLIT[args.split].name
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    if not args.report_only:
        from workbench.featurizers.feature_sets import EMBEDDING_SETS, FEATURE_SETS

        known = FEATURE_SETS + EMBEDDING_SETS  # the grids' MiniMol sets too
        unknown = [f for f in args.features or [] if f not in known]
        if unknown:
            raise SystemExit(f"--features: unknown feature set {', '.join(unknown)} (known: {', '.join(known)})")
        args.out.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + args.max_minutes * 60 if args.max_minutes else math.inf
        ran = 0
        for name in args.datasets:
            if time.monotonic() > deadline:
                log("time budget reached; run again to continue")
                break
            ran += run_dataset(name, args.seeds, families=args.families, features=args.features, cells_path=cells_path,
                        jobs=args.jobs, minimol_cache=args.minimol_cache, deadline=deadline, split=args.split,
                        log=log, descriptor_cache=args.descriptor_cache)  # fmt: skip
    scaffold, random = (read_cells(args.out / path.name) for path in CELLS_BY_SPLIT.values())
    machine = run_machine(load, fitted=not args.report_only and ran > 0)
    text = report(scaffold, random, command, machine, read_cells(args.out / PRETRAINING_CELLS.name), DATASETS)
    (args.out / REPORT.name).write_text(text)
    print(args.out / REPORT.name)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.champions ...``."""
    p = argparse.ArgumentParser(prog="python -m bench.champions", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_from_args(p.parse_args(argv), "python -m bench.champions " + shlex.join(argv))


if __name__ == "__main__":
    raise SystemExit(main())
