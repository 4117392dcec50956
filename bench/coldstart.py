"""Cold-start benchmark: time from navigation until each page's main result is visible, cold and warm.

For every page a fresh ``streamlit run app.py`` (headless, a free loopback port) starts with an empty
``HOME`` and ``WORKBENCH_CACHE_DIR`` (``WORKBENCH_DATA_DIR`` kept as given, or ``--data-dir``); headless
Chromium (Playwright) opens the page's URL directly with its default input and waits for the page's result
(:data:`PAGES`) in a fresh browser profile: that is the *cold* time. Once the server has gone idle (its
background warm-up finished: :func:`wait_idle`), a second visit in a new tab of the same browser (a new
session: models and caches loaded, session state empty, Streamlit's scripts in the browser's cache) gives the
*warm* time. Then, in another new tab, a different page is opened and the page is reached by its sidebar link
(no page load: how a visitor moves through the app): the *in app* time, from the click. ``--one-server``
visits every page in one server instead, so the cold time of a later page profits from what earlier pages loaded.
Run ``python -m bench.coldstart`` (or ``workbench bench coldstart``; ``--pages home property-prediction`` for some,
``--json bench/results/coldstart.json``); it writes ``bench/results/coldstart.md`` (page x cold s x warm s x budget
x within budget, the machine, the load average during the run, the command) and, with ``--json``, the same rows.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.coldstart_apps import ALTAIR_APP, PLOTLY_APP, REFERENCE_APP, THREEDMOL_APP
from bench.coldstart_report import PageResult, _seconds, combine_runs, format_report, write_report
from bench.machine import describe_machine, load_average

__all__ = [
    "PAGES",
    "PageResult",
    "PageSpec",
    "combine_runs",
    "format_report",
    "main",
    "run",
    "visit_in_app",
    "write_report",
]

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking"]
#: Budgets here (issue 11): first result in 15 s cold and 2 s warm; Property prediction (every default model) 10 s cold.
COLD_BUDGET_S, WARM_BUDGET_S, PREDICT_COLD_BUDGET_S = 15.0, 2.0, 10.0


@dataclass(frozen=True)
class PageSpec:
    """A page, the URL path it is opened at, and what its main result looks like in the DOM."""

    name: str
    url_path: str
    result: str  # a Playwright selector; ``frame:`` prefix = first iframe, then the selector inside it
    cold_budget_s: float = COLD_BUDGET_S
    warm_budget_s: float = WARM_BUDGET_S


#: A Vega-Lite chart drawn (its marks canvas or SVG), not only mounted.
VEGA_DRAWN = '[data-testid="stVegaLiteChart"] .marks'

PAGES = (
    PageSpec("Home", "", '[data-testid="stDataFrame"]'),  # the descriptor table
    # the single-molecule panel's heading, written once the table, the references and the panel are ready
    PageSpec("Property prediction", "property-prediction", 'h3:has-text("This molecule")', PREDICT_COLD_BUDGET_S),
    PageSpec("Train on your data", "train-on-your-data", '[data-testid="stFileUploader"]'),  # the uploader
    PageSpec("Task transfer", "task-transfer", VEGA_DRAWN),  # the benchmark bars of the default target (first tab)
    PageSpec("Virtual screening", "virtual-screening", 'button:has-text("Run")'),  # the form, ready to run
    PageSpec("Model zoo", "model-zoo", '[data-testid="stDataFrame"]'),  # the zoo table
    PageSpec("3D conformers", "3d-conformers", "frame:canvas"),  # the 3Dmol.js viewer
    PageSpec("Activity cliffs", "activity-cliffs", VEGA_DRAWN),  # the SAS map (first tab)
    PageSpec("IFM lab", "ifm-lab", VEGA_DRAWN),  # the encoding plot
    PageSpec("Text retrieval", "text-retrieval", "text=1. score"),  # the first hit of the default query
    PageSpec("Pretraining lab", "pretraining-lab", VEGA_DRAWN),  # the comparison chart
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_env(home: Path, data_dir: Path | None, warmup: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HOME", "TORCH_HOME", "MPLCONFIGDIR")}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        WORKBENCH_CACHE_DIR=str(home / ".cache" / "workbench" / "data"),
        PYTHONUNBUFFERED="1",
    )
    if data_dir is not None:
        env["WORKBENCH_DATA_DIR"] = str(data_dir)
    if not warmup:
        env["WORKBENCH_WARMUP"] = "0"
    for key in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "WORKBENCH_CACHE_DIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


#: The reference rows: the apps of :mod:`bench.coldstart_apps` (one table; one Vega-Lite chart; one Plotly
#: chart; one 3Dmol.js viewer), served and timed as the pages are: the floor Streamlit, Chromium and the chart
#: or 3D library set here.
REFERENCE = PageSpec("Reference: a one-table Streamlit app", "", '[data-testid="stDataFrame"]')
REFERENCES = (
    (REFERENCE, REFERENCE_APP),
    (PageSpec("Reference: a one-Vega-Lite-chart (Altair) Streamlit app", "", VEGA_DRAWN), ALTAIR_APP),
    (PageSpec("Reference: a one-Plotly-chart Streamlit app", "", ".js-plotly-plot"), PLOTLY_APP),
    (PageSpec("Reference: a one-3Dmol.js-viewer Streamlit app", "", "frame:canvas"), THREEDMOL_APP),
)


@contextmanager
def serve_app(
    data_dir: Path | None = None, *, warmup: bool = True, start_timeout: float = 120, script: str | None = None
) -> Iterator[str]:
    """``streamlit run app.py`` (or an app whose source is ``script``) in a fresh process with an empty HOME and
    cache; yields its URL."""
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="coldstart_") as tmp, tempfile.TemporaryFile() as log:
        env = _fresh_env(Path(tmp), data_dir, warmup)
        cmd = [sys.executable, "-m", "workbench.app.serve", "--server.port", str(port)]  # = streamlit run app.py
        if script is not None:
            (Path(tmp) / "reference_app.py").write_text(script)
            cmd = [sys.executable, "-m", "streamlit", "run", str(Path(tmp) / "reference_app.py")]
            cmd += ["--server.port", str(port)]
        cmd += ["--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"]
        cmd += ["--server.fileWatcherType", "none"]
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + start_timeout
            while True:
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    if time.time() > deadline or proc.poll() is not None:
                        log.seek(0)
                        raise RuntimeError("the app did not start:\n" + log.read().decode()[-2000:]) from None
                    time.sleep(0.5)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def server_process(url: str):
    """The app server serving ``url`` (a child process started with ``--server.port``; psutil), or ``None``."""
    import psutil

    port = str(urllib.parse.urlparse(url).port)
    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            cmd = child.cmdline()
            if "--server.port" in cmd[:-1] and cmd[cmd.index("--server.port") + 1] == port:
                return child
    return None


def wait_idle(url: str, quiet_s: float = 2.0, busy_fraction: float = 0.05, cap_s: float = 180.0) -> float:
    """Wait until the server serving ``url`` used under ``busy_fraction`` of a CPU for ``quiet_s`` (its
    background warm-up done), at most ``cap_s``; returns the seconds waited."""
    import psutil

    server, start, step, window = server_process(url), time.perf_counter(), 0.25, []
    if server is None:
        return 0.0
    while time.perf_counter() - start < cap_s:
        try:
            times = server.cpu_times()
        except psutil.Error:
            break
        window = [*window, times.user + times.system][-int(quiet_s / step) - 1 :]
        if len(window) > quiet_s / step and window[-1] - window[0] < busy_fraction * quiet_s:
            break
        time.sleep(step)
    return time.perf_counter() - start


def _results(page, spec: PageSpec):
    """Every element on ``page`` that matches ``spec``'s result selector (a Playwright locator)."""
    if spec.result.startswith("frame:"):
        return page.frame_locator("iframe").first.locator(spec.result.removeprefix("frame:"))
    return page.locator(spec.result)


