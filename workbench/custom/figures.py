"""Vega-Lite (Altair) figures of a custom training run's test predictions, and the curves behind them.

Each figure takes :meth:`~workbench.custom.training.CustomResult.test_table` rows of one target (``observed``,
``predicted``, and for regression ``lower`` / ``upper``, for potency data ``cliff_mol``):

* regression: a parity plot (observed vs predicted) with the conformal band ``observed ± half-width`` around the
  diagonal, each molecule's interval as a rule, cliff molecules marked;
* classification: ROC and precision–recall curves (:func:`roc_curve`, :func:`pr_curve`) and a reliability
  diagram of the calibrated probabilities (:func:`reliability_table`) with the diagonal of perfect calibration.

Vega-Lite, not Plotly (ARCHITECTURE "Charts"); Altair is imported inside the functions that build a chart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import altair as alt

__all__ = [
    "calibration_figure",
    "parity_figure",
    "pr_curve",
    "reliability_table",
    "roc_curve",
    "roc_pr_figure",
]

_SIZE = 340  # width and height of one square plot, px


def roc_curve(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """False- and true-positive rates at every threshold (``fpr``, ``tpr``), from (0, 0) to (1, 1)."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    order = np.argsort(-p, kind="stable")
    y, p = y[order], p[order]
    last = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]  # the last row of each tied score
    tp, fp = np.cumsum(y)[last], np.cumsum(1 - y)[last]
    pos, neg = max(y.sum(), 1.0), max(len(y) - y.sum(), 1.0)
    return pd.DataFrame({"fpr": np.r_[0.0, fp / neg], "tpr": np.r_[0.0, tp / pos]})


