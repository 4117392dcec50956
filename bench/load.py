"""The app under load: N concurrent single-molecule sessions, and the server's memory during a refused upload.

**Sessions.** A fresh ``streamlit run app.py`` (:func:`bench.coldstart.serve_app`: free loopback port, empty
HOME and ``WORKBENCH_CACHE_DIR``) is warmed by one Property prediction session; then N sessions open at
once in headless Chromium (one browser, one context each), each on ``/property-prediction?smiles=...``
with its own molecule (HIV molecules that parse, never one used before on that server, so no cache hides
the work), and each is timed from navigation until its main result (:data:`bench.coldstart.PAGES`: the
"This molecule" heading) is visible. The server's RSS is sampled every 0.2 s, and the CPU seconds used
during the run are split between the server (its event-loop thread vs its other threads: the page
scripts), the browser (Chromium + Playwright's driver) and everything else on the machine. A subprocess
then times the model compute alone (``prediction_table`` of one molecule with every default model, warm,
one thread as in the server) for the same molecules.

**Uploads.** In the same kind of server, a CSV of 331,000 SMILES rows (about 20 MB) is uploaded through
the browser's file input on Text retrieval (library upload) and Activity cliffs; the benchmark waits for
the refusal sentence and samples the server's RSS every 0.2 s from before the upload to 10 s after it.

    python -m bench.load                      # or: workbench bench load
    python -m bench.load --sessions 10 20 --parts sessions uploads

Splices its two sections into ``bench/results/throughput.md`` (other sections kept), or writes ``--out``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

from bench.coldstart import CHROMIUM, CHROMIUM_ARGS, PAGES, serve_app, server_process, wait_for_result
from bench.machine import describe_machine, load_average
from bench.throughput import RESULTS
from bench.throughput import _splice as splice  # the same splicing as `bench.throughput --only cli`

__all__ = [
    "LOAD_HEADING",
    "SESSION_BUDGET_S",
    "UPLOAD_BUDGET_GB",
    "UPLOAD_HEADING",
    "CpuShare",
    "SessionRun",
    "UploadRun",
    "big_csv",
    "format_sessions_section",
    "format_uploads_section",
    "main",
    "summarize",
    "why_missed",
]

ROOT = Path(__file__).resolve().parents[1]
LOAD_HEADING = "## App under load: concurrent single-molecule sessions"
UPLOAD_HEADING = "## App memory: a 331,000-row upload refused"
#: Issue 12: 20 concurrent single-molecule sessions all answered within 20 s; the server under 3 GB while
#: a 331,000-row upload is refused.
SESSION_BUDGET_S, UPLOAD_BUDGET_GB = 20.0, 3.0
PREDICT = next(spec for spec in PAGES if spec.url_path == "property-prediction")
SAMPLE_EVERY_S = 0.2
UPLOAD_ROWS = 331_000
#: (page name, URL path, the radio option that shows the upload)
UPLOAD_PAGES = (
    ("Text retrieval", "text-retrieval", "Upload a file"),
    ("Activity cliffs", "activity-cliffs", "Upload a CSV"),
)
REFUSAL = "rows, more than"  # in every row-limit sentence (workbench.app.upload)


# ---------------------------------------------------------------- pure helpers (tested in tests/test_bench_load.py)


def summarize(seconds: Sequence[float | None]) -> dict[str, float | int | None]:
    """``n``, ``answered`` and min / median / max of the answered sessions' seconds (``None`` = no answer)."""
    done = sorted(s for s in seconds if s is not None)
    return {
        "n": len(seconds),
        "answered": len(done),
        "min": done[0] if done else None,
        "median": statistics.median(done) if done else None,
        "max": done[-1] if done else None,
    }


