"""The report of :mod:`bench.transfer`: the cells that exist, the arms beside the paper, paired tests, the sweep."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from bench.cells import report_head
from bench.transfer import (
    ARMS,
    CELLS,
    DATASETS,
    EPOCHS,
    FRACTIONS,
    MAIN_FRACTION,
    PATIENCE,
    SWEEP_TASK,
    TARGET_SETS,
    main_keys,
    sweep_keys,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["fraction_figure", "report"]

#: Where the issue draws its line: the best transfer arm beats single-task by this much on the paper's targets.
MARGIN = 0.03


def _f(x: float, digits: int = 3) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.{digits}f}"


def _p(x: float) -> str:
    return "–" if x is None or math.isnan(x) else (f"{x:.3f}" if x >= 0.001 else "<0.001")


def _mean_sd(values) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "–"
    mean = sum(values) / len(values)
    if len(values) == 1:
        return f"{mean:.3f} (n=1)"
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return f"{mean:.3f} ± {sd:.3f} (n={len(values)})"


def _coverage(cells: pd.DataFrame) -> list[str]:
    """How many cells of the default plan exist, and which groups are missing."""
    planned = main_keys(DATASETS, TARGET_SETS, ARMS, [0, 1, 2], [0], "none")
    have = set()
    if not cells.empty:
        have = {
            (r.dataset, r.target_set, r.arm, round(float(r.fraction), 4), int(r.seed), r.init)
            for r in cells.itertuples()
        }
    missing = [k for k in planned if (k.dataset, k.target_set, k.arm, 0.1, k.seed, k.init) not in have]
    sweep_planned = sweep_keys(DATASETS, FRACTIONS, ["single", "best"], [0], "none")
    off_main = (cells["fraction"] - MAIN_FRACTION).abs() > 1e-9 if not cells.empty else None
    sweep_have = 0 if cells.empty else int((cells["target_set"].eq("paper") & off_main).sum())
    lines = [
        f"Cells of the default plan at 10 % (from scratch): {len(planned) - len(missing)} of {len(planned)} finished; "
        f"label-fraction sweep: {sweep_have} of {len(sweep_planned)} cells.",
    ]
    if missing:
        groups: dict[tuple, list[str]] = {}
        for k in missing:
            groups.setdefault((k.dataset, k.target_set, k.seed), []).append(k.arm)
        shown = [f"{d} {t} seed {s}: {', '.join(arms)}" for (d, t, s), arms in list(groups.items())[:12]]
        more = len(groups) - len(shown)
        lines.append(
            "Missing (data set, target set, seed: arms): " + "; ".join(shown) + (f"; and {more} more" if more else "")
        )
    return lines


def _paper_table(scores: pd.DataFrame, init: str) -> list[str]:
    from workbench.transfer.protocol import PAPER_AUC, PAPER_TARGETS

    sub = scores[
        (scores["target_set"] == "paper") & (scores["fraction"].round(4) == MAIN_FRACTION) & (scores["init"] == init)
    ]
    header = ["arm"]
    for dataset in DATASETS:
        header += [*PAPER_TARGETS[dataset], f"{dataset} mean"]
    header.append("4 targets mean")
    lines = ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    for arm in [a for a in ARMS if a in set(sub["arm"])]:
        row, all_values = [arm], []
        for dataset in DATASETS:
            per_seed = []
            for task in PAPER_TARGETS[dataset]:
                values = sub[(sub["arm"] == arm) & (sub["dataset"] == dataset) & (sub["task"] == task)]["auc"].tolist()
                row.append(_mean_sd(values))
                all_values += values
            pair = sub[(sub["arm"] == arm) & (sub["dataset"] == dataset)].groupby("seed")["auc"].mean().tolist()
            per_seed += pair
            row.append(_mean_sd(per_seed))
        row.append(_f(sum(all_values) / len(all_values)) if all_values else "–")
        lines.append("| " + " | ".join(row) + " |")
    for name in ("single-task GCN", "multi-task", "transfer model"):
        row = [f"*paper: {name}*"]
        for dataset in DATASETS:
            row += ["", "", f"*{PAPER_AUC[dataset][name]:.3f}*"]
        row.append(f"*{(PAPER_AUC['tox21'][name] + PAPER_AUC['sider'][name]) / 2:.3f}*")
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _criterion(scores: pd.DataFrame, init: str) -> list[str]:
    from workbench.transfer.results import best_transfer_arm, paired_comparison

    where = {"target_set": "paper", "fraction": MAIN_FRACTION, "init": init}
    best, _ = best_transfer_arm(scores, **where)
    if best is None or "single" not in set(scores["arm"]):
        return ["Not decidable yet: the single-task arm and at least one transfer arm need cells on the paper pairs."]
    cmp = paired_comparison(scores, best, "single", **where)
    gain = cmp["mean_diff"]
    tasks = scores[(scores["target_set"] == "paper") & (scores["arm"] == best)]["task"].nunique()
    complete = tasks == 4 and cmp["n"] >= 12
    partial = "" if complete else f" (so far: {cmp['n']} of the 12 task × seed units)"
    word = ("Met" if gain >= MARGIN else "Not met") + ("" if complete else " so far")
    verdict = (
        f"**{word}**: the best GIN transfer arm, `{best}`, beats the single-task GIN by {gain:+.3f} ROC-AUC on "
        f"average{partial}"
    )
    if gain < MARGIN:
        verdict += f"; it misses the +{MARGIN:.2f} of the issue by {MARGIN - gain:.3f}"
    verdict += "."
    lines = [
        verdict,
        f"({cmp['n']} paired task × seed units, {cmp['wins']} wins; Wilcoxon p = {_p(cmp['wilcoxon_p'])}, "
        f"paired t p = {_p(cmp['t_p'])}; the best arm is the transfer arm with the highest mean validation ROC-AUC "
        "on these targets.)",
    ]
    xgb = paired_comparison(scores, "xgb_helpers", "xgb", **where)
    if xgb["n"]:
        lines += [
            "",
            f"The fingerprint pair on the same units: XGBoost with the helpers' predictions vs XGBoost alone "
            f"{xgb['mean_diff']:+.3f} ({xgb['wins']} wins of {xgb['n']}; Wilcoxon p = {_p(xgb['wilcoxon_p'])}).",
        ]
    return lines


def _paired_tests(scores: pd.DataFrame, init: str) -> list[str]:
    from workbench.transfer.results import paired_comparison

    lines = [
        "| arm | vs | units | paper targets: mean diff (wins/n) | Wilcoxon p | paired t p | "
        "all target sets: mean diff (wins/n) | Wilcoxon p |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    arms = [a for a in ARMS if a in set(scores["arm"])]
    for baseline in ("single", "mtl"):
        for arm in arms:
            if arm == baseline or baseline not in arms or (baseline == "mtl" and arm == "single"):
                continue
            paper = paired_comparison(scores, arm, baseline, target_set="paper", fraction=MAIN_FRACTION, init=init)
            every = paired_comparison(scores, arm, baseline, fraction=MAIN_FRACTION, init=init)
            if not paper["n"] and not every["n"]:
                continue
            lines.append(
                f"| {arm} | {baseline} | task × seed | {_f(paper['mean_diff'])} ({paper['wins']}/{paper['n']}) | "
                f"{_p(paper['wilcoxon_p'])} | {_p(paper['t_p'])} | {_f(every['mean_diff'])} "
                f"({every['wins']}/{every['n']}) | {_p(every['wilcoxon_p'])} |"
            )
    return lines


def _random_table(scores: pd.DataFrame, init: str) -> list[str]:
    sub = scores[
        (scores["target_set"] != "paper") & (scores["fraction"].round(4) == MAIN_FRACTION) & (scores["init"] == init)
    ]
    if sub.empty:
        return ["No random-partition cell yet."]
    arms = [a for a in ARMS if a in set(sub["arm"])]
    lines = ["| data set | target set | targets | " + " | ".join(arms) + " |", "|---|---|---|" + "---:|" * len(arms)]
    for (dataset, target_set), group in sub.groupby(["dataset", "target_set"], sort=True):
        tasks = ", ".join(sorted(group["task"].unique()))
        row = [dataset, target_set, tasks]
        for arm in arms:
            values = group[group["arm"] == arm].groupby("seed")["auc"].mean().tolist()
            row.append(_mean_sd(values))
        lines.append("| " + " | ".join(row) + " |")
    return lines


def _sweep(scores: pd.DataFrame, init: str) -> pd.DataFrame:
    sub = scores[(scores["target_set"] == "paper") & (scores["init"] == init)]
    return sub[[SWEEP_TASK.get(d) == t for d, t in zip(sub["dataset"], sub["task"], strict=True)]]


def fraction_figure(scores: pd.DataFrame, path: Path, init: str = "none") -> Path | None:
    """ROC-AUC against the label fraction, single-task and the swept transfer arm, one panel per data set (PNG)."""
    sweep = _sweep(scores, init)
    arms = [a for a in ARMS if a in set(sweep["arm"]) and sweep[sweep["arm"] == a]["fraction"].nunique() > 1]
    if not arms:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import NullLocator

    datasets = [d for d in DATASETS if d in set(sweep["dataset"])]
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 3.8), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        for arm in arms:
            part = sweep[(sweep["dataset"] == dataset) & (sweep["arm"] == arm)]
            if part.empty:
                continue
            means = part.groupby("fraction")["auc"].mean()
            (line,) = ax.plot(means.index * 100, means.values, marker="o", label=arm)
            ax.scatter(part["fraction"] * 100, part["auc"], s=10, alpha=0.4, color=line.get_color())
        ax.set_xscale("log")
        ax.xaxis.set_minor_locator(NullLocator())
        ax.set_xticks([f * 100 for f in FRACTIONS], [f"{f * 100:g}" for f in FRACTIONS])
        ax.set_xlabel("target's training labels kept (%)")
        ax.set_ylabel("test ROC-AUC")
        ax.set_title(f"{dataset}: {SWEEP_TASK[dataset]}")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _sweep_table(scores: pd.DataFrame, init: str) -> list[str]:
    sweep = _sweep(scores, init)
    if sweep.empty:
        return []
    fractions = sorted(sweep["fraction"].unique())
    lines = ["| data set: target | arm | " + " | ".join(f"{f * 100:g} %" for f in fractions) + " |"]
    lines.append("|---|---|" + "---:|" * len(fractions))
    for dataset in DATASETS:
        for arm in [a for a in ARMS if a in set(sweep["arm"])]:
            part = sweep[(sweep["dataset"] == dataset) & (sweep["arm"] == arm)]
            if part.empty:
                continue
            row = [f"{dataset}: {SWEEP_TASK[dataset]}", arm]
            row += [_mean_sd(part[part["fraction"] == f]["auc"].tolist()) for f in fractions]
            lines.append("| " + " | ".join(row) + " |")
    return lines


def _cost(cells: pd.DataFrame) -> list[str]:
    lines = ["| data set | arm | cells | seconds | training molecule-epochs | ms per molecule-epoch |"]
    lines.append("|---|---|---:|---:|---:|---:|")
    for (dataset, arm), group in cells.groupby(["dataset", "arm"], sort=False):
        work = int(group["molecule_epochs"].sum())
        seconds = float(group["seconds"].sum())
        rate = f"{1000 * seconds / work:.1f}" if work else "–"
        lines.append(f"| {dataset} | {arm} | {len(group)} | {seconds:.0f} | {work:,} | {rate} |")
    total = float(cells["seconds"].sum())
    lines += ["", f"Total wall time of the stored cells: {total / 3600:.2f} h ({total:.0f} s)."]
    return lines


def report(cells: pd.DataFrame, *, command: str, machine: str, figure: Path | None = None, note: str = "") -> str:
    """The markdown report, written only from the stored cells (it says which ones exist)."""
    from workbench.transfer.arms import ARMS as WHAT
    from workbench.transfer.results import task_scores

    if command.endswith("--report-only"):
        command = f"workbench bench transfer` (resumable cells); this report rewritten by `{command}"
    lines = report_head("Task transfer: learning a scarce assay from related ones (Tox21, SIDER)", command, machine)
    if note:
        lines += [note, ""]
    epochs = sorted({int(e) for e in cells["epochs"]}) if not cells.empty else [EPOCHS]
    patience = sorted({int(e) for e in cells["patience"]}) if not cells.empty else [PATIENCE]
    threads = sorted({int(e) for e in cells["threads"]}) if "threads" in cells else []
    lines += [
        "Protocol: scaffold split 80/10/10 (pretrain-gnns); the target tasks keep a seeded 10 % of their training",
        "labels, the helping tasks 90 %; validation and test keep every label. Targets: the pairs of Wu et al.",
        "(Tox21 SR-ARE + SR-MMP; SIDER Investigations + Vascular disorders) and three random partitions with 25 % of",
        "the tasks as targets (drawn with fixed seeds among tasks with enough labels of both classes). Every GIN arm:",
        f"GIN 5×300, JK last, mean pooling, dropout 0.5, batch 32, Adam 1e-3, at most {'/'.join(map(str, epochs))} "
        f"epochs with early stopping (patience {'/'.join(map(str, patience))}) on the",
        "mean validation ROC-AUC of the target tasks; an epoch makes at least 20 optimizer steps (a network on a few",
        "dozen labels passes over them several times per epoch). From scratch unless the `init` column names an",
        "encoder. Test ROC-AUC of each target task on its full test labels; paired across arms (same mask, seed and",
        "split)." + (f" PyTorch threads: {', '.join(map(str, threads))}." if threads else ""),
        "",
        "Arms:",
        "",
        *[f"- `{arm}`: {what}" for arm, what in WHAT.items()],
        "",
        "Arm `ebm` reuses arm `mtl`'s network of the same seed (its logits are the EBM's unary terms); its task graph",
        "links each task to its 3 most correlated tasks (phi coefficient of the kept training labels).",
        "",
    ]
    if cells.empty:
        return "\n".join([*lines, "No cell has finished yet: run `workbench bench transfer`."]) + "\n"
    lines += ["## Cells", "", *_coverage(cells), ""]
    scores = task_scores(cells)
    for init in sorted(set(scores["init"]), key=lambda i: (i != "none", i)):
        title = "from scratch" if init == "none" else f"encoder initialised from `{init}`"
        lines += [
            f"## Paper targets at 10 % labels ({title})",
            "",
            "Test ROC-AUC, mean ± sd over seeds (per target), the pair's mean over seeds, and the mean over the four",
            "targets. Italic rows: Wu et al.'s published means over each pair (their GCN encoder; not run here).",
            "",
            *_paper_table(scores, init),
            "",
            "### Does the best transfer arm beat single-task by 0.03?",
            "",
            *_criterion(scores, init),
            "",
            "### Paired tests",
            "",
            "Differences in test ROC-AUC, paired over (target task, seed) units that both arms have; Wilcoxon",
            "signed-rank and paired t-test p-values (two-sided; not corrected for the number of comparisons).",
            "",
            *_paired_tests(scores, init),
            "",
            "## Random partitions at 10 % labels",
            "",
            "Mean test ROC-AUC over the partition's targets (mean ± sd over seeds where there are several).",
            "",
            *_random_table(scores, init),
            "",
        ]
        sweep = _sweep_table(scores, init)
        if sweep:
            lines += ["## ROC-AUC against the label fraction", "", *sweep, ""]
            drawn = fraction_figure(scores, figure, init) if figure is not None and init == "none" else None
            if drawn is not None:
                lines += [f"![ROC-AUC against the label fraction]({drawn.name})", ""]
    lines += ["## Cost", "", *_cost(cells), "", f"Raw cells: `bench/results/{CELLS.name}`."]
    return "\n".join(lines) + "\n"
