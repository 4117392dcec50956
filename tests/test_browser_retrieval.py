"""Browser smoke test for text retrieval: type a query, see ranked molecules, download them."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import BROWSER_MARKS, BROWSER_SETUP_S, open_app

pytestmark = BROWSER_MARKS


# waits: home 60 + link 120 + heading 120 + fill/press 2 × 10 + first hit 240 + download 60 = 620 s
@pytest.mark.timeout(BROWSER_SETUP_S + 620)
def test_text_query_returns_a_ranked_downloadable_grid(app_url, browser, tmp_path):
    from workbench.models import find_checkpoints

    if not any(c.architecture == "dual_encoder" for c in find_checkpoints()[0]):
        pytest.skip("no retrieval checkpoint in models/")
    page = open_app(browser, app_url)
    page.get_by_role("link", name="Text retrieval").click(timeout=120_000)
    page.get_by_role("heading", name="Text retrieval").wait_for(timeout=120_000)
    box = page.get_by_label("Describe the molecules you want")
    box.fill("a beta-lactam antibiotic")
    box.press("Enter")
    # the app's cache starts empty (see app_url): the first query embeds the drug library
    page.get_by_text("1. score", exact=False).first.wait_for(timeout=240_000)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download CSV").first.click()
    path = tmp_path / "hits.csv"
    download.value.save_as(path)
    hits = pd.read_csv(path)
    assert len(hits) == 10 and hits["score"].is_monotonic_decreasing and hits["rank"].tolist() == list(range(1, 11))
    page.close()
