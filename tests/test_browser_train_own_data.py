"""Browser test of Train on your data: upload a CSV, train quick, save the model, "Use it" on Property prediction.

The CSV is every 9th row of a MoleculeACE target (71 molecules), written to a temporary folder at test time.
"""

from __future__ import annotations

import secrets

import pandas as pd
import pytest

from tests.conftest import BROWSER_MARKS, BROWSER_SETUP_S, open_app
from tests.test_training_jobs import POTENCY, own_data_csv

pytestmark = BROWSER_MARKS


# waits: home 60 + heading 60 + file read 60 + training 300 + save 600 + prediction page 60 + panel 300
# + download 60 = 1,500 s (the save computes the approved-drug percentiles: 1-2 minutes on a shared 2-core machine)
@pytest.mark.timeout(BROWSER_SETUP_S + 1500)
def test_upload_train_save_and_predict_with_the_new_model(app_url, browser, tmp_path):
    name = f"assay_{secrets.token_hex(3)}"  # the server's models folder lives as long as the test session
    upload = tmp_path / f"{name}.csv"
    upload.write_bytes(own_data_csv(step=9))
    page = open_app(browser, app_url, height=1400)
    page.get_by_role("link", name="Train on your data").first.click()
    page.get_by_role("heading", name="Train on your data").wait_for(timeout=60_000)
    page.locator('input[type="file"]').set_input_files(str(upload))
    page.get_by_text("Reproduce on the command line").wait_for(timeout=60_000)
    assert page.get_by_role("textbox", name="Model name").input_value() == name  # the file's stem, as the CLI names it
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("tab", name="Test metrics").wait_for(timeout=300_000)  # trained in the background
    assert "job=" in page.url
    page.get_by_text("95 % CI from 1,000 bootstrap resamples").wait_for(timeout=10_000)  # the metrics tab
    page.get_by_role("button", name="Save model").click()
    use_it = page.get_by_role("link", name=f"Use it: predict with {name}")
    use_it.wait_for(timeout=600_000)
    use_it.click()
    page.get_by_role("heading", name="Property prediction").wait_for(timeout=60_000)
    assert f"models={name}" in page.url
    page.locator('h3:has-text("This molecule")').wait_for(timeout=300_000)  # the Home molecule, predicted
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download CSV").click()
    path = tmp_path / "predictions.csv"
    download.value.save_as(path)
    table = pd.read_csv(path, keep_default_na=False)
    assert f"{name}:pIC50({POTENCY})" in table.columns and f"{name}:pIC50({POTENCY}):lo" in table.columns
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()