def _result_locator(page, spec: PageSpec):
    return _results(page, spec).first


def _shown_messages(page) -> list[str]:
    """Alerts (st.error / warning / info) and exceptions on the page, one line each."""
    texts = []
    for testid in ("stException", "stAlert"):
        for text in page.locator(f'[data-testid="{testid}"]').all_inner_texts():
            line = " ".join(text.split())
            if line:
                texts.append(("EXCEPTION: " if testid == "stException" else "") + line[:300])
    return texts


def _running(page) -> bool:
    """Streamlit's "Running..." indicator is shown while the page's script runs."""
    return page.locator('[data-testid="stStatusWidget"]').count() > 0


def wait_for_result(page, spec: PageSpec, timeout_s: float, settle_s: float = 3.0, info_settle_s: float = 10.0) -> bool:
    """Poll until the result is visible (True); False on timeout, on an exception shown, or when the script
    has finished (no "Running..." indicator) with no result and a warning or error shown for ``settle_s``, or
    only an info message for ``info_settle_s`` (a chart can take seconds to mount after an early info line)."""
    result = _result_locator(page, spec)
    deadline = time.perf_counter() + timeout_s
    idle_since: float | None = None
    while time.perf_counter() < deadline:
        try:
            if result.is_visible():
                return True
        except Exception:  # the iframe of a frame: selector is not there yet
            pass
        if page.locator('[data-testid="stException"]').count():
            return False
        serious = page.locator('[data-testid="stAlertContentWarning"], [data-testid="stAlertContentError"]').count()
        if _running(page) or not page.locator('[data-testid="stAlert"]').count():
            idle_since = None
        elif idle_since is None:
            idle_since = time.perf_counter()
        elif time.perf_counter() - idle_since > (settle_s if serious else info_settle_s):
            return False
        page.wait_for_timeout(100)
    return False


