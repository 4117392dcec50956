"""The molecule dossier: every section for aspirin with a tiny model, escaping, degraded sections, no URLs."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import workbench.models.registry as registry
from tests.tiny_model import train_tiny_checkpoint
from workbench import conformers
from workbench.predict import inference, percentiles
from workbench.predict.percentile_svg import radar_svg
from workbench.report import SECTIONS, build_dossier, render_html, write_dossier
from workbench.report import html as report_html

ASPIRIN = "CC(=O)Oc1ccccc1C(=O)O"
DRUGS = ["CC(=O)Nc1ccc(O)cc1", "CN1C=NC2=C1C(=O)N(C)C(=O)N2C", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "OCCN", "CCCCCCCC"]
NASTY = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def tiny_registry(tmp_path_factory):
    """Only the tiny two-task model is registered (the shipped checkpoints, retrieval included, are hidden)."""
    folder = tmp_path_factory.mktemp("report") / "models"
    folder.mkdir()
    train_tiny_checkpoint(folder, name="tiny_mlp")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_MODELS_DIR", str(folder))
        mp.setattr(registry, "models_dirs", lambda: [folder])
        # a small approved-drug reference keeps the tiny model's percentiles quick to compute
        mp.setattr(percentiles, "load_approved_drugs", lambda: SimpleNamespace(frame=pd.DataFrame({"smiles": DRUGS})))
        inference.clear_cache()
        yield folder
        inference.clear_cache()


@pytest.fixture(scope="module")
def aspirin(tiny_registry):
    dossier = build_dossier(ASPIRIN, ["tiny_mlp"])
    return dossier, render_html(dossier)


def _section(page: str, key: str) -> str:
    match = re.search(rf'<section id="{key}">(.*?)</section>', page, flags=re.S)
    assert match, f"section {key} missing"
    return match.group(1)


@pytest.mark.slow
def test_every_section_has_its_heading_in_page_order(aspirin):
    _, page = aspirin
    headings = re.findall(r"<h2>(.*?)</h2>", page)
    assert headings == list(SECTIONS.values())


@pytest.mark.slow
def test_identifiers_descriptors_and_predictions_of_aspirin(aspirin):
    dossier, page = aspirin
    assert dossier.identifiers["InChIKey"] == "BSYNRYMUTXBXSQ-UHFFFAOYSA-N"
    assert dossier.identifiers["Formula"] == "C9H8O4"
    assert dossier.identifiers["InChI"].startswith("InChI=1S/C9H8O4/")
    assert dossier.descriptors["MW"] == 180.16 and dossier.descriptors["HBD"] == 1
    by_task = {p.task: p for p in dossier.predictions}
    assert set(by_task) == {"has_nitrogen", "carbons"}
    assert 0.0 <= by_task["has_nitrogen"].value <= 1.0 and by_task["has_nitrogen"].kind == "classification"
    assert by_task["carbons"].units == "count" and by_task["carbons"].spread is not None  # two members
    assert "BSYNRYMUTXBXSQ-UHFFFAOYSA-N" in _section(page, "identifiers")
    assert "has_nitrogen" in _section(page, "predictions") and "± " in _section(page, "predictions")
    assert "Standardization changed nothing" in _section(page, "standardization")


@pytest.mark.slow
def test_views_are_inline_images_and_missing_data_says_how_to_get_it(aspirin):
    dossier, page = aspirin
    assert dossier.attribution.model == "tiny_mlp" and dossier.attribution.task == "has_nitrogen"
    assert dossier.attribution.image.startswith(b"\x89PNG")
    assert "data:image/png;base64," in _section(page, "attribution")
    for key in ("structure", "conformer", "percentiles"):
        assert "data:image/svg+xml;base64," in _section(page, key), key
    assert dossier.conformer.seed == 42 and dossier.conformer.n_conformers >= 1
    assert len(dossier.percentiles) == 2 and dossier.percentiles["percentile"].between(0, 100).all()
    assert "percentile bars" in _section(page, "percentiles")  # two tasks: bars, not a radar
    # the tiny model's data file is not on disk: the neighbours section says where to put it
    assert "WORKBENCH_DATA_DIR" in _section(page, "neighbours")
    assert "not available here" in dossier.problems["descriptions"]  # no retrieval model registered
    assert np.isnan(dossier.domain.loc[0, "AD"]) and "unknown" in _section(page, "domain")


@pytest.mark.slow
def test_versions_name_each_weight_file_with_its_sha256(aspirin, tiny_registry):
    from workbench.models import load_card

    dossier, page = aspirin
    card = load_card(tiny_registry / "tiny_mlp")
    assert dossier.models[0].name == "tiny_mlp"
    assert dossier.models[0].weights == tuple((w.file, w.sha256) for w in card.weights)
    versions = _section(page, "versions")
    assert all(w.sha256 in versions for w in card.weights) and dossier.workbench_version in versions


@pytest.mark.slow
def test_the_page_references_nothing_outside_itself(aspirin):
    _, page = aspirin
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    assert re.findall(r'src="([^"]*)"', page) and all(
        s.startswith("data:image/") for s in re.findall(r'src="([^"]*)"', page)
    )


def test_a_malicious_name_and_input_are_escaped(tiny_registry):
    page = render_html(build_dossier("CCO", [], name=NASTY, conformers=False))
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    bad = render_html(build_dossier(NASTY, []))
    assert "<script>" not in bad and "<img src=x" not in bad and "Cannot use this input" in bad


def test_a_failing_section_becomes_one_sentence_and_the_rest_still_renders(tiny_registry, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("the embedder\nexploded")

    monkeypatch.setattr(conformers, "generate_conformers", broken)
    dossier = build_dossier("CCO", [], conformers=True)
    assert dossier.problems["conformer"] == "This section could not be built: the embedder exploded."
    monkeypatch.setitem(report_html._BODIES, "descriptors", broken)
    page = render_html(dossier)
    assert "This section could not be built: the embedder exploded." in _section(page, "conformer")
    assert "This section could not be drawn: the embedder exploded" in _section(page, "descriptors")
    assert "data:image/svg+xml" in _section(page, "structure") and "C2H6O" in _section(page, "identifiers")
    assert "Traceback" not in page


def test_without_models_the_model_sections_say_so(tiny_registry):
    dossier = build_dossier("CCO", ["no_such_model"], conformers=False)
    assert "no_such_model: not loaded" in dossier.notes["predictions"][0]
    for key in ("predictions", "domain", "neighbours", "percentiles", "attribution"):
        assert dossier.problems[key] == "No model could be loaded, so there is nothing to show here."


def test_radar_has_one_spoke_per_value_and_needs_three():
    svg = radar_svg(["a", "b", "<c>"], [10.0, 50.0, 100.0])
    assert svg.count("<line ") == 3 and "&lt;c&gt;" in svg
    assert len(re.search(r'points="([^"]*)"', svg).group(1).split()) == 3
    with pytest.raises(ValueError):
        radar_svg(["a", "b"], [1.0, 2.0])


def test_write_dossier_writes_the_html(tiny_registry, tmp_path):
    path = tmp_path / "d.html"
    dossier = write_dossier("CCN", path, [], conformers=False)
    assert path.read_text(encoding="utf-8") == render_html(dossier)