def pr_curve(y: np.ndarray, p: np.ndarray) -> pd.DataFrame:
    """Recall and precision at every threshold (``recall``, ``precision``), highest threshold first."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    order = np.argsort(-p, kind="stable")
    y, p = y[order], p[order]
    last = np.r_[np.flatnonzero(np.diff(p)), len(p) - 1]
    tp, predicted = np.cumsum(y)[last], last + 1.0
    recall = tp / max(y.sum(), 1.0)
    precision = tp / predicted
    return pd.DataFrame(
        {"recall": np.r_[0.0, recall], "precision": np.r_[precision[0] if len(precision) else 1.0, precision]}
    )


def reliability_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Per probability bin with molecules: mean predicted probability, observed fraction of 1s, count."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    which = np.clip((p * bins).astype(int), 0, bins - 1)
    rows = []
    for b in range(bins):
        inside = which == b
        if inside.any():
            rows.append(
                {
                    "bin": f"{b / bins:.1f}–{(b + 1) / bins:.1f}",
                    "predicted": float(p[inside].mean()),
                    "observed": float(y[inside].mean()),
                    "molecules": int(inside.sum()),
                }
            )
    return pd.DataFrame(rows, columns=["bin", "predicted", "observed", "molecules"])


def parity_figure(table: pd.DataFrame, halfwidth: float | None, units: str = "") -> alt.LayerChart:
    """Observed vs predicted test molecules, the diagonal and the conformal band around it."""
    import altair as alt

    data = table[["smiles", "observed", "predicted"]].copy()
    data["lower"] = table["lower"] if "lower" in table else data["predicted"]
    data["upper"] = table["upper"] if "upper" in table else data["predicted"]
    data["kind"] = np.where(table.get("cliff_mol", False), "cliff molecule", "other molecule")
    values = np.r_[data["observed"], data["lower"], data["upper"]]
    pad = 0.05 * (values.max() - values.min() or 1.0)
    lo, hi = float(values.min() - pad), float(values.max() + pad)
    scale = alt.Scale(domain=[lo, hi], nice=False, zero=False)
    suffix = f" ({units})" if units else ""
    band_data = pd.DataFrame({"x": [lo, hi]})
    band_data["low"], band_data["high"] = band_data["x"] - (halfwidth or 0.0), band_data["x"] + (halfwidth or 0.0)
    band = (
        alt.Chart(band_data)
        .mark_area(opacity=0.15, color="#1f77b4", clip=True)
        .encode(x=alt.X("x:Q", scale=scale), y=alt.Y("low:Q", scale=scale), y2="high:Q")
    )
    diagonal = alt.Chart(band_data).mark_line(color="#666", strokeDash=[4, 3]).encode(x="x:Q", y="x:Q")
    base = alt.Chart(data).encode(
        x=alt.X("observed:Q", title=f"observed{suffix}", scale=scale),
        tooltip=[
            alt.Tooltip("smiles:N"),
            alt.Tooltip("observed:Q", format=".2f"),
            alt.Tooltip("predicted:Q", format=".2f"),
            alt.Tooltip("lower:Q", title="interval from", format=".2f"),
            alt.Tooltip("upper:Q", title="interval to", format=".2f"),
        ],
    )
    rules = base.mark_rule(opacity=0.35).encode(y=alt.Y("lower:Q", scale=scale), y2="upper:Q")
    kinds = ["other molecule", "cliff molecule"]
    points = base.mark_point(filled=True, size=50).encode(
        y=alt.Y("predicted:Q", title=f"predicted{suffix}", scale=scale),
        color=alt.Color(
            "kind:N",
            scale=alt.Scale(domain=kinds, range=["#1f77b4", "#d62728"]),
            legend=alt.Legend(title=None, orient="top") if data["kind"].nunique() > 1 else None,
        ),
    )
    title = "Test molecules; band = conformal interval" + (f" (± {halfwidth:.2f})" if halfwidth else "")
    return alt.layer(band, diagonal, rules, points).properties(width=_SIZE + 80, height=_SIZE + 40, title=title)


def _square(chart: alt.Chart, title: str) -> alt.Chart:
    return chart.properties(width=_SIZE, height=_SIZE, title=title)


def roc_pr_figure(table: pd.DataFrame) -> alt.HConcatChart:
    """ROC and precision–recall curves of the test molecules, side by side, with their chance lines."""
    import altair as alt

    y, p = table["observed"].to_numpy(), table["predicted"].to_numpy()
    unit = alt.Scale(domain=[0, 1])
    roc = roc_curve(y, p).reset_index(names="step")  # drawn in threshold order, not sorted by x
    diagonal = pd.DataFrame({"a": [0.0, 1.0]})
    chance = alt.Chart(diagonal).mark_line(color="#999", strokeDash=[4, 3]).encode(x="a:Q", y="a:Q")
    roc_line = (
        alt.Chart(roc)
        .mark_line()
        .encode(
            x=alt.X("fpr:Q", title="false-positive rate", scale=unit),
            y=alt.Y("tpr:Q", title="true-positive rate", scale=unit),
            order="step:Q",
        )
    )
    pr = pr_curve(y, p).reset_index(names="step")
    base_rate = pd.DataFrame({"rate": [float(np.mean(y)) if len(y) else 0.0]})
    pr_chance = alt.Chart(base_rate).mark_rule(color="#999", strokeDash=[4, 3]).encode(y="rate:Q")
    pr_line = (
        alt.Chart(pr)
        .mark_line()
        .encode(
            x=alt.X("recall:Q", title="recall", scale=unit),
            y=alt.Y("precision:Q", title="precision", scale=unit),
            order="step:Q",
        )
    )
    return alt.hconcat(
        _square(alt.layer(chance, roc_line), "ROC curve (dashed: chance)"),
        _square(alt.layer(pr_chance, pr_line), "Precision–recall (dashed: share of 1s)"),
    )


def calibration_figure(table: pd.DataFrame, bins: int = 10) -> alt.LayerChart:
    """Reliability diagram: observed fraction of 1s against the mean calibrated probability, per bin."""
    import altair as alt

    data = reliability_table(table["observed"].to_numpy(), table["predicted"].to_numpy(), bins)
    unit = alt.Scale(domain=[0, 1])
    diagonal = pd.DataFrame({"a": [0.0, 1.0]})
    perfect = alt.Chart(diagonal).mark_line(color="#999", strokeDash=[4, 3]).encode(x="a:Q", y="a:Q")
    curve = (
        alt.Chart(data)
        .mark_line(point=True)
        .encode(
            x=alt.X("predicted:Q", title="mean predicted probability", scale=unit),
            y=alt.Y("observed:Q", title="observed fraction of 1s", scale=unit),
            tooltip=[
                "bin:N",
                alt.Tooltip("predicted:Q", format=".2f"),
                alt.Tooltip("observed:Q", format=".2f"),
                "molecules:Q",
            ],
        )
    )
    sizes = curve.mark_point(filled=True, opacity=0.4).encode(size=alt.Size("molecules:Q", legend=None))
    return _square(alt.layer(perfect, curve, sizes), f"Calibration on the test molecules ({bins} bins)")
