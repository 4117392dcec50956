"""The curated prediction panel: one row per chemist's question, answered by the recommended model.

The recommended model of an endpoint (its *champion*) is, among the selected models able to answer, the one
with the best test metric on its card (``published:TASK`` for imported checkpoints, ``test`` otherwise). The
test sets differ between data sets, so the comparison is a guide, and the reason says which numbers were
compared. Endpoints and thresholds are in :mod:`workbench.predict.endpoints`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from workbench import chem
from workbench.models.card import ModelCard
from workbench.predict.applicability import AD_THRESHOLD
from workbench.predict.endpoints import DRUGLIKENESS, ENDPOINTS, LEVEL_ICONS, Endpoint, Level, verdict
from workbench.predict.percentiles import percentile
from workbench.predict.table import domain_columns

__all__ = [
    "MAX_RADAR_AXES",
    "PANEL_COLUMNS",
    "Champion",
    "TaskMetric",
    "champion",
    "display_panel",
    "domain_text",
    "panel",
    "radar_axes",
    "task_metrics",
]

MAX_RADAR_AXES = 8
PANEL_COLUMNS = [
    "endpoint",
    "value",
    "std",
    "units",
    "level",
    "verdict",
    "percentile",
    "domain",
    "model",
    "column",
    "why",
    "rule",
    "source",
    "axis",
    "orientation",
    "uncertainty",
]

#: Card metrics compared, in order of preference: (name, +1 higher is better / -1 lower is better, label).
CLASSIFICATION_METRICS = (("roc_auc", 1, "ROC-AUC"), ("prc_auc", 1, "PRC-AUC"))
REGRESSION_METRICS = (("mae", -1, "MAE"), ("rmse", -1, "RMSE"), ("r2", 1, "R²"))


@dataclass(frozen=True)
class TaskMetric:
    """One test metric of one model task, read from its card."""

    name: str
    label: str
    value: float
    sign: int
    #: ``published`` (the authors' figure for an imported checkpoint) or ``test`` (the card's held-out split)
    part: str
    #: tasks the number is averaged over (a multi-task model's ``test`` block is a mean over its tasks)
    over_tasks: int = 1

    def text(self) -> str:
        where = "published test" if self.part == "published" else "test"
        mean = f", mean over its {self.over_tasks} tasks" if self.over_tasks > 1 else ""
        return f"{where} {self.label} {self.value:.3f}{mean}"


@dataclass(frozen=True)
class Champion:
    """The recommended model task of an endpoint, and why."""

    model: str
    task: str
    metric: TaskMetric | None
    reason: str

    @property
    def column(self) -> str:
        return f"{self.model}:{self.task}"


def task_metrics(card: ModelCard, task: str) -> dict[str, TaskMetric]:
    """Every known test metric of one task: from ``published:TASK``, else ``test:TASK``, else ``test``."""
    spec = next((t for t in card.tasks if t.name == task), None)
    if spec is None:
        return {}
    known = CLASSIFICATION_METRICS if spec.is_classification else REGRESSION_METRICS
    for part in (f"published:{task}", f"test:{task}", "test"):
        block = card.metric_block(part)
        found = {
            name: TaskMetric(
                name,
                label,
                float(block[name].mean),
                sign,
                "published" if part.startswith("published") else "test",
                len(card.tasks) if part == "test" else 1,
            )
            for name, sign, label in known
            if name in block and isinstance(block[name].mean, int | float) and math.isfinite(block[name].mean)
        }
        if found:
            return found
    return {}


def champion(endpoint: Endpoint, cards: Mapping[str, ModelCard]) -> Champion | None:
    """The selected model task with the best card metric for an endpoint; ``None`` when no selected model answers.

    Metrics are compared by name in order of preference (ROC-AUC, PRC-AUC; MAE, RMSE, R²): the first one any
    candidate reports decides; candidates without it come after, in the endpoint's order.
    """
    candidates = [(m, t) for m, t in endpoint.candidates if m in cards and t in cards[m].task_names]
    if not candidates:
        return None
    metrics = {c: task_metrics(cards[c[0]], c[1]) for c in candidates}
    names = [n for n, _, _ in CLASSIFICATION_METRICS + REGRESSION_METRICS]
    decisive = next((n for n in names if any(n in metrics[c] for c in candidates)), None)
    if decisive is None:
        model, task = candidates[0]
        return Champion(model, task, None, "the first listed model for this endpoint; its card reports no test metric")
    scored = sorted(
        (c for c in candidates if decisive in metrics[c]),
        key=lambda c: -metrics[c][decisive].sign * metrics[c][decisive].value,
    )
    best = scored[0]
    metric = metrics[best][decisive]
    if len(candidates) == 1:
        reason = f"the only selected model for this endpoint ({metric.text()}, from its card)"
    else:
        others = ", ".join(f"{m} {metrics[(m, t)][decisive].value:.3f}" for m, t in scored[1:])
        unscored = [m for m, t in candidates if decisive not in metrics[(m, t)]]
        reason = f"best {metric.label} among the selected models: {metric.text()} (from its card)"
        reason += f"; others: {others}" if others else ""
        reason += f"; no {metric.label} on the card of {', '.join(unscored)}" if unscored else ""
        reason += "; the test sets differ between data sets, so this is a guide"
    return Champion(best[0], best[1], metric, reason)


def domain_text(row: pd.Series, model: str) -> str:
    """``in domain (0.62)``, ``outside the domain (0.21)`` or ``not available`` for one model's row."""
    score_col, _ = domain_columns(model)
    score = row.get(score_col, np.nan)
    try:
        score = float(score)
    except (TypeError, ValueError):
        score = float("nan")
    if not math.isfinite(score):
        return "not available (no training set stored)"
    return f"{'in domain' if score >= AD_THRESHOLD else 'outside the domain'} ({score:.2f})"


