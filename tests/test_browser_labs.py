"""Real-browser tests of the Model zoo, the IFM lab and the Pretraining lab: each page's first view draws its
result, shows no exception and asks for nothing outside the app (headless Debian Chromium, Playwright)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests.conftest import ACTION_TIMEOUT_MS, BROWSER_MARKS, BROWSER_SETUP_S

pytestmark = BROWSER_MARKS


def _open(browser, url: str, requests: list[str]):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.on("request", lambda request: requests.append(request.url))
    page.goto(url, timeout=60_000)
    return page


def _outside(app_url: str, urls: list[str]) -> list[str]:
    host = urlsplit(app_url).netloc
    return [u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != host]


# waits: page 60 + table 120 + chart 60 = 240 s
@pytest.mark.timeout(BROWSER_SETUP_S + 240)
def test_model_zoo_shows_the_cards_table_and_the_benchmark_chart_offline(app_url, browser):
    requests: list[str] = []
    page = _open(browser, app_url + "/model-zoo", requests)
    page.locator('[data-testid="stDataFrame"]').first.wait_for(timeout=120_000)
    assert page.locator('[data-testid="stVegaLiteChart"]').count() == 0  # only the open tab (Models) is drawn
    page.get_by_role("tab", name="Benchmark").click()
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for(timeout=60_000)
    chart.locator("canvas, svg").first.wait_for(timeout=60_000)  # drawn, not only mounted
    assert page.get_by_text("Benchmark: scaffold split, 3 seeds").count() == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    assert _outside(app_url, requests) == []
    page.close()


# waits: page 60 + chart 120 + drawn 60 = 240 s
@pytest.mark.timeout(BROWSER_SETUP_S + 240)
@pytest.mark.parametrize("path", ["/ifm-lab", "/pretraining-lab"])
def test_the_labs_draw_their_first_chart_offline(app_url, browser, path):
    requests: list[str] = []
    page = _open(browser, app_url + path, requests)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for(timeout=120_000)
    chart.locator("canvas, svg").first.wait_for(timeout=60_000)  # drawn, not only mounted
    assert page.locator('[data-testid="stException"]').count() == 0
    assert _outside(app_url, requests) == []
    page.close()
