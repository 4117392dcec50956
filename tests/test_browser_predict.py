"""Browser smoke test for property prediction: upload a CSV, receive the predictions as a download."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (.ci/run installs it)"),
]


def test_upload_csv_and_download_predictions(app_url, browser, tmp_path):
    from workbench.predict.inference import list_models

    if not list_models():
        pytest.skip("no shipped checkpoints in models/")
    upload = tmp_path / "molecules.csv"
    upload.write_text("name,smiles\naspirin,CC(=O)Oc1ccccc1C(=O)O\nbroken,C1CC(\ncaffeine,Cn1c(=O)c2c(ncn2C)n(C)c1=O\n")
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(app_url)
    page.get_by_role("link", name="Property prediction").click(timeout=120_000)
    page.get_by_role("heading", name="Property prediction").wait_for(timeout=120_000)
    page.get_by_text("Upload CSV/SDF").click(timeout=120_000)
    page.locator('input[type="file"]').set_input_files(str(upload))
    # a cold first view rebuilds every model's training set for the applicability domain (cached on disk after)
    page.get_by_text("1 of 3 rows could not be predicted").wait_for(timeout=480_000)
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download CSV").click()
    path = tmp_path / "predictions.csv"
    download.value.save_as(path)
    table = pd.read_csv(path, keep_default_na=False)
    assert table["input"].tolist() == ["CC(=O)Oc1ccccc1C(=O)O", "C1CC(", "Cn1c(=O)c2c(ncn2C)n(C)c1=O"]
    assert table.loc[1, "error"] and not table.loc[0, "error"]
    assert any(column.endswith(":std") for column in table.columns)
    page.close()