def _s(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _gb(rss_bytes: float | None) -> str:
    return "—" if rss_bytes is None else f"{rss_bytes / 1e9:.2f}"


@dataclass
class CpuShare:
    """CPU seconds used during a run, by whom (``other``: the rest of the machine, from /proc/stat)."""

    wall_s: float
    server_main_s: float  # the server's main thread: its asyncio event loop (websockets, message queues)
    server_other_s: float  # every other server thread: page scripts (model compute included), warm-up
    browser_s: float  # the client: Chromium's processes and Playwright's driver, or the protocol client
    other_s: float

    def percent(self, value: float) -> str:
        total = self.server_main_s + self.server_other_s + self.browser_s + self.other_s
        return f"{value:.0f} s ({100 * value / total:.0f} %)" if total > 0 else f"{value:.0f} s"


@dataclass
class SessionRun:
    """One run of N concurrent sessions."""

    n: int
    client: str  # "browser" (headless Chromium) or "protocol" (Streamlit's websocket protocol, no browser)
    seconds: list[float | None]
    spread_s: float  # from the first navigation's start to the last one's
    rss_before: float  # server RSS in bytes, just before the sessions opened
    rss_peak: float
    cpu: CpuShare | None = None
    load_average: float | None = None
    messages: list[str] = field(default_factory=list)

    @property
    def within_budget(self) -> bool:
        return all(s is not None and s <= SESSION_BUDGET_S for s in self.seconds)


@dataclass
class UploadRun:
    """One refused upload: the sentence shown and the server's RSS (bytes) before / peak / 10 s after."""

    page: str
    rows: int
    size_bytes: int
    sentence: str | None
    seconds: float | None  # from the file set on the input until the sentence is visible
    rss_before: float
    rss_peak: float
    rss_after: float

    @property
    def within_budget(self) -> bool:
        return self.sentence is not None and self.rss_peak < UPLOAD_BUDGET_GB * 1e9


def format_sessions_section(
    runs: Sequence[SessionRun],
    *,
    command: str,
    machine: str,
    compute: dict | None = None,
    warm_s: float | None = None,
    note: str = "",
    cpus: int | None = None,
) -> list[str]:
    """The Markdown section of the concurrent-sessions runs (a list of lines, heading first)."""
    lines = [
        LOAD_HEADING,
        "",
        f"`{command}` on {machine}.",
        "",
        "A fresh app server (`bench.coldstart.serve_app`: `streamlit run app.py`, empty cache folder), warmed by "
        "one Property prediction session"
        + (f" ({warm_s:.1f} s)" if warm_s is not None else "")
        + "; then N sessions opened at once on `/property-prediction?smiles=…`, a different molecule per session "
        "(never one seen before by that server), every default model selected. *browser*: one headless Chromium "
        "on the same machine, a browser context per session; seconds from navigation until the session's result "
        "(the *This molecule* heading) is visible, polling resolution about 0.5 s. *protocol*: no browser; each "
        "session speaks Streamlit's websocket protocol (the request a browser sends) and is timed until the "
        "server has sent that heading: the server's own answer time, without the browser's CPU on the same two "
        f"cores. Budget: every session within {SESSION_BUDGET_S:g} s.",
        "",
        "| sessions | client | answered | min s | median s | max s | start spread s | within budget? | server RSS "
        "GB (before / peak) | load average (1 min) |",
        "|---:|---|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in runs:
        s = summarize(r.seconds)
        load = "" if r.load_average is None else f"{r.load_average:.1f}"
        lines.append(
            f"| {r.n} | {r.client} | {s['answered']} of {s['n']} | {_s(s['min'])} | {_s(s['median'])} | "
            f"{_s(s['max'])} | {r.spread_s:.1f} | {'yes' if r.within_budget else 'no'} | "
            f"{_gb(r.rss_before)} / {_gb(r.rss_peak)} | {load} |"
        )
    cpu_rows = [r for r in runs if r.cpu is not None]
    if cpu_rows:
        lines += [
            "",
            "Where the CPU went while the sessions ran (CPU seconds from /proc, share of all CPU used; *wall s* runs "
            "from creating the first browser context or connection to the last result, so it includes setting up "
            "the browser contexts):",
            "",
            "| sessions | client | wall s | server: main thread | server: other threads (page scripts) | client "
            "(Chromium + driver, or the protocol client) | client CPU s per session | rest of the machine |",
            "|---:|---|---:|---|---|---|---:|---|",
        ]
        for r in cpu_rows:
            c = r.cpu
            lines.append(
                f"| {r.n} | {r.client} | {c.wall_s:.1f} | {c.percent(c.server_main_s)} | "
                f"{c.percent(c.server_other_s)} | {c.percent(c.browser_s)} | {c.browser_s / r.n:.1f} | "
                f"{c.percent(c.other_s)} |"
            )
    if compute:
        per, cpu = compute["per_molecule_s"], compute["cpu_s"]
        domain = statistics.median(cpu) - statistics.median(compute["cpu_no_domain_s"])
        lines += [
            "",
            f"Model compute alone (a subprocess, one thread, every default model loaded once in "
            f"{compute['load_s']:.1f} s): `prediction_table([smiles], models)` of one molecule, "
            f"{len(compute['models'])} models, over {len(per)} of the session molecules: CPU median "
            f"{statistics.median(cpu):.2f} s per molecule (of which the applicability domain {domain:.2f} s), wall "
            f"median {statistics.median(per):.2f} s, max {max(per):.2f} s.",
        ]
    per_session = [
        f"{r.n} at once {(r.cpu.server_main_s + r.cpu.server_other_s) / r.n:.2f} s"
        for r in runs
        if r.client == "protocol" and r.cpu is not None
    ]
    if per_session:
        lines += [
            "",
            f"Server CPU per session in the protocol runs (page script, models, messages): {', '.join(per_session)}.",
        ]
    lines += why_missed(runs, cpus or os.cpu_count() or 1)
    said = sorted({m for r in runs for m in r.messages})
    if said:
        lines += ["", "What the sessions showed besides their result:", "", *[f"- {m}" for m in said]]
    if note:
        lines += ["", note]
    return [*lines, ""]


def why_missed(runs: Sequence[SessionRun], cpus: int) -> list[str]:
    """For each browser run over budget: what the browser and the server cost in CPU, and the server alone."""
    alone = {r.n: r for r in runs if r.client == "protocol"}
    lines = []
    for r in runs:
        if r.client != "browser" or r.within_budget or r.cpu is None:
            continue
        server = r.cpu.server_main_s + r.cpu.server_other_s
        text = (
            f"Why {r.n} browser sessions miss: Chromium on the same {cpus} CPUs used {r.cpu.browser_s:.0f} CPU s "
            f"({r.cpu.browser_s / r.n:.1f} s a session: Streamlit's front end building and drawing the page), so "
            f"even alone on the machine it needs at least {r.cpu.browser_s / cpus:.0f} s of wall time for them, "
            f"against a budget of {SESSION_BUDGET_S:g} s; the server used {server:.0f} CPU s "
            f"({server / r.n:.2f} s a session)"
        )
        other = alone.get(r.n)
        if other is not None and summarize(other.seconds)["max"] is not None:
            s = summarize(other.seconds)
            verdict = "within" if other.within_budget else "over"
            text += (
                f". Without a browser on the machine, the server answered {s['answered']} of {s['n']} sessions in "
                f"at most {s['max']:.1f} s ({verdict} budget)"
            )
        lines += ["", text + "."]
    return lines


def format_uploads_section(runs: Sequence[UploadRun], *, command: str, machine: str, note: str = "") -> list[str]:
    """The Markdown section of the refused-upload runs (a list of lines, heading first)."""
    lines = [
        UPLOAD_HEADING,
        "",
        f"`{command}` on {machine}.",
        "",
        "A fresh server per page (`bench.coldstart.serve_app`); once the page is open and the server's memory "
        "has settled (its background warm-up loads every default model), the CSV is chosen in the page's file "
        "input in headless Chromium; the server's RSS (psutil, every "
        f"{SAMPLE_EVERY_S:g} s, the server process and its children) is sampled from a second before the upload "
        "until 10 s after the refusal was shown. *Refused after*: seconds from choosing the file (its transfer "
        f"included) until the sentence is visible. Budget: peak under {UPLOAD_BUDGET_GB:g} GB.",
        "",
        "| page | rows | file MB | refused after s | server RSS GB (before / peak / 10 s after) | within budget? |",
        "|---|---:|---:|---:|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r.page} | {r.rows:,} | {r.size_bytes / 1e6:.1f} | {_s(r.seconds)} | {_gb(r.rss_before)} / "
            f"{_gb(r.rss_peak)} / {_gb(r.rss_after)} | {'yes' if r.within_budget else 'no'} |"
        )
    lines += ["", "The sentence each page showed:", ""]
    lines += [f"- {r.page}: {r.sentence or '(none within the timeout)'}" for r in runs]
    if note:
        lines += ["", note]
    return [*lines, ""]


def big_csv(smiles: Sequence[str], rows: int) -> bytes:
    """``id,smiles`` with ``rows`` rows, cycling through ``smiles``."""
    body = "".join(f"{i},{smiles[i % len(smiles)]}\n" for i in range(rows))
    return ("id,smiles\n" + body).encode()


# ---------------------------------------------------------------- measuring


def _molecules(count: int, skip: int = 0) -> list[str]:
    """``count`` distinct HIV molecules that parse (10-40 heavy atoms), after the first ``skip`` such."""
    from workbench.chem import parse_one
    from workbench.data import load_moleculenet

    chosen: list[str] = []
    seen: set[str] = set()
    for smiles in load_moleculenet("hiv").smiles:
        parsed = parse_one(smiles)
        if not parsed.ok or parsed.smiles in seen or not 10 <= parsed.mol.GetNumHeavyAtoms() <= 40:
            continue
        seen.add(parsed.smiles)
        chosen.append(smiles)
        if len(chosen) == skip + count:
            return chosen[skip:]
    raise RuntimeError(f"fewer than {skip + count} usable HIV molecules")


def _server(url: str):
    """The Streamlit server process serving ``url``; raises when there is none."""
    server = server_process(url)
    if server is None:
        raise RuntimeError(f"no server process for {url}")
    return server


def _tree(process) -> list:
    import psutil

    try:
        return [process, *process.children(recursive=True)]
    except psutil.Error:
        return []


def _rss(process) -> float:
    import psutil

    total = 0.0
    for p in _tree(process):
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


class RssSampler:
    """Samples the RSS of a process tree every ``every_s`` in a thread; ``peak`` and ``last`` in bytes."""

    def __init__(self, process, every_s: float = SAMPLE_EVERY_S) -> None:
        self.process, self.every_s = process, every_s
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.perf_counter(), _rss(self.process)))
            self._stop.wait(self.every_s)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.perf_counter(), _rss(self.process)))

    @property
    def peak(self) -> float:
        return max(rss for _, rss in self.samples)


