"""Real-browser smoke test of the Activity cliffs and IFM lab pages (headless Chromium, offline)."""

from __future__ import annotations

import pytest

from tests.conftest import BROWSER_MARKS, BROWSER_SETUP_S, open_app

pytestmark = BROWSER_MARKS


# waits: home 60 + click 10 + agreement 90 + chart 60 + plot 60 + pair 60 = 340 s
@pytest.mark.timeout(BROWSER_SETUP_S + 340)
def test_activity_cliffs_page_draws_the_sas_map_and_pair(app_url, browser):
    page = open_app(browser, app_url, height=1100)
    page.get_by_role("link", name="Activity cliffs").first.click()
    page.get_by_text("Agreement with MoleculeACE cliff_mol").wait_for(timeout=90_000)
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.get_by_text("Fold change").first.wait_for(timeout=60_000)
    assert page.locator('[data-testid="stImage"] img').count() >= 2
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


# waits: home 60 + click 10 + frequencies 60 + second plot 60 = 190 s
@pytest.mark.timeout(BROWSER_SETUP_S + 190)
def test_ifm_lab_page_draws_encoding_and_kernel(app_url, browser):
    page = open_app(browser, app_url, height=1100)
    page.get_by_role("link", name="IFM lab").click()
    page.get_by_text("Frequencies c_j").wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").nth(1).wait_for(timeout=60_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()
