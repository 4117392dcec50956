"""Real-browser smoke test: the app in headless Debian Chromium, driven by Playwright."""

from __future__ import annotations

import pytest

from tests.conftest import BROWSER_MARKS, BROWSER_SETUP_S, open_app

pytestmark = BROWSER_MARKS


# waits: home 60 + image 60 + table 10 + fill/press 2 × 10 + InChIKey 30 + fill/press 2 × 10 + alert 30 = 230 s
@pytest.mark.timeout(BROWSER_SETUP_S + 230)
def test_home_depicts_describes_and_reports_errors(app_url, browser):
    page = open_app(browser, app_url)
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


# waits: home 60 + click 10 + editor 60 + its canvas 30 = 160 s
@pytest.mark.timeout(BROWSER_SETUP_S + 160)
def test_molecule_editor_renders_offline(app_url, browser):
    page = open_app(browser, app_url)
    page.get_by_text("Draw it in the molecule editor").click()
    # JSME is bundled in the streamlit-jsme package; nothing is fetched from the network
    page.locator("#jsme_wrapper").wait_for(timeout=60_000)
    page.locator("#jsme_wrapper [tabindex='0']").first.wait_for(timeout=30_000)
    page.close()