def settle(process, quiet_s: float = 5.0, tolerance: float = 20e6, cap_s: float = 180.0) -> float:
    """Wait until the tree's RSS moved less than ``tolerance`` bytes for ``quiet_s`` (the background warm-up
    done), at most ``cap_s``; returns the seconds waited."""
    start = time.perf_counter()
    window: list[float] = []
    while time.perf_counter() - start < cap_s:
        window = [*window, _rss(process)][-int(quiet_s / SAMPLE_EVERY_S) :]
        if len(window) * SAMPLE_EVERY_S >= quiet_s and max(window) - min(window) < tolerance:
            break
        time.sleep(SAMPLE_EVERY_S)
    return time.perf_counter() - start


def _cpu_seconds(processes) -> dict[int, float]:
    import psutil

    out = {}
    for p in processes:
        try:
            t = p.cpu_times()
            out[p.pid] = t.user + t.system
        except psutil.Error:
            pass
    return out


def _thread_seconds(process) -> dict[int, float]:
    import psutil

    try:
        return {t.id: t.user_time + t.system_time for t in process.threads()}
    except psutil.Error:
        return {}


class CpuMeter:
    """CPU seconds of the server (main thread vs the rest), the client and the rest of the machine over a block.

    Process totals come from each process's own counters, which keep the time of its threads that have
    exited (a page script's thread ends with each run); the main thread's share from its own counter.
    """

    def __init__(self, server) -> None:
        self.server = server

    def _client(self) -> list:
        import psutil

        server_pids = {p.pid for p in _tree(self.server)}
        mine = [p for p in psutil.Process().children(recursive=True) if p.pid not in server_pids]
        return [psutil.Process(), *mine]

    def _read(self) -> tuple[float, float, dict[int, float], dict[int, float]]:
        import psutil

        machine = sum(psutil.cpu_times()[:3])  # user, nice, system of every CPU
        main = _thread_seconds(self.server).get(self.server.pid, 0.0)
        return machine, main, _cpu_seconds(_tree(self.server)), _cpu_seconds(self._client())

    def __enter__(self) -> CpuMeter:
        self._t0 = time.perf_counter()
        self._start = self._read()
        return self

    def stop(self) -> CpuShare:
        """Read the meters (call before the browser's pages close: a process that exits takes its count along)."""
        wall = time.perf_counter() - self._t0
        machine, main, server, client = self._read()
        machine0, main0, server0, client0 = self._start
        server_s = sum(s - server0.get(pid, 0.0) for pid, s in server.items())
        client_s = sum(s - client0.get(pid, 0.0) for pid, s in client.items())
        main_s = main - main0
        rest = max(0.0, machine - machine0 - server_s - client_s)
        return CpuShare(wall, main_s, max(0.0, server_s - main_s), client_s, rest)

    def __exit__(self, *exc: object) -> None:
        pass


