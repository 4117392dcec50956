"""The model zoo: every registered checkpoint's card as a table and as text, and the benchmark results."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from workbench.models.card import Metric, ModelCard
from workbench.models.store import Checkpoint

__all__ = [
    "BENCH_CSV",
    "METRIC_TITLES",
    "NOT_RECORDED",
    "benchmark_figure",
    "benchmark_table",
    "card_facts",
    "card_rows",
    "init_comparison_rows",
    "metric_text",
]

BENCH_CSV = Path(__file__).resolve().parents[2] / "bench" / "results" / "baselines.csv"
#: What a card field the card does not fill reads as.
NOT_RECORDED = "not recorded in the card"
#: Facet titles of the benchmark chart: each metric with the direction that is better.
METRIC_TITLES = {
    "roc_auc": "ROC-AUC (higher is better)",
    "prc_auc": "PRC-AUC (higher is better)",
    "rmse": "RMSE (lower is better)",
    "mae": "MAE (lower is better)",
}


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


def _mean_std(score: dict | None) -> str:
    if not score or score.get("mean") is None:
        return "—"
    std = score.get("std")
    return f"{score['mean']:.3f}" + (f" ± {std:.3f}" if std is not None else "")


def init_comparison_rows(checkpoints: list[Checkpoint]) -> pd.DataFrame:
    """Before and after for every checkpoint whose card records a validation-decided choice of initialisation.

    One row per candidate (``workbench train finetune --only-if-better``): model, initialisation (``no pretraining``
    or the encoder folder), the deciding metric's validation and test mean ± std, and whether it is the one shipped.
    """
    rows = []
    for c in checkpoints:
        comparison = (c.card.training or {}).get("init_comparison")
        if not comparison:
            continue
        for i, cand in enumerate(comparison["candidates"]):
            rows.append(
                {
                    "model": c.name,
                    "initialisation": cand.get("init") or "no pretraining",
                    "metric": comparison["metric"],
                    "valid": _mean_std(cand.get("valid")),
                    "test": _mean_std(cand.get("test")),
                    "shipped": "yes" if i == comparison["kept"] else "no",
                }
            )
    return pd.DataFrame(rows, columns=["model", "initialisation", "metric", "valid", "test", "shipped"])


def _known_sha256(value: str | None) -> bool:
    return bool(value) and len(value) == 64 and all(ch in "0123456789abcdef" for ch in value.lower())


def card_facts(card: ModelCard) -> list[tuple[str, str]]:
    """The card as ``(label, plain text)`` lines: description, data, split, seeds, reference.

    What the card leaves out (molecule count, data hash, split sizes, seeds) reads
    :data:`NOT_RECORDED` rather than ``?`` or ``None``. The text is the card's own, not Markdown:
    pages escape it before rendering.
    """
    data, split = card.data, card.split
    molecules = f"{data.molecules:,} molecules" if data.molecules is not None else f"molecule count {NOT_RECORDED}"
    sha = f"sha256 {data.sha256[:12]}…" if _known_sha256(data.sha256) else f"sha256 {NOT_RECORDED}"
    sizes = (
        "sizes " + " / ".join(f"{n:,}" for n in split.sizes) if split.sizes else f"sizes {NOT_RECORDED}"
    )  # train / valid / test
    split_text = f"{split.kind}; {sizes}" + (f"; seed {split.seed}" if split.seed is not None else "")
    facts = [
        ("Description", card.description or NOT_RECORDED),
        ("Data", f"{data.dataset} ({molecules}; {sha})"),
        ("Split", split_text + (f" ({split.note})" if split.note else "")),
        ("Seeds", ", ".join(map(str, card.seeds)) if card.seeds else NOT_RECORDED),
    ]
    if data.reference:
        facts.append(("Reference", data.reference))
    return facts


def benchmark_table(path: Path = BENCH_CSV) -> pd.DataFrame | None:
    """The committed first MoleculeNet baselines (``bench/results/baselines.csv``), if present."""
    return pd.read_csv(path) if path.is_file() else None


def benchmark_figure(bench: pd.DataFrame, colours: Mapping[str, str] | None = None):  # -> altair.HConcatChart
    """Grouped bars of the benchmark's mean ± std, one chart per metric with its own axes (Vega-Lite).

    ROC-AUC (higher is better) and RMSE (lower is better) never share an axis; each chart's
    title says which direction is better and lists only its own data sets; a model has one colour in both
    (``colours``: a colour per model name, in that order in the legend; otherwise the default palette, sorted).
    Vega-Lite, not Plotly: the Model zoo's first view then does not wait for Plotly.js to compile in the browser.
    """
    import altair as alt

    plot = bench.dropna(subset=["mean"]).copy()
    plot["std"] = plot["std"].fillna(0.0) if "std" in plot.columns else 0.0
    plot["low"], plot["high"] = plot["mean"] - plot["std"], plot["mean"] + plot["std"]
    models = list(plot["model"].unique())
    if colours and set(models) <= set(colours):
        shown = [m for m in colours if m in models]
        scale = alt.Scale(domain=shown, range=[colours[m] for m in shown])
    else:
        scale = alt.Scale(domain=sorted(models))
    colour = alt.Color("model:N", scale=scale)
    colour = colour.legend(orient="bottom", title=None, columns=2, labelLimit=320)
    charts = []
    for metric in dict.fromkeys(plot["metric"]):
        part = plot[plot["metric"] == metric]
        base = alt.Chart(part).encode(x=alt.X("dataset:N", title="data set"), xOffset="model:N", color=colour)
        bars = base.mark_bar().encode(
            y=alt.Y("mean:Q", title="test metric (mean over seeds)"),
            tooltip=["dataset:N", "model:N", alt.Tooltip("mean:Q", format=".3f"), alt.Tooltip("std:Q", format=".3f")],
        )
        errors = base.mark_rule(color="black").encode(y="low:Q", y2="high:Q")
        title = METRIC_TITLES.get(metric, metric)
        charts.append(alt.layer(bars, errors).properties(title=title, width=380, height=300))
    return alt.hconcat(*charts).resolve_scale(y="independent", x="independent", color="shared")
