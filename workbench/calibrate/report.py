"""The calibration report: per checkpoint and task, the method chosen on validation and its effect on test.

Classification rows give the expected calibration error (10 equal-width bins), Brier score and ROC-AUC on test
before and after; regression rows the 90 % interval's half-width and its test coverage. The reliability figure
pools each checkpoint's classification tasks (test molecules; observed positive rate against mean predicted
probability per bin), before and after.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from workbench.calibrate.checkpoint import CalibrationResult

__all__ = ["coverage_interval", "reliability_figure", "report_markdown"]

BINS = 10


def _f(x: float | None, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}"


def coverage_interval(coverage: float, rows: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval (95 % by default) of a coverage measured on ``rows`` test molecules.

    A measured coverage is a binomial proportion: on 65 test molecules one molecule moves it by 1.5 points, so
    whether a 90 % interval "covers 85–95 %" is partly chance; the interval says how much.
    """
    if rows <= 0:
        raise ValueError("a coverage needs at least one test row")
    centre = (coverage + z * z / (2 * rows)) / (1 + z * z / rows)
    spread = z * np.sqrt(coverage * (1 - coverage) / rows + z * z / (4 * rows * rows)) / (1 + z * z / rows)
    return float(centre - spread), float(centre + spread)


def _coverage_cells(test: dict) -> str:
    """``coverage | 95 % interval | consistent with 90 %`` of one regression row."""
    if test.get("coverage") is None or not test.get("rows"):
        return "– | – | –"
    low, high = coverage_interval(test["coverage"], int(test["rows"]))
    return f"{_f(test['coverage'])} | {low:.3f}–{high:.3f} | {'yes' if low <= 0.90 <= high else 'no'}"


def _counts(results: Sequence[CalibrationResult]) -> tuple[int, int, int, int]:
    """(classification tasks with a test ECE, of them lowered; regression tasks, of them covering 85–95 %)."""
    ece = lowered = regression = covered = 0
    for result in results:
        for entry in result.tasks:
            test = entry.get("test", {})
            if entry["method"] == "conformal":
                regression += 1
                covered += test.get("coverage") is not None and 0.85 <= test["coverage"] <= 0.95
            elif test.get("ece_before") is not None:
                ece += 1
                lowered += test["ece_after"] < test["ece_before"]
    return ece, lowered, regression, covered


