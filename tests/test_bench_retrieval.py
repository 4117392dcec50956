"""The retrieval benchmark: one runner over configurations, and a report rebuilt from the committed records."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from bench import retrieval as bench
from bench import retrieval_report as report

KEYS = [key for key, _ in report.COLUMNS]


def test_ablation_rows_are_cumulative_and_variants_keep_the_shipped_loss():
    ablation = bench.configurations("ablation")
    assert [(c.split, c.row) for c in ablation[:4]] == [("cid", row) for row in bench.ABLATION]
    assert {c.split for c in ablation} == {"cid", "scaffold"} and len(ablation) == 8
    flags = [(c.overrides["s2p"], c.overrides["augment"], c.overrides["er"]) for c in ablation[:4]]
    assert flags == [(False, False, False), (True, False, False), (True, True, False), (True, True, True)]
    variants = bench.configurations("variants", rows=["frozen MiniLM, GIN 5×300 from bace_gin"])
    assert len(variants) == 1 and variants[0].split == "cid"
    assert variants[0].overrides == {**bench.VARIANT_BASE, "num_layer": 5, "emb_dim": 300, "init_encoder": "bace_gin"}
    assert variants[0].reference == "frozen MiniLM, GIN 5×300 from scratch"
    with pytest.raises(ValueError, match="unknown variants rows"):
        bench.configurations("variants", rows=["no such row"])


def test_report_only_rebuilds_the_committed_report(tmp_path):
    out = tmp_path / "retrieval.md"
    report.write_report(out=out)
    assert out.read_text() == report.RESULTS.read_text()


def _run_record(seed: int, mrr: float) -> dict:
    return {
        "group": "variants",
        "row": "frozen MiniLM, GIN 3×256",
        "split": "cid",
        "seed": seed,
        "epochs": 2,
        "config": {"num_layer": 3, "emb_dim": 256, "batch_size": 8, "threads": 1},
        "sizes": [10, 2, 2],
        "valid_mrr": mrr,
        "seconds_per_epoch": 1.0,
        "test": dict.fromkeys(KEYS, mrr),
        "machine": {"processor": "cpu", "cpu_count": 4, "torch_threads": 1, "load_average_1min": 0.5},
    }


def test_records_of_real_runs_replace_transcribed_ones(tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    transcribed = {**_run_record(0, 0.9), "source": "transcribed from an old report"}
    for name, record in {"old": transcribed, "a": _run_record(0, 0.4), "b": _run_record(1, 0.6)}.items():
        (cache / f"{name}.json").write_text(json.dumps(record))
    text = report.write_report(cache=cache, out=tmp_path / "r.md")
    row = next(line for line in text.splitlines() if line.startswith("| frozen MiniLM, GIN 3×256 | 0,1 |"))
    assert "0.500 ± 0.100" in row and "0.900" not in row
    assert "batch 8" in text and "on a 4-core machine (cpu)" in text and "transcribed" not in text
    assert "## random split" not in text  # no ablation records: no ablation section


def test_the_runner_skips_configurations_that_already_have_a_record(tmp_path):
    config = bench.configurations("ablation", splits=["cid"], rows=["InfoNCE"])[0]
    path = bench.record_path(config, seed=0, epochs=3, cache=tmp_path)
    path.write_text("{}")
    assert bench.run([config], seeds=[0], epochs=3, cache=tmp_path) == []  # nothing trained, no corpus loaded
    assert Path(path).read_text() == "{}"


def test_a_run_writes_one_small_record_that_the_report_reads(tmp_path, monkeypatch):
    import workbench.retrieval.corpus as corpora
    from tests.retrieval_fixtures import pairs_frame
    from workbench.nn.text_backbone import HashingBackbone

    corpus = corpora.prepare_corpus(pairs_frame(), HashingBackbone(16), cache_dir=None, log=lambda _m: None)
    monkeypatch.setattr(corpora, "prepare_corpus", lambda **_: corpus)
    tiny = {"num_layer": 2, "emb_dim": 16, "proj_dim": 8, "batch_size": 8}
    configs = [
        replace(c, overrides={**c.overrides, **tiny})
        for c in bench.configurations("ablation", splits=["cid"], rows=["InfoNCE", "+ S2P"])
    ]
    written = bench.run(configs, seeds=[0], epochs=1, cache=tmp_path)
    assert [p.name for p in written] == ["ablation__cid__infonce__seed0__e1.json", "ablation__cid__s2p__seed0__e1.json"]
    record = json.loads(written[1].read_text())
    assert record["config"]["s2p"] and record["config"]["emb_dim"] == 16 and record["machine"]["cpu_count"]
    assert set(record["test"]) == set(record["valid"]) >= {"mol2text_mrr", "text2mol_mrr", "text2mol_r10"}
    assert written[1].stat().st_size < 4000
    text = report.write_report(cache=tmp_path, out=tmp_path / "r.md")
    assert "GIN 2×16 from scratch" in text and "batch 8" in text and "1 epochs" in text
    assert "| InfoNCE | 1 | 0 |" in text and "| + augmentation | — | not run |" in text


def test_tower_rows_and_their_late_fusions():
    assert bench.tower_overrides("gin") == {"towers": ["gin"]}
    attrmask = bench.tower_overrides("gin_attrmask")
    assert attrmask == {"towers": ["gin"], "num_layer": 5, "emb_dim": 300, "init": "models/encoders/attrmask"}
    fused = bench.tower_overrides("minimol+gin_attrmask")
    assert fused["towers"] == ["minimol", "gin"] and fused["num_layer"] == 5
    assert bench.tower_overrides("ecfp_rdkit2d")["towers"] == ["ecfp4+rdkit2d"]
    for bad in ("nope", "gin+gin_attrmask", "gin+minimol+ecfp_rdkit2d", "gin+gin"):
        with pytest.raises(ValueError):
            bench.tower_overrides(bad)
    path = bench.tower_record_path("minimol+gin", 1, 0, 16, "class_auc", Path("x"))
    assert path == Path("x/cid__minimol_gin__text1__class_auc__seed0__e16.json")


def _class_block(auc: float) -> dict:
    summary = {"classes": 2, "mean_roc_auc": auc, "mean_average_precision": 0.2, "mean_prevalence": 0.01}
    rows = [
        {"query": "a steroid", "members": 5, "roc_auc": auc, "average_precision": 0.2, "prevalence": 0.01},
        {"query": "an alkaloid", "members": 6, "roc_auc": auc, "average_precision": 0.2, "prevalence": 0.01},
    ]
    return {"summary": summary, "molecules": 500, "per_class": rows}


def _evaluation(auc: float) -> dict:
    drugs = [
        {"key": key, "query": f"q {key}", "members_in_top": n, "k": 10, "top": ["A *", "B"], "best_score": 0.5}
        for key, n in (("ache", 3), ("nsaid", 0), ("beta_lactam", 4))
    ]
    nonsense = {"best_score": 0.3, "best_percentile": 90.0, "strong": False, "strong_percentile": 99.0}
    return {
        "classes": {"valid": _class_block(auc), "test": _class_block(auc - 0.01)},
        "drugs": drugs,
        "nonsense": {**nonsense, "strong_score": 0.5, "query": "x", "message": "m"},
    }


def test_report_gains_the_class_test_and_the_tower_comparison(tmp_path):
    cache = tmp_path / "cache"
    (cache / "classes").mkdir(parents=True)
    (cache / "towers").mkdir()
    (cache / "classes" / "model_a.json").write_text(json.dumps({"model": "model_a", **_evaluation(0.76)}))
    for seed, auc in ((0, 0.80), (1, 0.84)):
        record = {
            "tower": "minimol", "text_layers": 1, "select": "class_auc", "epochs": 2, "seed": seed,
            "seconds_per_epoch": 10.0, "valid_mrr": 0.5, "test": {"text2mol_mrr": 0.4},
            "machine": {"cpu_count": 2, "torch_threads": 1}, **_evaluation(auc),
        }  # fmt: skip
        (cache / "towers" / f"cell{seed}.json").write_text(json.dumps(record))
    text = report.write_report(cache=cache, out=tmp_path / "r.md")
    assert "| model_a | valid | 500 | 2 | 0.760 | 0.200 | 0.010 |" in text
    assert "| model_a | q ache | 3 / 10 | 0.500 | — | A *; B |" in text
    assert "**no strong match**" in text
    row = next(line for line in text.splitlines() if line.startswith("| minimol | 1 | class_auc | 2 | 0,1 |"))
    assert "| 0.820 ± 0.020 | 0.810 ± 0.020 |" in row and "| 3/3 · 0/0 · 4/4 | 90 (none), 90 (none) |" in row
    assert "Best on validation (mean class ROC-AUC over seeds, among the settings run with 2 seeds): minimol, 1" in text
    assert "### model_a, test molecules: per class" in text


def test_machine_line_names_each_machine_once_with_its_load_range():
    machine = {"torch_threads": 1, "cpu_count": 2, "processor": "x86_64"}
    records = [{"machine": {**machine, "load_average_1min": load}} for load in (1.07, 3.66, 2.5)]
    records.append({"machine": {**machine, "cpu_count": 16, "load_average_1min": 0.5}})
    text = report._machines(records)
    assert text.count("2-core machine") == 1
    assert "1-min load average 1.07–3.66 at the start (3 runs)" in text
    assert "16-core machine (x86_64), 1-min load average 0.5 at the start" in text


def test_the_verdict_says_by_how_much_a_model_misses_the_bar():
    assert "it meets the issue's bar" in report._verdict("X", 0.82, "Y", 0.76)
    assert "(+0.041): it misses by 0.009" in report._verdict("X", 0.804, "Y", 0.763)
    assert "it misses by 0.010" in report._verdict("X", 0.79, "Y", 0.70)  # far above Y, but under 0.80


def test_a_reshipped_model_is_measured_against_the_previous_one_kept_with_its_card_summary(tmp_path):
    summary = {
        "command": "workbench train retrieval --old", "description": "old", "valid_mrr": 0.56,
        "test_text2mol_mrr": 0.58, "text_trainable_layers": 1, "select": "mrr", "epochs": 16, "towers": ["gin"],
    }  # fmt: skip
    previous = {"model": "old_amole", "previous": "retrieval_amole", "card_summary": summary, **_evaluation(0.77)}
    shipped_summary = {**summary, "command": "workbench train retrieval --new", "select": "class_auc"}
    shipped = {"model": "retrieval_amole", "card_summary": shipped_summary, **_evaluation(0.83)}
    cell = {
        "tower": "minimol", "text_layers": 0, "select": "class_auc", "epochs": 16, "seed": 0,
        "seconds_per_epoch": 1.0, "valid_mrr": 0.4, "test": {"text2mol_mrr": 0.4}, **_evaluation(0.83),
    }  # fmt: skip
    text = "\n".join(report.towers_section([cell], shipped, previous))
    assert "| **old_amole** (gin, shipped before: `workbench train retrieval --old`) | 1 | mrr | 16 |" in text
    assert "| **retrieval_amole** (gin, shipped: `workbench train retrieval --new`) | 1 | class_auc |" in text
    assert "The shipped model scores 0.820 test class ROC-AUC, the model shipped before 0.760" in text
    assert "(+0.060): it meets the issue's bar" in text


def test_a_one_seed_cell_is_compared_with_the_best_on_its_own_seed_not_with_a_mean():
    def cell(tower: str, layers: int, seed: int, auc: float) -> dict:
        return {
            "tower": tower, "text_layers": layers, "select": "class_auc", "epochs": 4, "seed": seed,
            "seconds_per_epoch": 1.0, "valid_mrr": 0.4, "test": {"text2mol_mrr": 0.4}, **_evaluation(auc),
        }  # fmt: skip

    records = [cell("minimol", 0, 0, 0.84), cell("minimol", 0, 1, 0.80), cell("minimol", 2, 0, 0.83)]
    text = "\n".join(report.towers_section(records))
    assert "among the settings run with 2 seeds): minimol, 0 text layer(s), select class_auc, 4 epochs (0.820)" in text
    assert "minimol, 2 text layer(s), select class_auc, 4 epochs: 0.830 vs 0.840 (seed 0)" in text
