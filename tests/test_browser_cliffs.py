"""Real-browser smoke test of the Activity cliffs and IFM lab pages (headless Chromium, offline)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import BROWSER_MARKS, BROWSER_SETUP_S, open_app

pytestmark = BROWSER_MARKS

CHART = '[data-testid="stVegaLiteChart"]'


def _point_under_the_mouse(page, chart) -> tuple[float, float, str]:
    """Move over the SAS map's dense lower band until a point's tooltip shows; its position and tooltip text."""
    box = chart.bounding_box()
    tooltip = page.locator("#vg-tooltip-element")
    for fy in (0.75, 0.7, 0.65, 0.6):
        for fx in (f / 100 for f in range(20, 90, 2)):
            x, y = box["x"] + fx * box["width"], box["y"] + fy * box["height"]
            page.mouse.move(x, y)
            page.wait_for_timeout(50)
            if tooltip.count() and tooltip.is_visible() and "fold change" in tooltip.inner_text():
                return x, y, tooltip.inner_text()
    raise AssertionError("no SAS-map point under the mouse anywhere in the lower band")


# waits: home 60 + click 10 + agreement 90 + chart 60 + drawn 60 + pair 60 + hover ≤ 20 + pair 60 + picker 60 = 480 s
@pytest.mark.timeout(BROWSER_SETUP_S + 480)
def test_activity_cliffs_page_draws_the_sas_map_and_a_click_opens_a_pair(app_url, browser):
    page = open_app(browser, app_url, height=1100)
    page.get_by_role("link", name="Activity cliffs").first.click()
    page.get_by_text("Agreement with MoleculeACE cliff_mol").wait_for(timeout=90_000)
    sas_map = page.locator(CHART).first
    sas_map.wait_for(timeout=60_000)
    sas_map.locator("canvas, svg").first.wait_for(timeout=60_000)  # drawn, not only mounted
    page.get_by_text(re.compile(r"^Fold change \d")).first.wait_for(timeout=60_000)  # the highest-SALI cliff
    assert page.locator('[data-testid="stImage"] img').count() >= 2
    assert page.get_by_text("Open a cliff pair").count() == 1
    # a click on a point opens its pair: the picker gives way and the pair's fold change is shown
    sas_map.scroll_into_view_if_needed()
    x, y, tooltip = _point_under_the_mouse(page, sas_map)
    fold = re.search(r"fold change\s+([\d.]+)", tooltip).group(1)
    page.mouse.click(x, y)
    page.get_by_text(re.compile(rf"^Fold change {re.escape(fold)}×")).wait_for(timeout=60_000)
    page.get_by_text("Open a cliff pair").wait_for(state="detached", timeout=60_000)  # gone at the rerun's end
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()


# waits: home 60 + click 10 + frequencies 60 + second chart 60 + drawn 60 = 250 s
@pytest.mark.timeout(BROWSER_SETUP_S + 250)
def test_ifm_lab_page_draws_encoding_and_kernel(app_url, browser):
    page = open_app(browser, app_url, height=1100)
    page.get_by_role("link", name="IFM lab").click()
    page.get_by_text("Frequencies c_j").wait_for(timeout=60_000)
    kernel = page.locator(CHART).nth(1)
    kernel.wait_for(timeout=60_000)
    kernel.locator("canvas, svg").first.wait_for(timeout=60_000)
    assert page.locator(CHART).first.locator("canvas, svg").count() >= 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()
