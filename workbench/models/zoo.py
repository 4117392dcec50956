"""The model zoo: every registered checkpoint's card as a table, and the benchmark results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.models import Checkpoint

__all__ = ["BENCH_CSV", "benchmark_table", "card_rows"]

BENCH_CSV = Path(__file__).resolve().parents[2] / "bench" / "results" / "moleculenet.csv"


def _metric_text(block: dict) -> str:
    return ", ".join(
        f"{name} {m['mean']:.3f} ± {m['std']:.3f}"
        for name, m in block.items()
        if isinstance(m.get("mean"), int | float) and isinstance(m.get("std"), int | float)
    )


def card_rows(checkpoints: list[Checkpoint]) -> pd.DataFrame:
    """One summary row per checkpoint: group, architecture, data, split, seeds, test metrics, command."""
    rows = []
    for c in checkpoints:
        card = c.card
        rows.append(
            {
                "name": c.name,
                "group": c.group,
                "architecture": c.architecture,
                "tasks": len(card["tasks"]),
                "data": card["data"]["dataset"],
                "split": card["split"]["kind"],
                "seeds": len(card["seeds"]),
                "test": _metric_text(card["metrics"].get("test", {})),
                "size_mb": round(sum((c.path / w["file"]).stat().st_size for w in card["weights"]) / 1e6, 2),
                "command": card["command"],
            }
        )
    return pd.DataFrame(rows)


def benchmark_table(path: Path = BENCH_CSV) -> pd.DataFrame | None:
    """The committed MoleculeNet benchmark (``bench/results/moleculenet.csv``), if present."""
    return pd.read_csv(path) if path.is_file() else None
