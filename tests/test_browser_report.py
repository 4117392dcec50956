"""Real-browser test of the dossier: the CLI's HTML opened from disk in headless Chromium with the network cut."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.conftest import ACTION_TIMEOUT_MS, BROWSER_MARKS, BROWSER_SETUP_S, ROOT
from workbench.report import SECTIONS

pytestmark = BROWSER_MARKS

#: The CLI run: the nine default GINs, the retrieval model and its corpus, a conformer (about 20 s of CPU).
REPORT_S = 540


# waits: report 540 (a loaded 2-core machine took 276 s) + page load and checks 60 (immediate once loaded)
@pytest.mark.timeout(BROWSER_SETUP_S + REPORT_S + 60)
def test_the_cli_dossier_opens_offline_with_every_heading_and_image(browser, tmp_path):
    dest = tmp_path / "dossier.html"
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "report", "CC(=O)Oc1ccccc1C(=O)O", "-o", str(dest)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=REPORT_S,
    )
    assert done.returncode == 0, done.stderr
    assert "wrote" in done.stderr

    context = browser.new_context()
    attempted = []

    def block(route) -> None:
        attempted.append(route.request.url)
        route.abort()

    context.route(re.compile(r"^https?://"), block)
    page = context.new_page()
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.goto(dest.as_uri())
    for title in SECTIONS.values():
        assert page.get_by_role("heading", name=title, exact=True).is_visible(), title
    images = page.locator("img")
    assert images.count() >= 4  # depiction, radar, attribution map, conformer (and the training molecules)
    page.wait_for_function("Array.from(document.images).every(i => i.complete)")
    broken = page.evaluate("Array.from(document.images).filter(i => !(i.naturalWidth > 0)).map(i => i.alt)")
    assert not broken, f"images that did not load: {broken}"
    assert page.locator("script").count() == 0
    assert not attempted, f"the page tried to reach the network: {attempted}"
    context.close()
