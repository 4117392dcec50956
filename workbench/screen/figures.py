"""Histograms of a screen's scores: the whole library and its hits in the same bins (Vega-Lite, through Altair).

:func:`score_histograms` bins each column of a screen's full output (NaN, i.e. error rows, left out) and counts
the hits in the same bins; :func:`histogram_figure` draws one column. Counts, not rows, go to the browser: a chart
of 200,000 molecules is as small as one of 20.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import altair as alt

__all__ = ["HISTOGRAM_BINS", "LIBRARY_SET", "histogram_columns", "histogram_figure", "score_histograms"]

HISTOGRAM_BINS = 30
LIBRARY_SET, HITS_SET = "library", "hits"
_INTERVAL_SUFFIXES = (":std", ":lo", ":hi")


def histogram_columns(columns: Sequence[str], numeric: Sequence[str], first: Sequence[str] = ()) -> list[str]:
    """The columns worth a histogram: ``first`` (the ranking and filter columns), then every other numeric column
    that is not a spread or an interval bound (``MODEL:TASK:std``, ``:lo``, ``:hi``), in output order."""
    numeric_set = set(numeric)
    wanted = [c for c in columns if c in numeric_set and c != "row" and not c.endswith(_INTERVAL_SUFFIXES)]
    head = [c for c in dict.fromkeys(first) if c in numeric_set and c != "row"]
    return head + [c for c in wanted if c not in head]


def score_histograms(
    library: pd.DataFrame, hits: pd.DataFrame, columns: Sequence[str], bins: int = HISTOGRAM_BINS
) -> pd.DataFrame:
    """Per column, ``bins`` equal bins over the library's finite values; the library's and the hits' counts.

    Returns:
        Rows ``column``, ``set`` (``library`` | ``hits``), ``start``, ``end``, ``count``; a column without a finite
        value has no rows.
    """
    rows = []
    for column in columns:
        values = pd.to_numeric(library[column], errors="coerce").to_numpy(dtype=np.float64)
        values = values[np.isfinite(values)]
        if not values.size:
            continue
        low, high = float(values.min()), float(values.max())
        if high <= low:  # one value: one bin around it
            low, high = low - 0.5, high + 0.5
        edges = np.linspace(low, high, bins + 1)
        chosen = pd.to_numeric(hits[column], errors="coerce").to_numpy(dtype=np.float64) if column in hits else []
        chosen = np.asarray(chosen)[np.isfinite(chosen)]
        for name, data in ((LIBRARY_SET, values), (HITS_SET, chosen)):
            counts, _ = np.histogram(data, bins=edges)
            rows += [
                {"column": column, "set": name, "start": edges[i], "end": edges[i + 1], "count": int(counts[i])}
                for i in range(bins)
            ]
    return pd.DataFrame(rows, columns=["column", "set", "start", "end", "count"])


def histogram_figure(histograms: pd.DataFrame, column: str, *, show_hits: bool = True) -> alt.LayerChart:
    """One column's histogram: the library's bars, the hits' bars over them (when they are not the whole library)."""
    import altair as alt

    data = histograms[histograms["column"] == column]
    x = alt.X("start:Q", bin="binned", title=column)
    tooltip = [
        alt.Tooltip("set:N", title=""),
        alt.Tooltip("start:Q", title="from", format=".3g"),
        alt.Tooltip("end:Q", title="to", format=".3g"),
        alt.Tooltip("count:Q", title="molecules", format=","),
    ]
    color = alt.Color(
        "set:N",
        scale=alt.Scale(domain=[LIBRARY_SET, HITS_SET], range=["#b0b7c3", "#e4572e"]),
        legend=alt.Legend(title=None, orient="top"),
    )
    base = alt.Chart(data).encode(x=x, x2="end:Q", y=alt.Y("count:Q", title="molecules"), color=color, tooltip=tooltip)
    library = base.transform_filter(alt.datum.set == LIBRARY_SET).mark_bar()
    layers = [library]
    if show_hits:
        layers.append(base.transform_filter(alt.datum.set == HITS_SET).mark_bar(opacity=0.85))
    return alt.layer(*layers).properties(height=180)
