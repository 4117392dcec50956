"""Real-browser smoke test: the app in headless Debian Chromium, driven by Playwright."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parent.parent
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (.ci/run installs it)"),
]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(ROOT / "app.py"),
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
        stdout=subprocess.PIPE,
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
        raise RuntimeError("the app did not answer /_stcore/health within 60 s:\n" + proc.stdout.read().decode())
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_home_depicts_describes_and_reports_errors(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=60_000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    box = page.get_by_label("SMILES", exact=True)
    box.fill("CCN(CC)CC")
    box.press("Enter")
    page.get_by_text("InChIKey: ZMANZCXQSJIPKH-UHFFFAOYSA-N").wait_for(timeout=30_000)
    box.fill("C1CC(")
    box.press("Enter")
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="unparsable SMILES")
    alert.wait_for(timeout=30_000)
    page.close()


def test_molecule_editor_renders_offline(app_url, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_text("Draw it in the molecule editor").click()
    # JSME is bundled in the streamlit-jsme package; nothing is fetched from the network
    page.locator("#jsme_wrapper").wait_for(timeout=60_000)
    page.locator("#jsme_wrapper [tabindex='0']").first.wait_for(timeout=30_000)
    page.close()
