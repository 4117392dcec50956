"""Read the committed activity-cliff benchmark results (``bench/results/cliffs.csv``, written by ``bench.cliffs``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["BENCH_CLIFFS_CSV", "benchmark_scores", "rmse_long", "target_scores"]

#: Per-target scores written by ``workbench bench cliffs`` at the repository root.
BENCH_CLIFFS_CSV = Path(__file__).resolve().parents[2] / "bench" / "results" / "cliffs.csv"


def benchmark_scores(path: Path = BENCH_CLIFFS_CSV) -> pd.DataFrame:
    """The benchmark's per-target scores (``cliffs.csv``); empty when it has not been run."""
    return pd.read_csv(path) if Path(path).is_file() else pd.DataFrame()


def target_scores(target: str | None, path: Path = BENCH_CLIFFS_CSV) -> pd.DataFrame:
    """The benchmark's rows for one MoleculeACE target; empty when there are none (or no target)."""
    bench = benchmark_scores(path)
    if target is None or bench.empty or "dataset" not in bench.columns:
        return pd.DataFrame()
    return bench[bench["dataset"] == target].reset_index(drop=True)


def rmse_long(scores: pd.DataFrame, value_name: str = "RMSE") -> pd.DataFrame:
    """``model, metric, <value_name>``: RMSE and RMSE_cliff of each model, one row each (for grouped bars)."""
    return scores.melt(id_vars="model", value_vars=["rmse", "rmse_cliff"], var_name="metric", value_name=value_name)
