"""Plain-text and table summaries of a custom training run (the CLI prints them, the page shows the tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.custom.training import CustomResult

__all__ = ["chosen_how", "metrics_table", "search_table", "summary_lines"]

_SHOWN = {
    "rmse": "RMSE",
    "mae": "MAE",
    "r2": "R²",
    "spearman": "Spearman ρ",
    "coverage": "interval coverage",
    "interval_halfwidth": "interval ± half-width",
    "rmse_cliff": "RMSE, cliff molecules",
    "rmse_non_cliff": "RMSE, other molecules",
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "brier": "Brier score",
    "accuracy": "accuracy at 0.5",
    "ece": "expected calibration error",
}


def metrics_table(result: CustomResult) -> pd.DataFrame:
    """Test metrics per target with their 95 % bootstrap interval where computed."""
    rows = []
    for target, metrics in result.metrics.items():
        ci = result.intervals.get(target, {})
        for key, label in _SHOWN.items():
            if key not in metrics or not np.isfinite(metrics[key]):
                continue
            lo, hi = ci.get(key, (np.nan, np.nan))
            shown_ci = f"{lo:.3f} – {hi:.3f}" if np.isfinite(lo) else ""
            rows.append({"target": target, "metric": label, "test": round(metrics[key], 4), "95% CI": shown_ci})
    return pd.DataFrame(rows, columns=["target", "metric", "test", "95% CI"])


def chosen_how(result: CustomResult) -> str:
    """E.g. ``chosen on validation: SVR …`` or ``chosen out of fold: Mean of …``."""
    where = "out of fold (train + validation)" if result.config.effort == "thorough" else "on validation"
    return f"chosen {where}: {result.chosen.label}"


def search_table(result: CustomResult) -> pd.DataFrame:
    """Every candidate with its validation score (higher is better), its out-of-fold score where it was
    cross-fitted, and its fit time; then the means of the best candidates (thorough); the chosen one marked."""
    frame = pd.DataFrame(result.search)
    table = pd.DataFrame(
        {
            "candidate": frame["label"],
            "validation score": frame["valid_score"].round(4),
            "out-of-fold score": frame.get("cv_score", pd.Series(np.nan, index=frame.index)).round(4),
            "seconds": frame["seconds"].round(1),
            "chosen": frame.get("chosen", pd.Series(False, index=frame.index)).fillna(False).astype(bool),
        }
    )
    single = len(result.chosen.components) == 1
    table["chosen"] &= single  # a mean is marked on its own row
    means = [
        {
            "candidate": "Mean of " + "; ".join(e["components"]),
            "validation score": np.nan,
            "out-of-fold score": round(e["cv_score"], 4),
            "seconds": np.nan,
            "chosen": bool(e["chosen"]),
        }
        for e in result.ensembles
    ]
    return pd.concat([table, pd.DataFrame(means, columns=table.columns)], ignore_index=True) if means else table


def summary_lines(result: CustomResult) -> list[str]:
    """The run in a few lines: the data report, the split, the chosen model, the test metrics."""
    data = result.data
    counts = ", ".join(f"{k}: {v:,}" for k, v in data.counts().items())
    lines = [f"data: {counts}"]
    lines += [f"warning: {w}" for w in data.warnings]
    split = result.split
    sizes = f"{len(split.train)} train / {len(split.valid)} validation / {len(split.test)} test"
    lines.append(f"split {split.kind}: {sizes}")
    lines.append(chosen_how(result))
    for row in metrics_table(result).itertuples(index=False):
        ci = f" (95% CI {row[3]})" if row[3] else ""
        lines.append(f"test {row.target}: {row.metric} {row.test:.3f}{ci}")
    lines.append(f"trained in {result.seconds:.1f} s")
    return lines
