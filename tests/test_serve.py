"""``python -m workbench.app.serve``: the app's launcher, and a shared deep link as a fresh server's first request."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import BROWSER_SETUP_S, CHROMIUM, ROOT, _free_port, fresh_home_env


def test_the_launcher_turns_off_streamlits_legacy_pages_folder_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    from streamlit.runtime.pages_manager import PagesManager

    from workbench.app.serve import APP, disable_legacy_pages_folder

    monkeypatch.setattr(PagesManager, "uses_pages_directory", None)
    assert disable_legacy_pages_folder() is True  # False would mean this Streamlit renamed the flag
    assert PagesManager.uses_pages_directory is False
    assert APP == ROOT / "app.py" and (APP.parent / "pages").is_dir()


# waits: server 60 + page 90 = 150 s
@pytest.mark.timeout(BROWSER_SETUP_S + 150)
@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (.ci/run installs it)")
def test_the_launcher_s_worker_variable_is_the_minimol_worker_s() -> None:
    from workbench.app.serve import WORKER_VARIABLE
    from workbench.featurizers.minimol_worker import WORKER_VARIABLE as WORKER_MODULE_VARIABLE

    assert WORKER_VARIABLE == WORKER_MODULE_VARIABLE


def test_a_deep_link_as_a_fresh_servers_first_request_opens_its_page(tmp_path, browser) -> None:
    """``streamlit run app.py`` showed "Page not found" and a blank page for this first request."""
    port = _free_port()
    env = fresh_home_env(tmp_path / "home")
    command = [sys.executable, "-m", "workbench.app.serve", "--server.port", str(port)]
    command += ["--server.address", "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"]
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.time() + 60
            while True:
                try:
                    with urllib.request.urlopen(url + "/_stcore/health", timeout=2):
                        break
                except OSError:
                    assert time.time() < deadline and server.poll() is None, "the app did not start"
                    time.sleep(0.5)
            page = browser.new_page()  # the session's Chromium (a second sync_playwright cannot start)
            try:
                page.goto(url + "/model-zoo?smiles=CCO")  # nobody has opened the app before
                page.get_by_role("heading", name="Model zoo").first.wait_for(timeout=90_000)
                assert page.get_by_text("Page not found").count() == 0
                assert "/model-zoo" in page.url
            finally:
                page.close()
        finally:
            server.terminate()
            server.wait(timeout=20)