async def _session(browser, url: str, smiles: str, timeout_s: float) -> tuple[float, float | None, list[str]]:
    """One session in its own context: (navigation start, seconds until the result or ``None``, alerts shown)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    page = await context.new_page()
    started = time.perf_counter()
    seconds, messages = None, []
    try:
        await page.goto(f"{url}/{PREDICT.url_path}?smiles={quote(smiles, safe='')}", timeout=timeout_s * 1000)
        either = page.locator(f'{PREDICT.result}, [data-testid="stException"]').first
        left = timeout_s - (time.perf_counter() - started)
        await either.wait_for(state="visible", timeout=max(1.0, left) * 1000)
        if not await page.locator('[data-testid="stException"]').count():
            seconds = time.perf_counter() - started
    except Exception as exc:  # a timeout: the session did not answer in time
        messages.append(f"no result: {type(exc).__name__}")
    for testid in ("stException", "stAlert"):
        for text in await page.locator(f'[data-testid="{testid}"]').all_inner_texts():
            line = " ".join(text.split())[:200]
            if line:
                messages.append(("EXCEPTION: " if testid == "stException" else "") + line)
    return started, seconds, messages


async def _sessions(url: str, molecules: Sequence[str], timeout_s: float, meter: CpuMeter | None):
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            if meter is not None:
                meter.__enter__()
            results = await asyncio.gather(*[_session(browser, url, smi, timeout_s) for smi in molecules])
            cpu = meter.stop() if meter is not None else None
        finally:
            await browser.close()
    return results, cpu


async def _protocol_session(url: str, smiles: str, timeout_s: float) -> tuple[float, float | None, list[str]]:
    """One session without a browser: Streamlit's own websocket protocol, the same request a browser sends.

    Returns (start, seconds until the server sent the result heading or ``None``, exceptions and alerts sent);
    the connection stays open until the page's script has finished, as a browser's would.
    """
    from websockets.asyncio.client import connect

    from workbench.app.protocol import read_message, run_request

    heading = PREDICT.result.split('"')[1]  # h3:has-text("This molecule") -> This molecule
    request = run_request(PREDICT.url_path, "smiles=" + quote(smiles, safe=""))
    started = time.perf_counter()
    seconds, messages = None, []
    stream = f"ws://127.0.0.1:{urlparse(url).port}/_stcore/stream"
    try:
        async with asyncio.timeout(timeout_s), connect(stream, subprotocols=["streamlit"], max_size=None) as ws:
            await ws.send(request)
            while True:
                msg = read_message(await ws.recv())
                if msg.kind == "script_finished":
                    break
                if msg.element == "heading" and heading in msg.text and seconds is None:
                    seconds = time.perf_counter() - started
                elif msg.element == "exception":
                    messages.append("EXCEPTION: " + " ".join(msg.text.split())[:200])
                elif msg.element == "alert":
                    messages.append(" ".join(msg.text.split())[:200])
    except TimeoutError:
        messages.append("no result: TimeoutError")
    return started, seconds, messages


async def _protocol_sessions(url: str, molecules: Sequence[str], timeout_s: float, meter: CpuMeter | None):
    if meter is not None:
        meter.__enter__()
    results = await asyncio.gather(*[_protocol_session(url, smi, timeout_s) for smi in molecules])
    return results, (meter.stop() if meter is not None else None)


#: how sessions are opened: a headless Chromium page each, or Streamlit's websocket protocol (no browser)
CLIENTS = {"browser": _sessions, "protocol": _protocol_sessions}


def run_sessions(
    url: str,
    counts: Sequence[int],
    molecules: Sequence[str],
    timeout_s: float,
    clients: Sequence[str] = ("browser", "protocol"),
    log=print,
) -> list[SessionRun]:
    """One run of ``n`` concurrent sessions per count and client, on one (already warm) server, new molecules
    each run."""
    server = _server(url)
    runs, used = [], 0
    for n in counts:
        for client in clients:
            chosen, used = molecules[used : used + n], used + n
            if len(chosen) < n:
                raise ValueError(f"{len(molecules)} molecules are too few for these runs")
            load = load_average()
            meter = CpuMeter(server)
            with RssSampler(server) as rss:
                results, cpu = asyncio.run(CLIENTS[client](url, chosen, timeout_s, meter))
            starts = [start for start, _, _ in results]
            run = SessionRun(
                n=n,
                client=client,
                seconds=[s for _, s, _ in results],
                spread_s=max(starts) - min(starts),
                rss_before=rss.samples[0][1],
                rss_peak=rss.peak,
                cpu=cpu,
                load_average=load,
                messages=sorted({m for _, _, ms in results for m in ms}),
            )
            log(f"{n} {client} sessions: {summarize(run.seconds)}, RSS peak {run.rss_peak / 1e9:.2f} GB, {cpu}")
            runs.append(run)
    return runs


def warm_session(url: str, smiles: str, timeout_s: float) -> float | None:
    """One Property prediction session (the models load, the page's code is imported); its seconds."""
    results, _ = asyncio.run(_sessions(url, [smiles], timeout_s, None))
    return results[0][1]


def run_upload(page_name: str, url_path: str, option: str, csv_path: Path, rows: int, timeout_s: float, after_s: float):
    """Upload ``csv_path`` on one page of a fresh server; the sentence and the server's RSS."""
    from playwright.sync_api import sync_playwright

    from bench.coldstart import PageSpec

    refusal = PageSpec(page_name, url_path, f'[data-testid="stAlert"]:has-text("{REFUSAL}")')
    with serve_app() as url, sync_playwright() as p:
        server = _server(url)
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"{url}/{url_path}", timeout=timeout_s * 1000)
            page.get_by_text(option, exact=True).first.click(timeout=timeout_s * 1000)
            chooser = page.locator('[data-testid="stFileUploader"]:visible input[type="file"]').first
            chooser.wait_for(state="attached", timeout=timeout_s * 1000)
            settle(server)  # the background warm-up's models loaded: what follows is the upload's
            with RssSampler(server) as rss:
                time.sleep(1.0)  # a second of baseline before the upload
                started = time.perf_counter()
                chooser.set_input_files(str(csv_path))
                shown = wait_for_result(page, refusal, timeout_s)
                seconds = time.perf_counter() - started if shown else None
                sentence = " ".join(page.locator(refusal.result).first.inner_text().split()) if shown else None
                time.sleep(after_s)
            before = rss.samples[0][1]
        finally:
            browser.close()
    return UploadRun(page_name, rows, csv_path.stat().st_size, sentence, seconds, before, rss.peak, rss.samples[-1][1])


