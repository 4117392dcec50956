"""Real-browser smoke tests of Home and the app shell: headless Debian Chromium, driven by Playwright."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.conftest import ACTION_TIMEOUT_MS, BROWSER_MARKS, BROWSER_SETUP_S, open_app

pytestmark = BROWSER_MARKS


# waits: home 60 + image 120 + table 10 + fill/press 2 × 10 + InChIKey 30 + fill/press 2 × 10 + alert 30 = 290 s
@pytest.mark.timeout(BROWSER_SETUP_S + 290)
def test_home_depicts_describes_and_reports_errors(app_url, browser):
    page = open_app(browser, app_url)
    # the first view of a fresh server imports RDKit and pandas while the model warm-up thread starts
    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=120_000)
    page.locator('[data-testid="stDataFrame"]').first.wait_for()
    box = page.get_by_label("SMILES or drug name", exact=True)
    box.fill("CCN(CC)CC")
    box.press("Enter")
    page.get_by_text("InChIKey: ZMANZCXQSJIPKH-UHFFFAOYSA-N").wait_for(timeout=30_000)
    box.fill("C1CC(")
    box.press("Enter")
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="unparsable SMILES")
    alert.wait_for(timeout=30_000)
    page.close()


# waits: home 60 + click 120 + editor 60 + its canvas 30 = 270 s
@pytest.mark.timeout(BROWSER_SETUP_S + 270)
def test_molecule_editor_renders_offline(app_url, browser):
    page = open_app(browser, app_url)
    page.get_by_text("Draw it in the molecule editor").click(timeout=120_000)
    # JSME is bundled in the streamlit-jsme package; nothing is fetched from the network
    page.locator("#jsme_wrapper").wait_for(timeout=60_000)
    page.locator("#jsme_wrapper [tabindex='0']").first.wait_for(timeout=30_000)
    page.close()


CAFFEINE = "Cn1c(=O)c2c(ncn2C)n(C)c1=O"


def _outside(app_url: str, urls: list[str]) -> list[str]:
    """The requested URLs that leave the app's loopback server (inline data: and blob: URLs stay)."""
    host = urlsplit(app_url).netloc
    return [u for u in urls if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != host]


def _no_page_not_found(page) -> None:
    assert page.get_by_text("Page not found").count() == 0


# waits: home 60 + image 120 + cards 10 + fill/press 2 × 10 + name caption 30 + reload 60 + InChIKey 60 + box 60 = 420 s
@pytest.mark.timeout(BROWSER_SETUP_S + 420)
def test_home_resolves_a_name_keeps_it_on_reload_and_stays_offline(app_url, browser):
    requests: list[str] = []
    page = open_app(browser, app_url, on_request=lambda request: requests.append(request.url))
    page.locator('[data-testid="stImage"] img').first.wait_for(timeout=120_000)
    page.get_by_text("What you can do").wait_for()
    page.get_by_role("link", name="Open").nth(5).wait_for(timeout=60_000)  # one card per page (the cards render last)
    box = page.get_by_label("SMILES or drug name", exact=True)
    box.fill("caffeine")
    box.press("Enter")
    page.get_by_text(f"caffeine → {CAFFEINE}").wait_for(timeout=30_000)
    assert "smiles=" in page.url
    page.reload(timeout=60_000)  # the molecule comes back from the URL
    page.get_by_text("InChIKey: RYYVLZVUVIJVGH-UHFFFAOYSA-N").wait_for(timeout=60_000)
    # the box mounts a moment after the first elements of the page: wait for it to hold the molecule
    expect(page.get_by_label("SMILES or drug name", exact=True)).to_have_value(CAFFEINE, timeout=60_000)
    # viewer toolbar: no developer Deploy button
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    assert page.get_by_role("button", name="Deploy").count() == 0
    _no_page_not_found(page)
    assert _outside(app_url, requests) == []  # the tab icon, fonts and scripts all come from the app
    page.close()


# waits: deep link 60 + heading 120 + caption 120 + stem link 60 + heading 120 = 480 s
@pytest.mark.timeout(BROWSER_SETUP_S + 480)
def test_deep_links_open_their_page_with_the_molecule(app_url, browser):
    requests: list[str] = []
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(ACTION_TIMEOUT_MS)
    page.on("request", lambda request: requests.append(request.url))
    page.goto(app_url + "/property-prediction?smiles=CCO", timeout=60_000)
    page.get_by_role("heading", name="Property prediction").wait_for(timeout=120_000)
    caption = page.get_by_text("The molecule selected on Home")
    caption.wait_for(timeout=120_000)
    assert "CCO" in caption.inner_text()
    _no_page_not_found(page)
    # a link by file stem (the pages/ folder convention) opens the same page, query kept
    page.goto(app_url + "/predict?smiles=CCO", timeout=60_000)
    page.get_by_role("heading", name="Property prediction").wait_for(timeout=120_000)
    assert urlsplit(page.url).path == "/property-prediction" and "smiles=CCO" in page.url
    _no_page_not_found(page)
    assert _outside(app_url, requests) == []
    page.close()
