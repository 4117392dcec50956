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
    import pandas as pd

    return pd.read_csv(path) if path.is_file() else pd.DataFrame()


def _append(row: dict, path: Path = CELLS) -> None:
    import pandas as pd

    frame = pd.concat([done_cells(path), pd.DataFrame([row])], ignore_index=True)
    tmp = path.with_suffix(".tmp")
    frame.to_csv(tmp, index=False)
    tmp.replace(path)


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

    return "; ".join(c.label for c in candidates("regression", effort))


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
    chosen = next(s for s in result.search if s.get("chosen"))
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
        "valid_score": chosen["valid_score"],
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
    log: Log = print,
) -> int:
    """Run every missing cell (target-major: a target's quick before its thorough); returns the cells run."""
    # load the training code before reading its version: a commit landing during the run does not change it
    import workbench.custom.training
    import workbench.featurizers.feature_sets  # noqa: F401
    from bench.machine import load_average

    code = code_version()
    finished = done_cells()
    have = set()
    if not finished.empty:
        have = {(r.target, r.effort, int(r.seed)) for r in finished.itertuples()}
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


def best_in_cliffs(path: Path = CLIFFS) -> pd.DataFrame:
    """Per MoleculeACE target, the model of ``cliffs.csv`` with the lowest test RMSE and the lowest RMSE_cliff."""
    import pandas as pd

    frame = pd.read_csv(path)
    frame = frame[frame["table"] == "moleculeace"]
    best = frame.loc[frame.groupby("dataset")["rmse"].idxmin()].set_index("dataset")
    cliff = frame.loc[frame.groupby("dataset")["rmse_cliff"].idxmin()].set_index("dataset")
    best = best[["model", "rmse", "rmse_cliff", "n_test", "n_cliff_test"]]
    return best.assign(best_cliff_model=cliff["model"], best_rmse_cliff=cliff["rmse_cliff"])


