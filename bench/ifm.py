"""MLP vs IFM-MLP with the paper's inputs and search, on repeated random splits and MoleculeACE cliff targets.

Run: ``workbench bench ifm [--datasets esol lipophilicity bbbp] [--targets CHEMBL2047_EC50 ...]
[--repetitions 3] [--budget 10] [--epochs 100] [--patience 15]``. One CSV row per finished (data set,
repetition, arm) in ``bench/results/ifm.csv`` (a stopped run resumes at the next cell); ``bench/results/ifm.md``
is rewritten from all stored cells. Inputs, filters and the search are :mod:`workbench.cliffs.ifm_faithful`'s.
MoleculeNet sets use random 81/9/10 splits (the repetition is the split's seed); MoleculeACE targets their own
train / test split with a seeded 10 % of the training molecules for validation, scored by RMSE and RMSE_cliff.
"""

from __future__ import annotations

import argparse
import json
import math
import shlex
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.cells import append_cell, read_cells, report_head
from bench.machine import load_average, run_machine

RESULTS = Path(__file__).parent / "results"
CELLS = RESULTS / "ifm.csv"
REPORT = RESULTS / "ifm.md"
DATASETS = ("esol", "freesolv", "lipophilicity", "bbbp", "bace")
TARGETS = ("CHEMBL2047_EC50", "CHEMBL234_Ki", "CHEMBL4203_Ki")
RANDOM_FRACTIONS = (0.81, 0.09, 0.10)
ARMS = ("MLP", "IFM-MLP")


def _prepared(name: str, repetition: int):
    from workbench.data.prepared import prepare

    if name.upper().startswith("CHEMBL"):
        return prepare(name, "moleculeace", seed=repetition)
    return prepare(name, "random", seed=repetition, fractions=RANDOM_FRACTIONS)


def run_cells(names: Sequence[str], repetitions: int, *, budget: int, epochs: int, patience: int, cells_path: Path,
              max_minutes: float | None = None, log=print) -> int:  # fmt: skip
    """Run every missing (data set, repetition, arm); returns how many ran."""
    from workbench.cliffs.ifm_faithful import faithful_features, search
    from workbench.cliffs.rules import rmse_cliff

    deadline = time.monotonic() + max_minutes * 60 if max_minutes else math.inf
    finished = read_cells(cells_path)
    done = (
        set() if finished.empty else set(zip(finished["dataset"], finished["repetition"], finished["arm"], strict=True))
    )
    ran = 0
    for name in names:
        for rep in range(repetitions):
            if all((name, rep, arm) in done for arm in ARMS):
                continue
            prep = _prepared(name, rep)
            features = faithful_features(prep.mols, prep.split.train)
            classification = prep.task_type == "classification"
            cliff = None
            if "cliff_mol" in prep.dataset.frame:
                cliff = prep.dataset.frame["cliff_mol"].to_numpy()[prep.kept][prep.split.test].astype(bool)
            for arm in ARMS:
                if (name, rep, arm) in done:
                    continue
                if time.monotonic() > deadline:
                    log("time budget reached; run again to continue")
                    return ran
                started, load = time.perf_counter(), load_average()
                best, trials = search(features.x, prep.y, prep.split, classification, ifm=arm == "IFM-MLP",
                                      budget=budget, epochs=epochs, patience=patience, seed=rep)  # fmt: skip
                row = {
                    "dataset": name, "repetition": rep, "arm": arm, "task_type": prep.task_type,
                    "metric": "roc_auc" if classification else "rmse", "valid": round(best.valid, 5),
                    "test": round(best.test, 5), "best_config": json.dumps(best.config, sort_keys=True),
                    "trials": len(trials), "budget": budget, "epochs": epochs, "patience": patience,
                    "features": features.x.shape[1], "removed_low_variance": features.removed_low_variance,
                    "removed_correlated": features.removed_correlated, "molecules": len(prep.smiles),
                    "seconds": round(time.perf_counter() - started, 1),
                    "load_at_start": None if load is None else round(load, 1), "date": time.strftime("%Y-%m-%d"),
                }  # fmt: skip
                if cliff is not None:
                    y_test = prep.y[prep.split.test, 0]
                    row["test_rmse_cliff"] = round(rmse_cliff(y_test, best.predictions[:, 0], cliff), 5)
                append_cell(row, cells_path)
                log(f"{name} rep {rep} {arm}: valid {best.valid:.3f} test {best.test:.3f} ({row['seconds']:.0f} s)")
                ran += 1
    return ran


