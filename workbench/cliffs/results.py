"""Read the committed activity-cliff benchmark results (``bench/results/cliffs.csv``, written by ``bench.cliffs``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

__all__ = ["BENCH_CLIFFS_CSV", "benchmark_scores"]

#: Per-target scores written by ``workbench bench cliffs`` at the repository root.
BENCH_CLIFFS_CSV = Path(__file__).resolve().parents[2] / "bench" / "results" / "cliffs.csv"


def benchmark_scores(path: Path = BENCH_CLIFFS_CSV) -> pd.DataFrame:
    """The benchmark's per-target scores (``cliffs.csv``); empty when it has not been run."""
    return pd.read_csv(path) if Path(path).is_file() else pd.DataFrame()
