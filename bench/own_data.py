"""Train on your own data, benchmarked: ``workbench train custom`` on five MoleculeACE targets, quick and thorough.

Run: ``python -m bench.own_data [--targets ...] [--efforts quick thorough] [--seed 0] [--jobs 1]``;
``--report-only`` rewrites ``bench/results/own_data.md`` from the stored cells.

Each target is treated as a chemist's own assay file: its SMILES, the measured potency in nM (``exp_mean [nM]``)
and MoleculeACE's own ``split`` column are written to a CSV, read back with the reader ``workbench train custom``
uses, and trained exactly as ``workbench train custom FILE --target "exp_mean [nM]" --transform pIC50-from-nM
--split column:split --effort EFFORT --seed SEED`` trains (:func:`workbench.custom.data.prepare_user_data`, then
:func:`workbench.custom.training.train_custom`). MoleculeACE's split has no validation part, so the custom
protocol validates on a seeded 10 % of its training molecules; the test molecules are MoleculeACE's, the ones
``bench/results/cliffs.md`` scores, so the two reports compare on the same molecules.

A finished target × effort × seed is one row of ``bench/results/own_data.csv`` (committed), so a stopped run
resumes at the next cell. The report sets each cell beside the best model of ``bench/results/cliffs.csv`` for
that target (lowest test RMSE) and checks the issue's two criteria: quick within 10 % of that best RMSE, and
thorough at least as good as quick.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cells import append_cell, read_cells

if TYPE_CHECKING:
    import pandas as pd

RESULTS = Path(__file__).parent / "results"
CELLS = RESULTS / "own_data.csv"
REPORT = RESULTS / "own_data.md"
CLIFFS = RESULTS / "cliffs.csv"
TARGET_COLUMN = "exp_mean [nM]"
EFFORTS = ("quick", "thorough")
#: quick is "within 10 %" of the best cliffs.md model when its test RMSE is at most this many times the best.
WITHIN = 1.10

#: The five targets and why each: a spread of sizes (615 to 3,657 molecules) and of readouts (Ki, EC50).
TARGETS: dict[str, str] = {
    "CHEMBL2047_EC50": "small EC50 set (631 molecules; farnesoid X receptor agonists)",
    "CHEMBL218_EC50": "mid-size EC50 set (1,031 molecules; cannabinoid CB1), one of the four GIN targets",
    "CHEMBL2147_Ki": "mid-size Ki set (1,456 molecules; PIM-1 kinase), where the SVMs lead RF / XGBoost clearly",
    "CHEMBL235_EC50": "the largest EC50 set (2,349 molecules; PPARγ)",
    "CHEMBL234_Ki": "the largest MoleculeACE set (3,657 molecules; dopamine D3 Ki)",
}

Log = Callable[[str], None]


def done_cells(path: Path = CELLS) -> pd.DataFrame:
    """The finished cells (empty frame when none)."""
    return read_cells(path)


def _append(row: dict, path: Path = CELLS) -> None:
    """Add a finished cell, replacing an earlier cell of the same target, effort and seed (``--rerun``)."""
    old = read_cells(path)
    if not old.empty:
        same = (old["target"] == row["target"]) & (old["effort"] == row["effort"]) & (old["seed"] == row["seed"])
        if same.any():
            tmp = path.with_suffix(".tmp")
            old[~same].to_csv(tmp, index=False)
            tmp.replace(path)
    append_cell(row, path)


def code_version() -> str:
    """The commit checked out, ``+changes`` when the training code (custom, featurizers, models) has local edits."""
    import subprocess

    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30)
        return out.stdout.strip() if out.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD")
    if not commit:
        return "unknown"
    changed = git("status", "--porcelain", "--", "workbench/custom", "workbench/featurizers", "workbench/models")
    return commit + ("+changes" if changed else "")


def grid_text(effort: str) -> str:
    """The candidates an effort searches (regression), as the code defines them now."""
    from workbench.custom.families import candidates
    from workbench.custom.gin_member import default_encoder

    encoder = default_encoder() if effort == "thorough" else None
    return "; ".join(c.label for c in candidates("regression", effort, encoder=encoder))


def export_target(target: str, folder: Path) -> Path:
    """Write a MoleculeACE target as a user's assay file: ``smiles``, ``exp_mean [nM]``, ``split``."""
    from workbench.data import load_moleculeace

    path = folder / f"{target}.csv"
    load_moleculeace(target).frame[["smiles", TARGET_COLUMN, "split"]].to_csv(path, index=False)
    return path