def _verdict_text(level: Level, text: str) -> str:
    return f"{LEVEL_ICONS[level]} {text}"


def _druglikeness_rows(smiles: str) -> list[dict[str, object]]:
    parsed = chem.parse_one(smiles)
    if not parsed.ok:
        return []
    d = chem.describe(parsed.mol)
    violations = int(d["lipinski_violations"])
    veber_ok = d["rotatable_bonds"] <= 10 and d["TPSA"] <= 140
    checks = [
        (violations, "violations", "good" if violations <= 1 else "bad", f"{violations} of 4 limits exceeded"),
        (
            float(d["rotatable_bonds"]),
            f"rotatable bonds (TPSA {d['TPSA']:.0f} Å²)",
            "good" if veber_ok else "caution",
            "passes" if veber_ok else "fails",
        ),
    ]
    return [
        {
            "endpoint": name,
            "value": float(value),
            "std": float("nan"),
            "units": units,
            "level": level,
            "verdict": _verdict_text(level, text),  # type: ignore[arg-type]
            "percentile": float("nan"),
            "domain": "",
            "model": "(rule, from the structure)",
            "column": "",
            "why": "a rule computed from the structure, not a model",
            "rule": rule,
            "source": source,
            "axis": "",
            "orientation": 0,
        }
        for (name, rule, source), (value, units, level, text) in zip(DRUGLIKENESS, checks, strict=True)
    ]


def panel(
    row: pd.Series,
    cards: Mapping[str, ModelCard],
    references: Mapping[str, pd.DataFrame] | None = None,
    *,
    smiles: str | None = None,
    endpoints: Sequence[Endpoint] = ENDPOINTS,
) -> pd.DataFrame:
    """The curated panel of one prediction row (columns :data:`PANEL_COLUMNS`).

    Args:
        row: one row of :func:`~workbench.predict.table.prediction_table` (``MODEL:TASK``, ``:std``, ``:AD``).
        cards: the card of every model in the row.
        references: model name -> its approved-drug predictions (``MODEL:TASK`` columns), for percentiles.
        smiles: the standardized molecule, for the rule-based drug-likeness rows (left out when ``None``).
        endpoints: the endpoints to answer; those no selected model answers are left out.
    """
    rows: list[dict[str, object]] = []
    for endpoint in endpoints:
        best = champion(endpoint, cards)
        if best is None or best.column not in row.index:
            continue
        value = float(row[best.column])
        std = float(row.get(f"{best.column}:std", np.nan))
        level, text = verdict(endpoint.rule, value)
        reference = (references or {}).get(best.model)
        pct = (
            percentile(value, reference[best.column].to_numpy())
            if reference is not None and best.column in reference.columns
            else float("nan")
        )
        rows.append(
            {
                "endpoint": endpoint.name,
                "value": value,
                "std": std,
                "units": endpoint.units,
                "level": level,
                "verdict": _verdict_text(level, text),
                "percentile": pct,
                "domain": domain_text(row, best.model),
                "model": best.model,
                "column": best.column,
                "why": best.reason,
                "rule": endpoint.rule.text,
                "source": endpoint.rule.source,
                "axis": endpoint.axis,
                "orientation": endpoint.orientation,
                "uncertainty": uncertainty_text(row, cards[best.model], best.column),
            }
        )
    if smiles:
        rows += _druglikeness_rows(smiles)
    return pd.DataFrame(rows, columns=PANEL_COLUMNS)


