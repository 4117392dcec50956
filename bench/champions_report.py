"""The report of the champion search (``bench/results/champions.md``): champions, every candidate, random splits."""

from __future__ import annotations

import math
from pathlib import Path

from bench.cells import report_head

MODELS = Path(__file__).resolve().parent.parent / "models"


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


def random_section(cells) -> list[str]:
    """Repeated random splits: per data set and family, its best feature set on validation, beside Xia et al."""
    from workbench.champions.published import XIA_QUOTED, XIA_SOURCE
    from workbench.champions.selection import headline, summarize_cells

    if cells.empty:
        return ["## Repeated random splits (81/9/10)", "", "Not run yet (`workbench bench champions --split random "
                "--seeds 0 1 2 3 4 5 6 7 8 9`).", ""]  # fmt: skip
    summary = summarize_cells(cells)
    lines = [
        "## Repeated random splits (81/9/10)",
        "",
        "Each seed is one random split (and the models' seed); per family, the feature set best on mean validation "
        f"is shown with its test score, mean ± std over the splits. Published: {XIA_SOURCE}.",
        "",
        "| data set | metric | splits | rf | xgboost | svm | mlp | published (Xia et al.) |",
        "|---|---|---:|---|---|---|---|---|",
    ]
    for dataset, rows in summary.groupby("dataset", sort=False):
        metric, higher = headline(rows["task_type"].iloc[0])
        shown = []
        for family in ("rf", "xgboost", "svm", "mlp"):
            family_rows = rows[rows["family"] == family].sort_values(f"valid_{metric}_mean", ascending=not higher)
            if family_rows.empty:
                shown.append("—")
                continue
            best = family_rows.iloc[0]
            shown.append(f"{_fmt(best[f'test_{metric}_mean'], best[f'test_{metric}_std'])} ({best['features']})")
        quoted = ", ".join(f"{k} {v:.3f}" for k, v in XIA_QUOTED.get(str(dataset), {}).items()) or "—"
        lines.append(f"| {dataset} | {metric} | {int(rows['seeds'].max())} | " + " | ".join(shown) + f" | {quoted} |")
    return [*lines, ""]


def report(cells, random_cells, command: str, machine: str) -> str:
    """The Markdown report of the stored cells (scaffold split, then the repeated random splits)."""
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
        "The cells were fitted by several resumable runs of `workbench bench champions` (the command above is "
        "the latest); each row of the cells file records its own date, thread count and load average at start.",
        "",
        f"Grids: *full* = rf (200 trees), xgboost, svm, mlp on {', '.join(FEATURES)}; *large* (training "
        f"molecules × tasks > {limits.large_labels:,} or > {limits.large_train:,} training molecules) = rf "
        f"(100 trees), xgboost, mlp on {', '.join(LARGE_FEATURES)}; *huge* (> {limits.huge_labels:,}, or > "
        f"{limits.many_tasks} tasks) = xgboost (200 rounds) and mlp on the same sets. SVMs only below "
        f"{limits.svm_train:,} training molecules. Hyperparameters: `workbench/champions/grid.py`.",
        "",
    ]
    if cells.empty:
        return "\n".join([*lines, "No scaffold-split cells yet.", "", *random_section(random_cells)])
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
    lines += random_section(random_cells)
    return "\n".join(lines).rstrip("\n") + "\n"