def command_line(path: Path | str, effort: str, seed: int) -> str:
    """The ``workbench train custom`` command a cell reproduces."""
    parts = ["workbench", "train", "custom", str(path), "--target", TARGET_COLUMN, "--transform", "pIC50-from-nM"]
    return shlex.join([*parts, "--split", "column:split", "--effort", effort, "--seed", str(seed)])


def run_cell(target: str, effort: str, seed: int, *, jobs: int = 1, folder: Path, code: str = "") -> dict:
    """Train one target at one effort as the CLI does and return its row (metrics, choice, timings).

    ``code`` is :func:`code_version` taken when the training code was imported (the tree may change during a run).
    """
    import numpy as np

    from workbench.chem.files import read_molecules
    from workbench.custom.data import prepare_user_data
    from workbench.custom.training import CustomConfig, train_custom
    from workbench.data import load_moleculeace
    from workbench.hashing import sha256_file

    path = export_target(target, folder)
    t0 = time.perf_counter()
    frame = read_molecules(path)
    data = prepare_user_data(
        frame,
        [TARGET_COLUMN],
        transform="pIC50-from-nM",
        split_column="split",
        name=path.name,
        sha256=sha256_file(path),
    )
    t1 = time.perf_counter()
    result = train_custom(data, CustomConfig("column:split", effort, seed, 0.9, jobs))
    wall = time.perf_counter() - t0
    (task,) = result.metrics
    m, ci = result.metrics[task], result.intervals[task]
    # MoleculeACE's own cliff flags on the same test molecules: do ours agree?
    ace = load_moleculeace(target).frame
    ace_cliff = dict(zip(ace["smiles"].astype(str), ace["cliff_mol"].astype(bool), strict=True))
    test_input = [str(frame["smiles"].iloc[data.rows[i][0]]) for i in result.split.test]
    ours = result.cliff_mol[result.split.test] if result.cliff_mol is not None else np.zeros(len(test_input), bool)
    agree = sum(bool(o) == ace_cliff.get(s, False) for o, s in zip(ours, test_input, strict=True))
    chosen = [s for s in result.search if s.get("chosen")]
    mean = [e for e in result.ensembles if e["chosen"]]
    return {
        "target": target,
        "effort": effort,
        "seed": seed,
        "input_rows": data.input_rows,
        "molecules": len(data.smiles),
        "dropped": len(data.dropped),
        "merged": data.merged,
        "n_train": len(result.split.train),
        "n_valid": len(result.split.valid),
        "n_test": int(m["molecules"]),
        "n_test_cliff": int(m.get("cliff_molecules", 0)),
        "cliff_flags_agree": f"{agree}/{len(test_input)}",
        "rmse": m["rmse"],
        "rmse_ci_lo": ci["rmse"][0],
        "rmse_ci_hi": ci["rmse"][1],
        "rmse_cliff": m.get("rmse_cliff", math.nan),
        "rmse_non_cliff": m.get("rmse_non_cliff", math.nan),
        "mae": m["mae"],
        "r2": m["r2"],
        "spearman": m["spearman"],
        "coverage": m["coverage"],
        "interval_halfwidth": m["interval_halfwidth"],
        "chosen": result.chosen.label,
        "chosen_family": result.chosen.family,
        "chosen_features": result.chosen.features,
        "valid_score": chosen[0]["valid_score"] if len(chosen) == 1 else math.nan,
        "cv_score": mean[0]["cv_score"] if mean else chosen[0].get("cv_score", math.nan),
        "components": len(result.chosen.components),
        "candidates": len(result.search),
        "grid": "; ".join(c["label"] for c in result.search),
        "members": len(result.tasks[0].members),
        "seconds_prepare": round(t1 - t0, 1),
        "seconds_train": round(result.seconds, 1),
        "seconds_wall": round(wall, 1),
        "jobs": jobs,
        "code": code or code_version(),
        "command": command_line(path.name, effort, seed),
    }


