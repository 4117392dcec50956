"""Shared fixtures: isolated data/model folders, a loopback HTTP server, the app served for browser tests."""

from __future__ import annotations

import dataclasses
import http.server
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

# The default user models folder (``~/.local/share/workbench/models``) of every test and of the app servers they
# start: an empty temporary folder, so models a test trains never land in (or read from) the real one.
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="workbench-test-xdg-")

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
#: Playwright's timeout for a click, fill, key press or wait that does not name its own.
ACTION_TIMEOUT_MS = 10_000
#: Time a browser test may spend before its own waits: ``streamlit run`` answering /_stcore/health (at most
#: 60 s, paid by the first browser test of a session), Chromium's launch (at most 30 s) and a margin.
BROWSER_SETUP_S = 100
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def data_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Empty WORKBENCH_DATA_DIR and WORKBENCH_CACHE_DIR for one test."""
    data, cache = tmp_path / "data", tmp_path / "cache"
    data.mkdir()
    cache.mkdir()
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(data))
    monkeypatch.setenv("WORKBENCH_CACHE_DIR", str(cache))
    return data, cache


@pytest.fixture
def models_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty WORKBENCH_MODELS_DIR as the only registry folder, inference cache cleared around the test."""
    import workbench.models.registry as checkpoints
    from workbench.predict import inference

    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("WORKBENCH_MODELS_DIR", str(folder))
    monkeypatch.setattr(checkpoints, "models_dirs", lambda: [folder])  # hide the shipped checkpoints
    inference.clear_cache()
    yield folder
    inference.clear_cache()


#: Approved drugs kept by :func:`few_reference_drugs` (the full reference set has about 2,600).
FEW_REFERENCE_DRUGS = 25


def few_approved_drugs(n: int = FEW_REFERENCE_DRUGS):
    """A stand-in for ``load_approved_drugs`` that keeps the first ``n`` approved drugs."""
    from workbench.data import load_approved_drugs

    full = load_approved_drugs()
    few = dataclasses.replace(full, frame=full.frame.head(n).reset_index(drop=True))
    return lambda **_kwargs: few


@pytest.fixture
def few_reference_drugs(monkeypatch: pytest.MonkeyPatch) -> int:
    """Trainers store approved-drug percentiles over the first 25 drugs instead of about 2,600.

    For tests that train a checkpoint to check something else: predicting every approved drug with a MiniMol or
    descriptor model at the end of training takes most of such a test's time. Tests of the percentiles themselves
    do not use it.
    """
    import workbench.predict.percentiles as percentiles

    monkeypatch.setattr(percentiles, "load_approved_drugs", few_approved_drugs())
    return FEW_REFERENCE_DRUGS


def app_test(page: str | None = None, *, timeout: float = 120, **state: object):
    """An AppTest of ``app.py`` run once (with ``state`` preset in the session), then switched to ``pages/<page>``.

    Asserts that no exception was shown, so a test starts from a page that rendered.
    """
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=timeout)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}").run()
    assert not at.exception, at.exception
    return at


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass


@pytest.fixture
def http_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """Serve a temporary folder on 127.0.0.1; yields (base URL, folder)."""
    root = tmp_path / "served"
    root.mkdir()

    def handler(*args: object, **kwargs: object) -> _Handler:
        return _Handler(*args, directory=str(root), **kwargs)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", root
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_home_env(home: Path) -> dict[str, str]:
    """This process's environment with HOME and every cache folder moved under ``home`` (created empty).

    ``WORKBENCH_DATA_DIR`` (reference data, read only) and ``WORKBENCH_MODELS_DIR`` are kept; the workbench's
    download and derived-data cache (``WORKBENCH_CACHE_DIR``) and whatever else would be cached under ``~``
    start empty, as on a fresh machine.
    """
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HOME", "TORCH_HOME", "MPLCONFIGDIR")}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        WORKBENCH_CACHE_DIR=str(home / ".cache" / "workbench" / "data"),
        PYTHONUNBUFFERED="1",
    )
    for folder in ("XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "WORKBENCH_CACHE_DIR"):
        Path(env[folder]).mkdir(parents=True, exist_ok=True)
    return env


@pytest.fixture(scope="session")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The app served by ``streamlit run`` on a free loopback port, shared by the browser tests.

    The server runs with its own empty HOME and cache folders (:func:`fresh_home_env`), so a developer's warm
    ``~/.cache`` and a fresh CI machine behave alike.
    """
    port = _free_port()
    env = fresh_home_env(tmp_path_factory.mktemp("app_home"))
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workbench.app.serve",  # streamlit run app.py, without the legacy pages/ first run
                "--server.port",
                str(port),
                "--server.address",
                "127.0.0.1",
                "--server.headless",
                "true",
                "--browser.gatherUsageStats",
                "false",
                "--server.fileWatcherType",
                "none",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,  # a file, not a pipe: a pipe nobody reads blocks the server once full
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            proc.kill()
            log.seek(0)
            raise RuntimeError("the app did not answer /_stcore/health within 60 s:\n" + log.read().decode())
        yield url
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=30_000)
        yield b
        b.close()


def open_app(browser, app_url: str, height: int = 1000, on_request=None):
    """A new page on the app's home (waits up to 60 s for it); other actions wait :data:`ACTION_TIMEOUT_MS`.

    ``on_request`` (optional) sees every request of the page, the first one included.
    """
    page = browser.new_page(viewport={"width": 1400, "height": height})
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    if on_request is not None:
        page.on("request", on_request)
    page.goto(app_url, timeout=60_000)
    return page


#: Marks of every browser test module: the ``browser`` marker and a skip where Chromium is missing.
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (.ci/run installs it)"),
]