def report(cells, command: str, machine: str) -> str:
    """The Markdown report: per data set, MLP vs IFM-MLP on test (mean ± std over repetitions), wins."""
    lines = report_head("IFM, faithfully: MLP vs IFM-MLP on continuous descriptors with a search", command, machine)
    lines += [
        "Inputs, filters and search: `workbench/cliffs/ifm_faithful.py` (RDKit 2D descriptors + MACCS keys standing "
        "in for MOE descriptors + PubChem keys; variance ≤ 0.05 and |r| ≥ 0.95 removed on the training rows; a seeded "
        "random search, the same budget per arm, σ log-uniform in [0.01, 100] and d in 1–127 for IFM). Each "
        "repetition is one split; the trial best on validation is reported on test. Lower RMSE / higher ROC-AUC is "
        "better; *IFM better* counts the repetitions where IFM-MLP's test score beats the MLP's. The cells may come "
        "from several resumable runs (the command above is the latest); each row of `ifm.csv` records its date and "
        "the load average at its start.",
        "",
    ]
    from workbench.cliffs.ifm_results import mean_pm_std, summarize_ifm_cells

    summary = summarize_ifm_cells(cells)
    if summary.empty:
        return "\n".join([*lines, "No data set has both arms finished yet.", ""])
    from workbench.champions.published import XIA_QUOTED, XIA_SOURCE

    lines += ["| data set | metric | repetitions | budget per arm | MLP | IFM-MLP | IFM − MLP | IFM better | "
              "MLP RMSE_cliff | IFM RMSE_cliff | Xia et al. XGB / IFM-MLP |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    for r in summary.itertuples():
        quoted = XIA_QUOTED.get(str(r.dataset))
        xia = f"{quoted['XGB']:.3f} / {quoted['IFM-MLP']:.3f}" if quoted else "—"
        lines.append(
            f"| {r.dataset} | {r.metric} | {r.repetitions} | {r.budget} | {mean_pm_std(r.mlp_mean, r.mlp_std)} "
            f"| {mean_pm_std(r.ifm_mean, r.ifm_std)} | {mean_pm_std(r.diff_mean, r.diff_std)} "
            f"| {r.ifm_better} / {r.repetitions} "
            f"| {_one(r.mlp_cliff_mean)} | {_one(r.ifm_cliff_mean)} | {xia} |"
        )
    hours = cells["seconds"].sum() / 3600
    return "\n".join([*lines, "", f"Published: {XIA_SOURCE}.", "",
                      f"Cells: {len(cells)}; {hours:.2f} h of searching summed over cells.", ""])  # fmt: skip


def _one(value: float) -> str:
    return "—" if value != value else f"{value:.3f}"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``workbench bench ifm``."""
    p.add_argument("--datasets", nargs="*", default=list(DATASETS), help="MoleculeNet sets (random splits)")
    p.add_argument("--targets", nargs="*", default=list(TARGETS), help="MoleculeACE targets (their split)")
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--budget", type=int, default=10, help="configurations per arm and repetition")
    p.add_argument("--epochs", type=int, default=100)
    p.add_argument("--patience", type=int, default=15)
    p.add_argument("--max-minutes", type=float, help="start no new cell after this long")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder of ifm.csv / ifm.md")
    p.add_argument("--report-only", action="store_true")


def run_from_args(args: argparse.Namespace, command: str) -> int:
    """Run the missing cells (unless ``--report-only``) and rewrite the report."""
    load = load_average()
    cells_path = args.out / CELLS.name
    ran = 0
    if not args.report_only:
        args.out.mkdir(parents=True, exist_ok=True)
        ran = run_cells([*args.datasets, *args.targets], args.repetitions, budget=args.budget, epochs=args.epochs,
                  patience=args.patience, cells_path=cells_path, max_minutes=args.max_minutes,
                  log=lambda m: print(m, file=sys.stderr, flush=True))  # fmt: skip
    machine = run_machine(load, fitted=ran > 0)
    text = report(read_cells(cells_path), command, machine)
    (args.out / REPORT.name).write_text(text)
    print(args.out / REPORT.name)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m bench.ifm ...``."""
    p = argparse.ArgumentParser(prog="python -m bench.ifm", description=__doc__.split("\n\n")[0])
    add_arguments(p)
    argv = list(sys.argv[1:] if argv is None else argv)
    return run_from_args(p.parse_args(argv), "python -m bench.ifm " + shlex.join(argv))


if __name__ == "__main__":
    raise SystemExit(main())