def _compute_worker(smiles_file: str) -> dict:
    """Warm single-molecule ``prediction_table`` with every default model, one thread (as the server)."""
    from workbench.app.warmup import limit_threads

    limit_threads()
    from workbench.models.builders import can_predict
    from workbench.predict.inference import list_models, load_model
    from workbench.predict.table import prediction_table

    molecules = json.loads(Path(smiles_file).read_text())
    models = [c.name for c in list_models() if can_predict(c)]
    t = time.perf_counter()
    for name in models:
        load_model(name)
    prediction_table([molecules[0]], models)  # the first call loads the domain indexes
    load_s = time.perf_counter() - t
    wall, cpu, cpu_no_domain = [], [], []
    for smiles in molecules[1:]:
        t, c = time.perf_counter(), time.process_time()
        prediction_table([smiles], models)
        wall.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        c = time.process_time()
        prediction_table([smiles], models, with_domain=False)
        cpu_no_domain.append(time.process_time() - c)
    return {
        "models": models,
        "load_s": load_s,
        "per_molecule_s": wall,
        "cpu_s": cpu,
        "cpu_no_domain_s": cpu_no_domain,
    }


def run_compute(molecules: Sequence[str]) -> dict:
    """:func:`_compute_worker` in a fresh subprocess with an empty cache folder."""
    with tempfile.TemporaryDirectory(prefix="load_compute_") as tmp:
        path = Path(tmp) / "smiles.json"
        path.write_text(json.dumps(list(molecules)))
        env = {**os.environ, "WORKBENCH_CACHE_DIR": tmp}
        out = subprocess.run(
            [sys.executable, "-m", "bench.load", "--worker", str(path)],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


# ---------------------------------------------------------------- entry points


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options (shared by ``python -m bench.load`` and ``workbench bench load``)."""
    parser.add_argument("--parts", nargs="*", choices=["sessions", "uploads"], default=["sessions", "uploads"])
    parser.add_argument("--sessions", type=int, nargs="*", default=[1, 10, 20], help="concurrent sessions per run")
    parser.add_argument("--clients", nargs="*", choices=sorted(CLIENTS), default=["browser", "protocol"])
    parser.add_argument("--timeout", type=float, default=300, help="seconds a session or upload may take")
    parser.add_argument("--upload-rows", type=int, default=UPLOAD_ROWS)
    parser.add_argument("--no-compute", action="store_true", help="skip timing the model compute alone")
    parser.add_argument("--out", type=Path, default=RESULTS, help="file the sections are spliced into")
    parser.add_argument("--note", default="", help="a sentence for the report (e.g. what else ran)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)


def run_from_args(args: argparse.Namespace, command: str) -> int:
    if args.worker:
        print(json.dumps(_compute_worker(args.worker)))
        return 0
    log = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    note = f"WORKBENCH_DATA_DIR {os.environ.get('WORKBENCH_DATA_DIR', '(unset)')}. {args.note}".strip()
    sections, ok = [], True
    if "sessions" in args.parts:
        load_start = load_average()
        molecules = _molecules(1 + len(args.clients) * sum(args.sessions))
        with serve_app() as url:
            server = _server(url)
            warm = warm_session(url, molecules[0], args.timeout)
            if not server.is_running():
                raise RuntimeError("the app server exited during the warm-up session")
            log(f"warm session: {warm} s; then {settle(server):.0f} s until the server's memory settled")
            runs = run_sessions(url, args.sessions, molecules[1:], args.timeout, args.clients, log=log)
        compute = None if args.no_compute else run_compute(molecules[:21])  # the warm one + 20
        machine = describe_machine(load_start)
        sections.append(
            (
                LOAD_HEADING,
                format_sessions_section(
                    runs, command=command, machine=machine, compute=compute, warm_s=warm, note=note
                ),
            )
        )
        ok = ok and all(summarize(r.seconds)["answered"] == r.n for r in runs)
    if "uploads" in args.parts:
        load_start = load_average()
        with tempfile.TemporaryDirectory(prefix="load_upload_") as tmp:
            csv_path = Path(tmp) / "library_331000.csv"
            # HIV molecules written with 45-70 characters: 331,000 rows make about 20 MB, as in the issue
            library = [smiles for smiles in _molecules(3000) if 45 <= len(smiles) <= 70][:500]
            csv_path.write_bytes(big_csv(library, args.upload_rows))
            uploads = []
            for name, url_path, option in UPLOAD_PAGES:
                run = run_upload(name, url_path, option, csv_path, args.upload_rows, args.timeout, after_s=10.0)
                log(f"{name}: {run}")
                uploads.append(run)
        machine = describe_machine(load_start)
        sections.append((UPLOAD_HEADING, format_uploads_section(uploads, command=command, machine=machine, note=note)))
        ok = ok and all(r.sentence is not None for r in uploads)
    text = args.out.read_text() if args.out.is_file() else "# Prediction throughput (CPU)\n"
    for heading, section in sections:
        text = splice(text, heading, section)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    for _, section in sections:
        print("\n".join(section))
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None, command: str | None = None) -> int:
    """Command-line entry (``python -m bench.load``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_from_args(args, command or "python -m bench.load " + shlex.join(sys.argv[1:]))


if __name__ == "__main__":
    raise SystemExit(main())
