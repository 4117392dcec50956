"""Champion search on MoleculeNet: every model family × feature set on the scaffold split, chosen on validation.

Run: ``workbench bench champions [--datasets bbbp esol ...] [--families rf xgboost svm mlp] [--features ...]
[--seeds 0 1 2] [--max-minutes M] [--jobs 2]``. One CSV row per finished (data set, family, feature set, seed) in
``bench/results/champions.csv`` (a stopped run resumes at the next cell; seed-independent SVMs run one seed);
``bench/results/champions.md`` is rewritten from all stored cells (``--report-only`` rewrites only the report).
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

from bench.cells import append_cell, read_cells, report_head
from bench.machine import describe_machine, load_average

RESULTS = Path(__file__).parent / "results"
CELLS = RESULTS / "champions.csv"
REPORT = RESULTS / "champions.md"
MODELS = Path(__file__).resolve().parent.parent / "models"
DATASETS = ("bbbp", "bace", "clintox", "sider", "tox21", "toxcast", "hiv", "muv", "esol", "freesolv",
            "lipophilicity")  # fmt: skip
SPLIT = "scaffold"


def _key(row) -> tuple:
    return (row["dataset"], row["family"], row["features"], int(row["seed"]))


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
    log: Callable[[str], None] = print,
) -> int:
    """Run the missing cells of one data set; returns how many ran (stops starting cells at ``deadline``)."""
    from workbench.champions.features import DatasetFeatures
    from workbench.champions.fit import fit_candidate
    from workbench.champions.grid import DETERMINISTIC, grid_name, search_grid
    from workbench.data.prepared import prepare

    prep = prepare(name, SPLIT)
    n_train, n_tasks = len(prep.split.train), len(prep.tasks)
    grid = grid_name(n_train, n_tasks)
    candidates = search_grid(prep.task_type, n_train, n_tasks, families=tuple(families),
                             features=tuple(features) if features else None)  # fmt: skip
    finished = read_cells(cells_path)
    done = set() if finished.empty else {_key(r) for r in finished.to_dict("records")}
    matrices = DatasetFeatures(prep, minimol_cache)
    classification = prep.task_type == "classification"
    ran = 0
    for candidate in candidates:
        for seed in seeds[:1] if candidate.family in DETERMINISTIC else seeds:
            family = "svm" if candidate.family in DETERMINISTIC else candidate.family
            if (name, family, candidate.features, seed) in done:
                continue
            if time.monotonic() > deadline:
                return ran
            load = load_average()
            matrix = matrices(candidate.features)
            result = fit_candidate(candidate, matrix, prep.y, prep.split, classification, seed, jobs)
            row = {
                "dataset": name, "task_type": prep.task_type, "grid": grid, "family": family,
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
            log(f"{name} {candidate.family} {candidate.features} seed {seed}: valid {shown} ({result.seconds:.0f} s)")
            ran += 1
    return ran


def _fmt(mean, std=None, digits: int = 3) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "—"
    return f"{mean:.{digits}f}" + ("" if std is None or math.isnan(std) else f" ± {std:.{digits}f}")


def _shipped_gin(dataset: str, metric: str) -> float | None:
    from workbench.models import CheckpointError, load_card

    try:
        card = load_card(MODELS / f"{dataset}_gin")
    except (CheckpointError, FileNotFoundError, OSError):
        return None
    found = card.metrics.get("test", {}).get(metric)
    return None if found is None else found.mean


def _beats(ours: float, published: float | None, higher: bool) -> str:
    if published is None:
        return "no published value"
    return "yes" if (ours > published if higher else ours < published) else "no"


def dataset_section(dataset: str, rows, choice: dict) -> list[str]:
    """One data set's table: every candidate (validation, test), the champion marked, published rows beside."""
    from workbench.champions.published import published_rows

    metric, champion = choice["metric"], choice["champion"]
    lines = [
        f"### {dataset} ({rows['grid'].iloc[0] if 'grid' in rows else ''} grid)",
        "",
        f"| family | features | seeds | valid {metric} | test {metric} | seconds |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in rows.to_dict("records"):
        mark = "**" if (r["family"], r["features"]) == (champion["family"], champion["features"]) else ""
        lines.append(
            f"| {mark}{r['family']}{mark} | {mark}{r['features']}{mark} | {r['seeds']} "
            f"| {_fmt(r[f'valid_{metric}_mean'], r[f'valid_{metric}_std'])} "
            f"| {_fmt(r[f'test_{metric}_mean'], r[f'test_{metric}_std'])} | {r['seconds']:.0f} |"
        )
    gin = _shipped_gin(dataset, metric)
    lines += [f"| GIN (shipped card, no pretraining) | graph | 3 | — | {_fmt(gin)} | — |"] if gin is not None else []
    for name, value in published_rows(dataset).items():
        if value is not None:
            lines.append(f"| {name} (published) | graph | 3 | — | {_fmt(value)} | — |")
    if "test_prc_auc_mean" in rows and dataset == "muv":
        lines += ["", f"PRC-AUC of the champion on test: {_fmt(champion['test_prc_auc_mean'])}."]
    return [*lines, ""]


def report(cells, command: str, machine: str) -> str:
    """The Markdown report of the stored cells."""
    from workbench.champions.grid import FEATURES, LARGE_FEATURES, GridLimits
    from workbench.champions.published import GRAPHMVP_C, GRAPHMVP_SOURCES
    from workbench.champions.selection import champions, headline, summarize_cells

    limits = GridLimits()
    lines = report_head("Champion search on MoleculeNet (scaffold split)", command, machine)
    lines += [
        "Every family × feature set is fitted on the training split of the deterministic scaffold split "
        "(80/10/10) with each seed and scored on validation and test; the **champion** of a data set is the "
        "candidate with the best mean *validation* score (test scores never choose). Classification: mean ROC-AUC "
        "over tasks (MUV also PRC-AUC); regression: RMSE. Mean ± std over seeds (SVMs do not depend on the seed: "
        "one seed).",
        "",
        f"Grids: *full* = rf, xgboost, svm, mlp on {', '.join(FEATURES)}; *large* (training molecules × tasks "
        f"> {limits.large_labels:,}) = rf (300 trees), xgboost, mlp on {', '.join(LARGE_FEATURES)}; *many-tasks* "
        f"(> {limits.many_tasks} tasks) = xgboost (200 rounds) and mlp only. SVMs only below {limits.svm_train:,} "
        "training molecules. Hyperparameters: `workbench/champions/grid.py`.",
        "",
    ]
    if cells.empty:
        return "\n".join([*lines, "No cells yet.", ""])
    summary = summarize_cells(cells)
    chosen = champions(summary)
    lines += ["## Champions", "", "| data set | metric | champion (chosen on validation) | valid | test "
              "| GraphMVP-C (published) | champion beats it on test |", "|---|---|---|---:|---:|---:|---|"]  # fmt: skip
    wins = {"yes": 0, "no": 0}
    for dataset, choice in chosen.items():
        metric, higher = headline(choice["champion"]["task_type"])
        c = choice["champion"]
        verdict = _beats(c[f"test_{metric}_mean"], GRAPHMVP_C.get(dataset), higher)
        wins[verdict] = wins.get(verdict, 0) + 1
        lines.append(
            f"| {dataset} | {metric} | {c['family']} on {c['features']} "
            f"| {_fmt(c[f'valid_{metric}_mean'], c[f'valid_{metric}_std'])} "
            f"| {_fmt(c[f'test_{metric}_mean'], c[f'test_{metric}_std'])} | {_fmt(GRAPHMVP_C.get(dataset))} "
            f"| {verdict} |"
        )
    lines += ["", f"The champion beats GraphMVP-C's published test score on {wins['yes']} of "
              f"{wins['yes'] + wins['no']} data sets that have a published value. Published rows: "
              + "; ".join(f"{k}: {v}" for k, v in GRAPHMVP_SOURCES.items()) + ".", ""]  # fmt: skip
    hours = cells["seconds"].sum() / 3600
    lines += [f"Cells: {len(cells)}; fitting time summed over cells {hours:.2f} h (features not included).", ""]
    lines += ["## Every candidate", ""]
    for dataset, rows in summary.groupby("dataset", sort=False):
        if dataset in chosen:
            grid = cells.loc[cells["dataset"] == dataset, "grid"].iloc[0]
            lines += dataset_section(str(dataset), rows.assign(grid=grid), chosen[dataset])
    return "\n".join(lines).rstrip("\n") + "\n"


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of ``workbench bench champions``."""
    from workbench.champions.grid import FAMILIES

    p.add_argument("--datasets", nargs="*", default=list(DATASETS), choices=list(DATASETS))
    p.add_argument("--families", nargs="*", default=list(FAMILIES), choices=list(FAMILIES))
    p.add_argument("--features", nargs="*", help="feature sets instead of each grid's (e.g. ecfp4 rdkit2d)")
    p.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    p.add_argument("--jobs", type=int, default=2, help="threads of the forests and boosters")
    p.add_argument("--max-minutes", type=float, help="start no new cell after this long")
    p.add_argument("--minimol-cache", type=Path, default=Path("runs/minimol"), help="MiniMol embeddings cache")
    p.add_argument("--out", type=Path, default=RESULTS, help="folder of champions.csv / .md")
    p.add_argument("--report-only", action="store_true")


def run_from_args(args: argparse.Namespace, command: str) -> int:
    """Run the missing cells (unless ``--report-only``) and rewrite the report."""
    load = load_average()
    cells_path = args.out / CELLS.name
    log = lambda message: print(message, file=sys.stderr, flush=True)  # noqa: E731
    if not args.report_only:
        from workbench.featurizers.feature_sets import FEATURE_SETS

        unknown = [f for f in args.features or [] if f not in FEATURE_SETS]
        if unknown:
            raise SystemExit(f"--features: unknown feature set {', '.join(unknown)} (known: {', '.join(FEATURE_SETS)})")
        args.out.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + args.max_minutes * 60 if args.max_minutes else math.inf
        for name in args.datasets:
            if time.monotonic() > deadline:
                log("time budget reached; run again to continue")
                break
            run_dataset(name, args.seeds, families=args.families, features=args.features, cells_path=cells_path,
                        jobs=args.jobs, minimol_cache=args.minimol_cache, deadline=deadline, log=log)  # fmt: skip
    text = report(read_cells(cells_path), command, describe_machine(None if args.report_only else load))
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