def _f(x: float, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _cell(cells: pd.DataFrame, target: str, effort: str):
    sub = cells[(cells["target"] == target) & (cells["effort"] == effort)]
    return None if sub.empty else sub.iloc[-1]


def report(cells: pd.DataFrame, *, command: str, machine: str) -> str:
    """The markdown report: per target and effort the measured cells, then the comparison with cliffs.md."""
    import pandas as pd

    if command.endswith("--report-only"):
        command = (
            f"python -m bench.own_data` (resumable, one cell per target × effort); this report rewritten from the "
            f"stored cells by `{command}"
        )
    lines = [
        "# Your own data: `workbench train custom` on five MoleculeACE targets",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine}",
        "",
    ]
    if cells.empty:
        return "\n".join([*lines, "No cell has finished yet."]) + "\n"
    seeds = sorted({int(s) for s in cells["seed"]})
    lines += [
        "Each target is treated as a chemist's own assay file (`smiles`, `exp_mean [nM]`, MoleculeACE's `split`) and",
        'trained with the library calls of `workbench train custom FILE --target "exp_mean [nM]" --transform',
        f"pIC50-from-nM --split column:split --effort quick|thorough --seed {' '.join(map(str, seeds))}` (each cell's",
        "`command` in the CSV). MoleculeACE's split has no validation part, so a seeded 10 % of its training",
        "molecules chooses between candidates; the test molecules are MoleculeACE's, the ones `cliffs.md` scores.",
        "Test RMSE in pIC50 units with its bootstrap 95 % interval (1,000 resamples of the test molecules); RMSE on",
        "cliff molecules (MoleculeACE's rules over the whole set, as `cliffs.md`); coverage of the 90 % conformal",
        "interval on the test molecules; wall seconds from reading the file to the test metrics, one CPU job",
        "(`--jobs 1`). The chosen configuration is refitted with 1 seed (quick) or 3 seeds (thorough; SVR is",
        "deterministic: one member). The candidates, as the code defines them now (each cell's `grid` column in the",
        "CSV records what it searched, its `code` column the commit it ran at):",
        "",
        f"- quick: {grid_text('quick')}",
        f"- thorough adds: {grid_text('thorough')[len(grid_text('quick')) + 2 :]}",
        "",
        "## Targets",
        "",
        "| target | why |",
        "|---|---|",
        *[f"| {t} | {why} |" for t, why in TARGETS.items() if t in set(cells["target"])],
        "",
        "## Measured",
        "",
        "| target | effort | molecules (test / cliff) | test RMSE [95 % CI] | RMSE cliff mol. | RMSE other mol. | "
        "coverage (90 %) | ± half-width | wall s | chosen on validation |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    targets = [t for t in dict.fromkeys(cells["target"])]
    for target in targets:
        for effort in EFFORTS:
            c = _cell(cells, target, effort)
            if c is None:
                continue
            chosen = c["chosen"] + (f", {int(c['members'])} seeds" if int(c["members"]) > 1 else "")
            lines.append(
                f"| {target} | {effort} | {int(c['molecules'])} ({int(c['n_test'])} / {int(c['n_test_cliff'])}) | "
                f"{_f(c['rmse'])} [{_f(c['rmse_ci_lo'])}, {_f(c['rmse_ci_hi'])}] | {_f(c['rmse_cliff'])} | "
                f"{_f(c['rmse_non_cliff'])} | {_f(c['coverage'], 2)} | {_f(c['interval_halfwidth'], 2)} | "
                f"{c['seconds_wall']:.0f} | {chosen} |"
            )
    best = best_in_cliffs() if CLIFFS.is_file() else None
    lines += [
        "",
        "## Against the best model of `cliffs.md`",
        "",
        "Best = the model of `bench/results/cliffs.csv` with the lowest test RMSE on that target (MoleculeACE's",
        f"split, seed 0). *Within 10 %*: quick RMSE ≤ {WITHIN:.2f} × best RMSE. *Thorough ≤ quick*: thorough test",
        "RMSE ≤ quick test RMSE (the issue's two done criteria).",
        "",
        "| target | best in cliffs.md: RMSE (RMSE_cliff) | lowest RMSE_cliff in cliffs.md | quick RMSE (RMSE_cliff) | "
        "quick / best | within 10 % | thorough RMSE (RMSE_cliff) | thorough / best | thorough ≤ quick |",
        "|---|---|---|---:|---:|---|---:|---:|---|",
    ]
    within_all, thorough_all, misses = [], [], []
    for target in targets:
        q, t = _cell(cells, target, "quick"), _cell(cells, target, "thorough")
        if best is None or target not in best.index:
            lines.append(f"| {target} | – (not in cliffs.csv) | | | | | | | |")
            continue
        b = best.loc[target]
        best_text = f"{b['model']} {_f(b['rmse'])} ({_f(b['rmse_cliff'])})"
        if q is not None and int(q["n_test"]) != int(b["n_test"]):
            best_text += f"; n test {int(b['n_test'])} vs our {int(q['n_test'])}"
        row = [target, best_text, f"{b['best_cliff_model']} {_f(b['best_rmse_cliff'])}"]
        if q is not None:
            ok = bool(q["rmse"] <= WITHIN * b["rmse"])
            within_all.append(ok)
            row += [
                f"{_f(q['rmse'])} ({_f(q['rmse_cliff'])})",
                f"{q['rmse'] / b['rmse']:.3f}",
                "yes" if ok else "**no**",
            ]
            if not ok:
                misses.append(f"{target}: quick {q['rmse']:.3f} is {q['rmse'] / b['rmse']:.2f}× {b['model']}'s")
        else:
            row += ["–", "–", "–"]
        if t is not None:
            row += [f"{_f(t['rmse'])} ({_f(t['rmse_cliff'])})", f"{t['rmse'] / b['rmse']:.3f}"]
            if q is not None:
                ok = bool(t["rmse"] <= q["rmse"])
                thorough_all.append(ok)
                row.append("yes" if ok else f"**no** (+{t['rmse'] - q['rmse']:.3f})")
                if not ok:
                    misses.append(
                        f"{target}: thorough {t['rmse']:.3f} > quick {q['rmse']:.3f} on the test molecules, although "
                        f"its choice ({t['chosen']}) scored higher on the {int(t['n_valid'])} validation molecules "
                        f"({t['valid_score']:.3f} vs {q['valid_score']:.3f}, −RMSE / label spread): a validation part "
                        "this small cannot separate the two"
                    )
            else:
                row.append("–")
        else:
            row += ["–", "–", "–"]
        lines.append("| " + " | ".join(row) + " |")
    n = len(targets)
    lines += [
        "",
        "## Done criteria",
        "",
        f"- quick within 10 % of the best `cliffs.md` model: {sum(within_all)} of {len(within_all)} targets"
        + (" (held)" if within_all and all(within_all) and n >= 5 else ""),
        f"- thorough at least as good as quick: {sum(thorough_all)} of {len(thorough_all)} targets"
        + (" (held)" if thorough_all and all(thorough_all) and n >= 5 else ""),
    ]
    if misses:
        lines += ["", "Where we miss:", "", *[f"- {m}" for m in misses]]
    cost = cells.groupby("effort")["seconds_wall"].sum()
    lines += [
        "",
        "## Cost",
        "",
        "Wall seconds summed over the targets: "
        + ", ".join(f"{e} {cost[e]:.0f} s" for e in EFFORTS if e in cost.index)
        + f". 1-minute load average at the start of each cell: {', '.join(_f(x, 1) for x in cells['load_at_start'])}"
        " (the machine's CPUs were shared with another job).",
        "",
        "Our cliff flags against MoleculeACE's `cliff_mol` on the test molecules: "
        + ", ".join(f"{r.target} {r.cliff_flags_agree}" for r in cells.drop_duplicates("target").itertuples())
        + ".",
        "",
        "Code (the `code` column: commit, `+changes` for local edits of the training code): "
        + ", ".join(
            f"{code} ({n} cells)"
            for code, n in cells.get("code", pd.Series(dtype=object))
            .astype(object)
            .fillna("not recorded")
            .value_counts(sort=False)
            .items()
        )
        + ".",
        *_grid_notes(cells),
        "",
        f"Raw cells: `bench/results/{CELLS.name}`.",
    ]
    return "\n".join(lines) + "\n"


def _grid_notes(cells: pd.DataFrame) -> list[str]:
    """A line for each effort whose cells searched another grid than the code's now (or did not record it)."""
    notes = []
    for effort in EFFORTS:
        sub = cells[cells["effort"] == effort]
        if sub.empty:
            continue
        now = grid_text(effort)
        grids = sub.get("grid")
        if grids is None or grids.isna().any():
            counts = sorted({int(n) for n in sub["candidates"]})
            same = counts == [len(now.split("; "))]
            notes.append(
                f"Some {effort} cells did not record their grid; they searched {', '.join(map(str, counts))} "
                f"candidates, {'as many as' if same else 'not as many as'} the {effort} grid has now."
            )
        elif (grids != now).any():
            notes.append(f"**Some {effort} cells searched another grid than the code's now** (see `grid`).")
    return ["", *notes] if notes else []


def write_report(command: str, load_at_start: float | None = None) -> Path:
    """Rewrite the report from the stored cells."""
    from bench.machine import describe_machine

    REPORT.write_text(report(done_cells(), command=command, machine=describe_machine(load_at_start)))
    return REPORT


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``python -m bench.own_data``."""
    p.add_argument("--targets", nargs="*", default=list(TARGETS))
    p.add_argument("--efforts", nargs="*", default=list(EFFORTS), choices=EFFORTS)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--jobs", type=int, default=1, help="CPU workers for the forests and boosters (as the CLI's)")
    p.add_argument("--max-minutes", type=float, help="stop (resumably) after this long")
    p.add_argument("--report-only", action="store_true")


def run_from_args(args: argparse.Namespace, command: str) -> int:
    """Run the missing cells (unless ``--report-only``) and rewrite the report."""
    from bench.machine import load_average

    load = load_average()
    if not args.report_only:
        run(
            args.targets, args.efforts, args.seed, jobs=args.jobs, max_minutes=args.max_minutes,
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
