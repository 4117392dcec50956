"""The model zoo: every registered checkpoint's card as a table and as text, and the benchmark results."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from workbench.models.card import Metric, ModelCard
from workbench.models.store import Checkpoint

__all__ = ["BENCH_CSV", "benchmark_table", "card_markdown", "card_rows", "metric_text"]

BENCH_CSV = Path(__file__).resolve().parents[2] / "bench" / "results" / "moleculenet.csv"


def metric_text(block: dict[str, Metric]) -> str:
    """``name mean ± std`` for every metric with both numbers, comma-separated."""
    return ", ".join(
        f"{name} {m.mean:.3f} ± {m.std:.3f}"
        for name, m in block.items()
        if isinstance(m.mean, int | float) and isinstance(m.std, int | float)
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
                "tasks": len(card.tasks),
                "data": card.data.dataset,
                "split": card.split.kind,
                "seeds": len(card.seeds),
                "test": metric_text(card.metric_block("test")),
                "size_mb": round(sum((c.path / w.file).stat().st_size for w in card.weights) / 1e6, 2),
                "command": card.command,
            }
        )
    return pd.DataFrame(rows)


def card_markdown(card: ModelCard) -> tuple[str, str]:
    """Two Markdown lines about a card: name with description; data set, its sha256 and the split."""
    data, split = card.data, card.split
    molecules = "?" if data.molecules is None else data.molecules
    sizes = None if split.sizes is None else list(split.sizes)
    return (
        f"**{card.name}** — {card.description or ''}",
        f"Data: `{data.dataset}` ({molecules} molecules, sha256 `{data.sha256[:12]}…`); split: `{split.kind}` {sizes}",
    )


def benchmark_table(path: Path = BENCH_CSV) -> pd.DataFrame | None:
    """The committed MoleculeNet benchmark (``bench/results/moleculenet.csv``), if present."""
    return pd.read_csv(path) if path.is_file() else None