def visit(context, url: str, spec: PageSpec, timeout_s: float) -> tuple[float | None, list[str]]:
    """Open the page in a new tab of the browser ``context`` (a new Streamlit session); seconds until its result
    is visible (``None``: none came) and its alerts."""
    page = context.new_page()
    try:
        start = time.perf_counter()
        page.goto(f"{url}/{spec.url_path}", timeout=timeout_s * 1000)
        seconds = time.perf_counter() - start if wait_for_result(page, spec, timeout_s) else None
        return seconds, _shown_messages(page)
    finally:
        page.close()


def _matches(page, spec: PageSpec) -> int:
    """How many elements on ``page`` match ``spec``'s result selector (0 for an iframe selector without an iframe)."""
    if spec.result.startswith("frame:") and not page.locator("iframe").count():
        return 0
    return _results(page, spec).count()


def _wait_finished(page, timeout_s: float) -> None:
    """Wait until the page's script has finished (no "Running..." indicator for 0.5 s), at most ``timeout_s``."""
    deadline, quiet_since = time.perf_counter() + timeout_s, None
    while time.perf_counter() < deadline:
        if _running(page):
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.perf_counter()
        elif time.perf_counter() - quiet_since > 0.5:
            return
        page.wait_for_timeout(100)


def visit_in_app(
    context, url: str, spec: PageSpec, timeout_s: float, origins: Sequence[PageSpec] = PAGES
) -> float | None:
    """Seconds from a click on ``spec``'s sidebar link until its result is visible, in a new tab that first
    shows another page (the first of ``origins`` with nothing matching ``spec``'s result selector once it has
    finished, so a result left from that page cannot count) and waits until that page's script has finished and
    the server is idle; ``None`` when no result came or no origin page qualified."""
    page = context.new_page()
    try:
        for origin in (o for o in origins if o.name != spec.name):
            page.goto(f"{url}/{origin.url_path}", timeout=timeout_s * 1000)
            if wait_for_result(page, origin, timeout_s) and _matches(page, spec) == 0:
                _wait_finished(page, timeout_s)  # the click then starts the page, not an interrupt of the origin
                wait_idle(url)
                if _matches(page, spec) == 0:  # still none once the origin has drawn everything (a later table)
                    break
        else:
            return None
        link = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=spec.name, exact=True)
        start = time.perf_counter()
        link.click(timeout=timeout_s * 1000)
        return time.perf_counter() - start if wait_for_result(page, spec, timeout_s) else None
    finally:
        page.close()