def run(
    targets: Sequence[str],
    efforts: Sequence[str],
    seed: int = 0,
    *,
    jobs: int = 1,
    max_minutes: float | None = None,
    rerun: bool = False,
    log: Log = print,
) -> int:
    """Run every missing cell (target-major: a target's quick before its thorough); returns the cells run.

    ``rerun``: run the cells again even when they are stored (each new cell replaces its old row as it finishes);
    only cells stored at this code version are kept, so an interrupted rerun resumes.
    """
    # load the training code before reading its version: a commit landing during the run does not change it
    import workbench.custom.training
    import workbench.featurizers.feature_sets  # noqa: F401
    from bench.machine import load_average

    code = code_version()
    finished = done_cells()
    have = set()
    if not finished.empty:
        have = {(r.target, r.effort, int(r.seed)) for r in finished.itertuples() if not rerun or r.code == code}
    deadline = time.monotonic() + max_minutes * 60 if max_minutes else math.inf
    ran = 0
    with tempfile.TemporaryDirectory(prefix="own-data-") as tmp:
        for target in targets:
            for effort in efforts:
                if (target, effort, seed) in have:
                    continue
                if time.monotonic() > deadline:
                    log(f"time budget reached after {ran} cells; run again to continue")
                    return ran
                log(f"{target} / {effort} / seed {seed}")
                load = load_average()
                row = run_cell(target, effort, seed, jobs=jobs, folder=Path(tmp), code=code)
                row["load_at_start"] = None if load is None else round(load, 1)
                _append(row)
                log(
                    f"  test RMSE {row['rmse']:.3f} [{row['rmse_ci_lo']:.3f}, {row['rmse_ci_hi']:.3f}], "
                    f"cliff {row['rmse_cliff']:.3f}, coverage {row['coverage']:.2f}, {row['chosen']} "
                    f"({row['seconds_wall']:.0f} s)"
                )
                ran += 1
    return ran


def write_report(command: str, load_at_start: float | None = None) -> Path:
    """Rewrite the report from the stored cells."""
    from bench.machine import describe_machine
    from bench.own_data_report import report

    REPORT.write_text(report(done_cells(), command=command, machine=describe_machine(load_at_start)))
    return REPORT


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``python -m bench.own_data``."""
    p.add_argument("--targets", nargs="*", default=list(TARGETS))
    p.add_argument("--efforts", nargs="*", default=list(EFFORTS), choices=EFFORTS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="CPU workers for the forests and boosters (as the CLI's)")
    p.add_argument("--max-minutes", type=float, help="stop (resumably) after this long")
    p.add_argument("--rerun", action="store_true", help="train stored cells again (made by another code version)")
    p.add_argument("--report-only", action="store_true")


def run_from_args(args: argparse.Namespace, command: str) -> int:
    """Run the missing cells (unless ``--report-only``) and rewrite the report."""
    from bench.machine import load_average

    load = load_average()
    if not args.report_only:
        run(
            args.targets, args.efforts, args.seed, jobs=args.jobs, max_minutes=args.max_minutes, rerun=args.rerun,
            log=lambda m: print(m, file=sys.stderr, flush=True),
        )  # fmt: skip
    print(write_report(command, None if args.report_only else load))  # report-only: the cells say their load
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.own_data ...``."""
    p = argparse.ArgumentParser(prog="python -m bench.own_data", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_from_args(p.parse_args(argv), " ".join(["python -m bench.own_data", *map(shlex.quote, argv)]))


if __name__ == "__main__":
    raise SystemExit(main())
