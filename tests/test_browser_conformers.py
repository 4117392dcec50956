"""Real-browser test of the 3D conformers page: 3Dmol.js (served by the app itself, offline) draws into its canvas."""

from __future__ import annotations

import io
from urllib.parse import urlparse

import numpy as np
import pytest
from PIL import Image

from tests.conftest import BROWSER_MARKS, BROWSER_SETUP_S, open_app

pytestmark = BROWSER_MARKS


# waits: home 60 + click 10 + canvas 60 + WebGL 1.5 + screenshot 10 + caption 30 = 171.5 s
@pytest.mark.timeout(BROWSER_SETUP_S + 172)
def test_conformer_page_renders_the_3dmol_canvas_offline(app_url, browser):
    outside = []  # requests of the viewer that leave the machine (Streamlit's own favicon fetch is not ours)
    served = []  # the viewer's 3Dmol.js, fetched from the app's static folder (the browser caches it)

    def watch(request) -> None:
        host = urlparse(request.url).hostname
        in_a_frame = request.frame.parent_frame is not None  # the viewer's iframe, not the app's own page
        if host not in (None, "127.0.0.1") and (in_a_frame or "3dmol" in request.url.lower()):
            outside.append(request.url)
        if request.url.endswith("/app/static/3dmol/3Dmol-min.js"):
            served.append(request.url)

    page = open_app(browser, app_url, height=1100, on_request=watch)
    page.get_by_role("link", name="3D conformers").click()
    viewer = page.frame_locator("iframe").first
    canvas = viewer.locator("canvas").first
    canvas.wait_for(timeout=60_000)
    assert viewer.get_by_text("3Dmol.js failed to load").count() == 0
    box = canvas.bounding_box()
    assert box["width"] > 200 and box["height"] > 200
    page.wait_for_timeout(1500)  # let WebGL draw
    pixels = np.asarray(Image.open(io.BytesIO(canvas.screenshot())).convert("L"))
    assert (pixels < 200).mean() > 0.01, "the 3D canvas is blank"
    page.get_by_text("conformers · MMFF94s").wait_for(timeout=30_000)
    assert not outside, f"requests left the machine: {outside}"
    assert served and urlparse(served[0]).hostname == "127.0.0.1"
    page.close()