def report_markdown(
    results: Sequence[CalibrationResult], command: str, machine: str, figure: str | None, figure_note: str = ""
) -> str:
    """The Markdown report of a calibration run."""
    ece, lowered, regression, covered = _counts(results)
    lines = [
        "# Calibration and conformal intervals of the shipped checkpoints",
        "",
        f"Command: `{command}`",
        "",
        f"Machine: {machine}",
        "",
        "Each checkpoint's own split is rebuilt from its card (the part sizes are checked). Classification: "
        "`none`, Platt or isotonic, chosen by 5-fold cross-validated log loss within the validation predictions "
        "and then fitted on all of them; at least 5 validation rows of each class, else `none`. Regression: the "
        "split-conformal 90 % half-width of the validation residuals. Everything below is measured on the test "
        "molecules, which the calibration never saw. ECE: expected calibration error, 10 equal-width bins.",
        "",
        f"**Summary**: calibration lowered the test ECE on {lowered} of {ece} classification tasks; the 90 % "
        f"intervals covered 85–95 % of the test molecules on {covered} of {regression} regression tasks.",
        "",
        *_per_checkpoint(results),
        "## Classification",
        "",
        "| checkpoint | task | method | valid rows | test rows | ECE before | ECE after | Brier before | Brier after "
        "| ROC-AUC before | ROC-AUC after |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        for e in result.tasks:
            if e["method"] == "conformal":
                continue
            t = e.get("test", {})
            method = e["method"] + (" (too few rows)" if e.get("reason") else "")
            lines.append(
                f"| {result.name} | {e['task']} | {method} | {e.get('valid_rows', '–')} | {t.get('rows', '–')} "
                f"| {_f(t.get('ece_before'))} | {_f(t.get('ece_after'))} | {_f(t.get('brier_before'))} "
                f"| {_f(t.get('brier_after'))} | {_f(t.get('roc_auc_before'))} | {_f(t.get('roc_auc_after'))} |"
            )
    lines += [
        "",
        "## Regression",
        "",
        "The measured coverage is a proportion of the test molecules: its 95 % Wilson interval shows how far chance "
        "alone moves it (split conformal with n validation residuals targets between 90 % and 90 % + 1/(n+1)).",
        "",
        "| checkpoint | task | validation residuals | half-width | test rows | test coverage (goal 0.85–0.95) "
        "| 95 % interval of the coverage | consistent with 90 % |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    for result in results:
        for e in result.tasks:
            if e["method"] == "conformal":
                t = e.get("test", {})
                lines.append(
                    f"| {result.name} | {e['task']} | {e['residuals']} | {_f(e['halfwidth'])} | {t.get('rows', '–')} "
                    f"| {_coverage_cells(t)} |"
                )
    if figure:
        lines += ["", figure_note] if figure_note else []
        lines += ["", f"![Reliability before and after calibration]({figure})"]
    return "\n".join(lines) + "\n"


def _per_checkpoint(results: Sequence[CalibrationResult]) -> list[str]:
    """Mean test ECE over each classification checkpoint's tasks, before and after, and how many it lowered."""
    rows, lowered = [], 0
    for result in results:
        tests = [e["test"] for e in result.tasks if e["method"] != "conformal" and e.get("test", {}).get("ece_before")]
        if not tests:
            continue
        before = float(np.mean([t["ece_before"] for t in tests]))
        after = float(np.mean([t["ece_after"] for t in tests]))
        calibrated = sum(e["method"] in ("platt", "isotonic") for e in result.tasks)
        lowered += after < before
        rows.append(f"| {result.name} | {len(tests)} | {calibrated} | {before:.3f} | {after:.3f} |")
    if not rows:
        return []
    return [
        "## Per checkpoint",
        "",
        f"Mean test ECE over the checkpoint's tasks: lowered on {lowered} of {len(rows)} classification checkpoints.",
        "",
        "| checkpoint | tasks | tasks calibrated | mean ECE before | mean ECE after |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
    ]


def _curve(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    which = np.minimum((p * BINS).astype(int), BINS - 1)
    xs, ys = [], []
    for b in range(BINS):
        mask = which == b
        if mask.any():
            xs.append(p[mask].mean())
            ys.append(y[mask].mean())
    return np.array(xs), np.array(ys)


def reliability_figure(results: Sequence[CalibrationResult], path: Path) -> Path | None:
    """Small multiples (one per checkpoint with classification tasks): reliability before and after, on test."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shown = [r for r in results if r.reliability]
    if not shown:
        return None
    cols = min(4, len(shown))
    rows = -(-len(shown) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 3.2 * rows), squeeze=False)
    for ax, result in zip(axes.flat, shown, strict=False):
        p_raw = np.concatenate([d["p_raw"] for d in result.reliability.values()])
        p_cal = np.concatenate([d["p_cal"] for d in result.reliability.values()])
        y = np.concatenate([d["y"] for d in result.reliability.values()])
        ax.plot([0, 1], [0, 1], color="0.7", lw=1)
        for p, label, colour in ((p_raw, "before", "tab:red"), (p_cal, "after", "tab:blue")):
            xs, ys = _curve(p, y)
            ax.plot(xs, ys, marker="o", ms=3, color=colour, label=label)
        ax.set_title(f"{result.name} ({len(y):,} test labels)", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("mean predicted probability", fontsize=8)
        ax.set_ylabel("observed positive rate", fontsize=8)
        ax.legend(fontsize=7, loc="upper left")
    for ax in list(axes.flat)[len(shown) :]:
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
