"""The molecule-dossier widget on Home: a button on first view, the HTML download only after a click."""

from __future__ import annotations

import pytest

from tests.conftest import app_test


def _downloads(at) -> list[str]:
    return [element.proto.label for element in at.get("download_button")]


@pytest.mark.slow
def test_home_offers_the_dossier_button_and_builds_nothing_before_a_click():
    at = app_test(timeout=60)
    assert at.button(key="home_dossier_build").label == "Build dossier"
    assert "Download dossier (HTML)" not in _downloads(at)


@pytest.mark.slow
def test_a_click_builds_the_dossier_of_the_home_molecule(models_dir):
    at = app_test(timeout=120)
    at.button(key="home_dossier_build").click().run()
    assert not at.exception and not at.error
    assert "Download dossier (HTML)" in _downloads(at)
    _, page, name, _ = at.session_state["home_dossier_html"]
    assert name == "dossier-BSYNRYMUTXBXSQ-UHFFFAOYSA-N.html"
    assert "<h2>Structure</h2>" in page and "CC(=O)Oc1ccccc1C(=O)O" in page
