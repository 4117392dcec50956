"""The MoleculeNet report of the champion search (``bench/results/moleculenet.md``): champions, every candidate
(the pretraining benchmark's GINs among them), published rows, repeated random splits."""

from __future__ import annotations

import math

from bench.cells import report_head


def _fmt(mean, std=None, digits: int = 3) -> str:
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "—"
    return f"{mean:.{digits}f}" + ("" if std is None or math.isnan(std) else f" ± {std:.{digits}f}")


def _beats(ours: float, published: float | None, higher: bool) -> str:
    if published is None:
        return "no published value"
    return "yes" if (ours > published if higher else ours < published) else "no"


def dataset_section(dataset: str, rows, choice: dict, progress: tuple[int, int] | None = None) -> list[str]:
    """One data set's table: every candidate (validation, test), the champion marked, published rows beside.

    ``progress`` (cells finished, cells planned) below the plan: the search is under way and the marked row is only
    the leader so far.
    """
    from workbench.champions.published import published_rows

    metric, champion = choice["metric"], choice["champion"]
    prc = dataset == "muv" and "test_prc_auc_mean" in rows  # MUV is scored by PRC-AUC as well
    prc_head = " valid prc_auc | test prc_auc |" if prc else ""
    under_way = progress is not None and progress[0] < progress[1]
    lines = [
        f"### {dataset} ({rows['grid'].iloc[0] if 'grid' in rows else ''} grid)",
        "",
        *(
            [f"Search under way: {progress[0]} of {progress[1]} cells; the marked row leads so far.", ""]
            if under_way
            else []
        ),
        f"| family | features | seeds | valid {metric} | test {metric} |{prc_head} seconds |",
        "|---|---|---:|---:|---:|" + "---:|" * (3 if prc else 1),
    ]
    for r in rows.to_dict("records"):
        mark = "**" if (r["family"], r["features"]) == (champion["family"], champion["features"]) else ""
        prc_cells = (
            f" {_fmt(r.get('valid_prc_auc_mean'), r.get('valid_prc_auc_std'))} "
            f"| {_fmt(r.get('test_prc_auc_mean'), r.get('test_prc_auc_std'))} |"
            if prc
            else ""
        )
        lines.append(
            f"| {mark}{r['family']}{mark} | {mark}{r['features']}{mark} | {r['seeds']} "
            f"| {_fmt(r[f'valid_{metric}_mean'], r[f'valid_{metric}_std'])} "
            f"| {_fmt(r[f'test_{metric}_mean'], r[f'test_{metric}_std'])} |{prc_cells} {r['seconds']:.0f} |"
        )
    for name, value in published_rows(dataset).items():
        if value is not None:
            lines.append(f"| {name} (published) | graph | 3 | — | {_fmt(value)} |" + " — |" * (3 if prc else 1))
    if prc:
        lines += ["", f"PRC-AUC of the champion on test: {_fmt(champion.get('test_prc_auc_mean'))} (MUV's actives are "
                  "rare: PRC-AUC is its second metric)."]  # fmt: skip
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
        f"Feature sets fitted on these splits: {', '.join(sorted(set(cells['features'])))} (`maccs+rdkit2d`, RDKit 2D "
        "descriptors with MACCS keys, is the closest of ours to Xia et al.'s MOE descriptors with PubChem keys). "
        f"Command: `workbench bench champions --split random --seeds {' '.join(map(str, sorted(set(cells['seed']))))}"
        " --features ...`.",
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


def report(cells, random_cells, command: str, machine: str, pretraining=None, datasets=()) -> str:
    """The Markdown report of the stored cells (scaffold split, then the repeated random splits).

    ``pretraining``: the pretraining benchmark's cells, whose GINs join the candidates of the searched data sets;
    ``datasets``: every data set the search covers (those without cells are listed as not searched yet).
    """
    from workbench.champions.gin import candidate_cells
    from workbench.champions.grid import FEATURES, LARGE_FEATURES, MLP, MLP_LARGE, GridLimits
    from workbench.champions.published import GRAPHMVP_C, GRAPHMVP_SOURCES
    from workbench.champions.selection import champions, headline, search_progress, summarize_cells

    limits = GridLimits()
    searched = cells
    cells = candidate_cells(cells, pretraining if pretraining is not None else cells.iloc[0:0])
    gins = int((cells["family"] == "gin").sum()) if not cells.empty else 0
    lines = report_head("MoleculeNet: champion search (scaffold split)", command, machine)
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
        f"{limits.svm_train:,} training molecules. The MLP on the large and huge grids: batches of "
        f"{MLP_LARGE['batch_size']}, at most {MLP_LARGE['max_epochs']} epochs, patience {MLP_LARGE['patience']} "
        f"(full grid: {MLP['batch_size']}, {MLP['max_epochs']}, {MLP['patience']}). Hyperparameters: "
        "`workbench/champions/grid.py`.",
        "",
        f"GIN candidates ({gins} cells): the pretraining benchmark's fine-tuned GINs on the same split and seeds "
        "(`workbench bench pretraining`, `bench/results/pretraining.md`), from random weights and from each shipped "
        "encoder; validation is the best epoch's (so slightly optimistic beside a candidate scored once) and test "
        "is read at that epoch. A GIN champion would ship through `workbench train finetune`, not as a tabular "
        "checkpoint. Data sets the search has not run on get no GIN candidates (their GINs are in the "
        "pretraining report).",
        "",
    ]
    if cells.empty:
        return "\n".join([*lines, "No scaffold-split cells yet.", "", *random_section(random_cells)])
    summary = summarize_cells(cells)
    progress = search_progress(searched)
    leaders = champions(summary)
    chosen = {d: c for d, c in leaders.items() if progress[d][0] >= progress[d][1]}
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
    under_way = [d for d in leaders if d not in chosen]
    if under_way:
        lines += ["", "Search under way (no champion until every cell of its grid is fitted; "
                  f"`workbench bench champions --datasets {' '.join(under_way)}` continues it): "
                  + "; ".join(f"{d}, {progress[d][0]} of {progress[d][1]} cells, leader so far on validation "
                              f"{leaders[d]['champion']['family']} on {leaders[d]['champion']['features']}"
                              for d in under_way) + "."]  # fmt: skip
    missing = [d for d in datasets if d not in leaders]
    if missing:
        lines += ["", f"Not searched yet: {', '.join(missing)} (`workbench bench champions --datasets "
                  f"{' '.join(missing)}`); their shipped models are the first baselines (`bench/results/baselines.md`) "
                  "and their GINs are in `bench/results/pretraining.md`."]  # fmt: skip
    lines += ["", f"The champion beats GraphMVP-C's published test score on {wins['yes']} of "
              f"{wins['yes'] + wins['no']} data sets that have a published value. Published rows: "
              + "; ".join(f"{k}: {v}" for k, v in GRAPHMVP_SOURCES.items()) + ".", ""]  # fmt: skip
    hours = searched["seconds"].sum() / 3600
    lines += [f"Search cells: {len(searched)}; fitting time summed over them {hours:.2f} h (features not included); "
              f"GIN cells: {gins}.", ""]  # fmt: skip
    lines += ["## Every candidate", ""]
    for dataset, rows in summary.groupby("dataset", sort=False):
        if dataset in leaders:
            grid = searched.loc[searched["dataset"] == dataset, "grid"].iloc[0]
            lines += dataset_section(str(dataset), rows.assign(grid=grid), leaders[dataset], progress[dataset])
    lines += random_section(random_cells)
    return "\n".join(lines).rstrip("\n") + "\n"
