"""The cold-start benchmark's report: one row per page (cold, warm, budget, verdict), as Markdown and JSON.

:mod:`bench.coldstart` measures; this module writes what it measured.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["PageResult", "combine_runs", "format_report", "write_report"]


@dataclass
class PageResult:
    """One page's times (``None``: no result within the timeout) and what the page said instead."""

    page: str
    cold_s: float | None
    warm_s: float | None
    cold_budget_s: float
    warm_budget_s: float
    load_average: float | None = None
    messages: list[str] = field(default_factory=list)  # alerts and exceptions shown on the cold visit
    idle_wait_s: float | None = None  # seconds between the cold result and the server going idle
    reference: bool = False  # a reference app (bench.coldstart.REFERENCES): the floor, no budget
    cold_runs: list[float | None] = field(default_factory=list)  # every run's time when there were several
    warm_runs: list[float | None] = field(default_factory=list)
    nav_s: float | None = None  # warm, reached by the sidebar link from another page in the same tab
    nav_runs: list[float | None] = field(default_factory=list)

    @property
    def within_budget(self) -> bool:
        return _met(self.cold_s, self.cold_budget_s) == _met(self.warm_s, self.warm_budget_s) == "yes"


def _seconds(value: float | None) -> str:
    return "no result" if value is None else f"{value:.1f}"


def _median(values: Sequence[float | None]) -> float | None:
    """The median, or ``None`` when a run gave no result (a page that fails once is not within budget)."""
    if not values or any(v is None for v in values):
        return None
    return float(statistics.median(values))


def combine_runs(runs: Sequence[PageResult]) -> PageResult:
    """One row for repeated runs of a page: the median cold and warm times, each run's times kept."""
    first = runs[0]
    loads = [r.load_average for r in runs if r.load_average is not None]
    idles = [r.idle_wait_s for r in runs if r.idle_wait_s is not None]
    messages = list(dict.fromkeys(m for r in runs for m in r.messages))
    cold, warm, nav = [r.cold_s for r in runs], [r.warm_s for r in runs], [r.nav_s for r in runs]
    several = len(runs) > 1
    return PageResult(
        first.page, _median(cold), _median(warm), first.cold_budget_s, first.warm_budget_s,
        statistics.mean(loads) if loads else None, messages, statistics.median(idles) if idles else None,
        first.reference, cold if several else [], warm if several else [], _median(nav), nav if several else [],
    )  # fmt: skip


def _cell(value: float | None, runs: Sequence[float | None]) -> str:
    """A time, and with several runs their range: ``7.4 (7.1–8.9)``."""
    if len(runs) < 2 or any(v is None for v in runs):
        return _seconds(value)
    return f"{_seconds(value)} ({min(runs):.1f}–{max(runs):.1f})"


def _met(seconds: float | None, budget: float) -> str:
    return "yes" if seconds is not None and seconds <= budget else "no"


def format_report(rows: Sequence[PageResult], *, machine: str, command: str, note: str = "") -> str:
    """The Markdown report: one table row per page, then what pages said, the machine and the command."""
    lines = [
        "# Cold start: time to each page's first result",
        "",
        "Time from navigation (the page's URL opened in headless Chromium) until the page's main result is "
        "visible. *Cold*: the first visit to a freshly started server with an empty cache folder and HOME, from "
        "a browser profile that has never seen the app; *warm*: a second visit (a new tab, so a new session) "
        "from the same browser to the same server once it has gone idle (its background warm-up finished: "
        "under 5 % of a CPU for 2 s; *idle after s* is how long that took after the cold result), so the "
        "browser has Streamlit's scripts cached as a returning visitor's would; *in app*: the page reached warm "
        "by its sidebar link from another page already open in the same tab (no page load: what a visitor "
        "moving through the app, or a live demo, meets), timed from the click. With several runs per page (a fresh "
        "server each), a time is their median with the range in brackets, and the verdict is the median's. "
        "Budget: cold / warm seconds. "
        "The reference rows, Streamlit apps that show one small table, one three-point Vega-Lite chart, one "
        "three-point Plotly chart or one 3Dmol.js viewer (as the 3D conformers page draws it) and nothing else, "
        "served and timed the same way, are the floor that Streamlit, the chart or 3D library and Chromium set here.",
        "",
        "| page | cold s | warm s, new tab | warm s, in app | budget s (cold / warm) "
        "| within budget? (cold / warm new tab / warm in app) | idle after s "
        "| load average (1 min) at the cold visit |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        load = "" if r.load_average is None else f"{r.load_average:.1f}"
        idle = "" if r.idle_wait_s is None else f"{r.idle_wait_s:.1f}"
        budget = "reference" if r.reference else f"{r.cold_budget_s:g} / {r.warm_budget_s:g}"
        verdict = (
            ""
            if r.reference
            else " / ".join(
                _met(s, b)
                for s, b in ((r.cold_s, r.cold_budget_s), (r.warm_s, r.warm_budget_s), (r.nav_s, r.warm_budget_s))
            )
        )
        nav = "" if r.reference else _cell(r.nav_s, r.nav_runs)
        lines.append(
            f"| {r.page} | {_cell(r.cold_s, r.cold_runs)} | {_cell(r.warm_s, r.warm_runs)} | {nav} | {budget} "
            f"| {verdict} | {idle} | {load} |"
        )
    said = [(r.page, m) for r in rows for m in r.messages]
    if said:
        lines += ["", "What the pages showed besides their result (alerts, errors):", ""]
        lines += [f"- {page}: {message}" for page, message in said]
    if note:
        lines += ["", note]
    lines += ["", f"Machine: {machine}.", "", "Command:", "", "```", command, "```", ""]
    return "\n".join(lines)


def write_report(
    rows: Sequence[PageResult], path: Path, *, machine: str, command: str, note: str = "", json_path: Path | None = None
) -> Path:
    """Write the Markdown report (and the rows as JSON when ``json_path`` is given); returns ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_report(rows, machine=machine, command=command, note=note))
    if json_path is not None:
        payload = {
            "machine": machine,
            "command": command,
            "rows": [{**asdict(r), "within_budget": r.within_budget} for r in rows],
        }
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(payload, indent=2) + "\n")
    return path