def uncertainty_text(row: pd.Series, card: ModelCard, column: str) -> str:
    """How far to trust one prediction: its 90 % interval (regression), or its calibration on test (probability)."""
    task = column.split(":", 1)[1]
    entry = next((e for e in (card.calibration or {}).get("tasks", []) if e.get("task") == task), None)
    test = (entry or {}).get("test", {})
    lo, hi = row.get(f"{column}:lo", np.nan), row.get(f"{column}:hi", np.nan)
    if math.isfinite(float(lo)) and math.isfinite(float(hi)):
        coverage = test.get("coverage")
        measured = f" (covered {coverage:.0%} of test molecules)" if coverage is not None else ""
        return f"90 % interval {float(lo):.2f} to {float(hi):.2f}{measured}"
    task_type = next((t.type for t in card.tasks if t.name == task), "")
    if task_type != "classification":
        return ""
    before, after = test.get("ece_before"), test.get("ece_after")
    if entry is None or before is None:
        return "not recalibrated"
    if entry.get("method") in ("platt", "isotonic"):
        return f"calibrated ({entry['method']}): test ECE {before:.2f} → {after:.2f}"
    return f"kept as trained (calibration did not help on validation): test ECE {before:.2f}"


def radar_axes(table: pd.DataFrame, max_axes: int = MAX_RADAR_AXES) -> pd.DataFrame:
    """Columns ``axis`` and ``score``: at most ``max_axes`` panel rows with a radar axis and a percentile.

    ``score`` is oriented so that outward is favourable: the percentile, or 100 − percentile for risks.
    """
    on_radar = table[(table["orientation"] != 0) & np.isfinite(table["percentile"].astype(float))].head(max_axes)
    score = np.where(on_radar["orientation"] > 0, on_radar["percentile"], 100.0 - on_radar["percentile"])
    return pd.DataFrame({"axis": on_radar["axis"].tolist(), "score": score.astype(float).tolist()})


def _value_text(value: float, std: float, units: str) -> str:
    if not math.isfinite(value):
        return "no prediction"
    if not math.isfinite(std) and value.is_integer():  # counts from a rule
        return f"{value:.0f} {units}"
    spread = f" ± {std:.2f}" if math.isfinite(std) and std > 0 else ""
    suffix = "" if units in ("", "probability") else f" {units}"
    return f"{value:.2f}{spread}{suffix}"


def display_panel(table: pd.DataFrame) -> pd.DataFrame:
    """The panel as shown: ``Endpoint``, ``Prediction`` (value ± ensemble std, units), ``Verdict``,
    ``Approved-drug percentile``, ``Applicability domain``, ``Uncertainty`` and ``Recommended model``."""
    return pd.DataFrame(
        {
            "Endpoint": table["endpoint"],
            "Prediction": [
                _value_text(float(v), float(s), str(u))
                for v, s, u in zip(table["value"], table["std"], table["units"], strict=True)
            ],
            "Verdict": table["verdict"],
            "Approved-drug percentile": table["percentile"].astype(float),
            "Applicability domain": table["domain"],
            "Uncertainty": table["uncertainty"],
            "Recommended model": table["model"],
        }
    )