def run(
    pages: Sequence[PageSpec] = PAGES,
    *,
    data_dir: Path | None = None,
    one_server: bool = False,
    warmup: bool = True,
    timeout_s: float = 240,
    log=print,
    reference: bool = True,
    repeat: int = 1,
) -> list[PageResult]:
    """Cold and warm time of every page (a fresh server per page unless ``one_server``), then of the
    :data:`REFERENCES` apps when ``reference``; all of it ``repeat`` times, one row per page (medians)."""
    from playwright.sync_api import sync_playwright

    runs: dict[str, list[PageResult]] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=60_000)
        try:
            groups = [(list(pages), None)] if one_server else [([spec], None) for spec in pages]
            groups += [([spec], script) for spec, script in REFERENCES] if reference else []
            for group, script in [g for _ in range(repeat) for g in groups]:
                with serve_app(data_dir, warmup=warmup, script=script) as url:
                    for spec in group:
                        load = load_average()
                        # a fresh browser profile per page: cold as a first visitor, warm as a returning one
                        with contextlib.closing(browser.new_context(viewport={"width": 1400, "height": 1000})) as ctx:
                            cold, messages = visit(ctx, url, spec, timeout_s)
                            idle = wait_idle(url)
                            warm, _ = visit(ctx, url, spec, timeout_s)
                            nav = None if script is not None else visit_in_app(ctx, url, spec, timeout_s)
                        row = PageResult(spec.name, cold, warm, spec.cold_budget_s, spec.warm_budget_s, load, messages)
                        row.idle_wait_s, row.reference, row.nav_s = idle, script is not None, nav
                        runs.setdefault(spec.name, []).append(row)
                        log(
                            f"{spec.name}: cold {_seconds(cold)} s, idle after {idle:.1f} s, warm {_seconds(warm)} s, "
                            f"in app {_seconds(nav)} s"
                        )
        finally:
            browser.close()
    return [combine_runs(rows) for rows in runs.values()]


def main(argv: Sequence[str] | None = None, command: str | None = None) -> int:
    """Command-line entry (``python -m bench.coldstart`` and ``workbench bench coldstart``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)
    return run_from_args(args, command or "python -m bench.coldstart " + shlex.join(sys.argv[1:]))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The benchmark's options (shared by ``python -m bench.coldstart`` and ``workbench bench coldstart``)."""
    names = [spec.url_path or "home" for spec in PAGES]
    parser.add_argument("--pages", nargs="*", choices=names, help="pages to time (default: all)")
    parser.add_argument("--data-dir", type=Path, help="WORKBENCH_DATA_DIR for the app (default: as set)")
    parser.add_argument("--one-server", action="store_true", help="visit every page in one server, in order")
    parser.add_argument("--no-warmup", action="store_true", help="start the app with WORKBENCH_WARMUP=0")
    parser.add_argument("--timeout", type=float, default=240, help="seconds to wait for a page's result")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "coldstart.md")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON to this file")
    parser.add_argument("--repeat", type=int, default=1, help="runs per page, each on a fresh server (median)")
    parser.add_argument("--note", default="", help="a sentence for the report (e.g. what else ran on the machine)")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the reference apps (one table, one chart, one 3D viewer)"
    )


def run_from_args(args: argparse.Namespace, command: str) -> int:
    chosen = [s for s in PAGES if not args.pages or (s.url_path or "home") in args.pages]
    load_start = load_average()
    rows = run(
        chosen,
        data_dir=args.data_dir,
        one_server=args.one_server,
        warmup=not args.no_warmup,
        timeout_s=args.timeout,
        log=lambda m: print(m, file=sys.stderr, flush=True),
        reference=not args.no_reference,
        repeat=max(1, args.repeat),
    )
    note = (
        f"Settings: {'one server for all pages' if args.one_server else 'a fresh server per page'}, "
        f"{max(1, args.repeat)} run(s) per page, "
        f"background warm-up {'off' if args.no_warmup else 'on'}, WORKBENCH_DATA_DIR "
        f"{args.data_dir or os.environ.get('WORKBENCH_DATA_DIR', '(unset)')}. {args.note}"
    ).strip()
    path = write_report(
        rows, args.out, machine=describe_machine(load_start), command=command, note=note, json_path=args.json
    )
    print(path)
    return 0 if all(r.cold_s is not None for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
