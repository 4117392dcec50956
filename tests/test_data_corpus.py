"""The pretraining corpus: failures counted, duplicates dropped, test molecules removed, resumable, subsets."""

import csv
import json

import pytest
from rdkit import Chem

import workbench.data.corpus as corpus_module
from workbench.cli import main
from workbench.data.corpus import build_corpus, corpus_subset, load_corpus_info, read_corpus_smiles
from workbench.data.corpus_sources import Source
from workbench.data.prepared import prepare

RINGS = ["c1ccccc1", "C1CCCCC1", "c1ccncc1", "C1CCNCC1", "c1ccoc1", "c1ccsc1", "C1CCOC1", "c1ccc2ccccc2c1"]


@pytest.fixture
def bbbp(data_dirs):
    """A 64-molecule BBBP table (8 scaffolds) and its scaffold split's train and test SMILES."""
    rows = ["smiles,p_np"] + [f"{ring}{'C' * (n + 1)}N,{n % 2}" for ring in RINGS for n in range(8)]
    (data_dirs[0] / "BBBP.csv").write_text("\n".join(rows) + "\n")
    prep = prepare("bbbp", "scaffold")
    return [prep.smiles[i] for i in prep.split.train], [prep.smiles[i] for i in prep.split.test]


def _source(name, smiles):
    return Source(name, lambda: iter(list(smiles)))


def _rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def _key(smiles):
    return Chem.MolToInchiKey(Chem.MolFromSmiles(smiles))


def test_corpus_counts_failures_drops_duplicates_and_test_molecules(bbbp, tmp_path):
    train, test = bbbp
    test_as_salt = f"{Chem.MolToSmiles(Chem.MolFromSmiles(test[0]), doRandom=True)}.Cl"  # same molecule, other text
    first = ["CCO", "OCC", "not_a_smiles", "C$C", "", "c1ccccc1O", train[0], test_as_salt]
    second = ["Oc1ccccc1", "CCCC", test[1], "*CC"]
    info = build_corpus(
        tmp_path / "corpus",
        sources=[_source("first", first), _source("second", second)],
        test_sets=["bbbp"],
        workers=1,
        chunk_size=3,
        log=lambda _m: None,
    )
    kept = _rows(info.path)
    assert [r["smiles"] for r in kept] == ["CCO", "Oc1ccccc1", Chem.MolToSmiles(Chem.MolFromSmiles(train[0])), "CCCC"]
    assert [r["source"] for r in kept] == ["first", "first", "first", "second"]
    assert all(r["inchikey"] == _key(r["smiles"]) for r in kept)
    report = json.loads(info.path.with_suffix(".json").read_text())
    a, b = report["sources"]
    assert (a["rows"], a["parse_failures"], a["featurize_failures"], a["duplicates"], a["test_removed"], a["kept"]) == (
        8,
        2,
        1,
        1,
        1,
        3,
    )
    assert (b["rows"], b["parse_failures"], b["duplicates"], b["test_removed"], b["kept"]) == (4, 1, 1, 1, 1)
    removed = report["removed_test_molecules"]
    assert removed["molecules"] == 2 and removed["rows"] == 2
    assert removed["per_dataset"]["bbbp"] == {"test_molecules": len(test), "in_sources": 2}
    assert report["corpus"] == {"file": "corpus.csv", "sha256": info.sha256, "molecules": 4}
    assert report["totals"]["rows"] == 12 and report["totals"]["kept"] == 4
    failures = _rows(tmp_path / "corpus" / "failures.csv")
    assert [(f["source"], f["row"], f["stage"]) for f in failures] == [
        ("first", "2", "parse"),
        ("first", "3", "featurize"),
        ("first", "4", "parse"),
        ("second", "3", "parse"),
    ]
    assert "quadruple" in failures[1]["error"]
    assert not (tmp_path / "corpus" / "chunks").exists()  # intermediate chunks are gone once merged


def test_an_interrupted_build_resumes_from_its_finished_chunks(bbbp, tmp_path, monkeypatch):
    smiles = [f"C{'C' * n}O" for n in range(10)] + ["CCO", "bad("]
    sources = [_source("s", smiles)]
    reference = build_corpus(tmp_path / "ref", sources=sources, test_sets=["bbbp"], workers=1, chunk_size=3)
    real = corpus_module.process_smiles
    calls = []

    def dies_on_third_chunk(chunk):
        calls.append(list(chunk))
        if len(calls) == 3:
            raise KeyboardInterrupt  # as if the job were killed here
        return real(chunk)

    monkeypatch.setattr(corpus_module, "process_smiles", dies_on_third_chunk)
    out = tmp_path / "resumed"
    with pytest.raises(KeyboardInterrupt):
        build_corpus(out, sources=sources, test_sets=["bbbp"], workers=1, chunk_size=3, log=lambda _m: None)
    assert len(list((out / "chunks" / "s").glob("*.csv"))) == 2
    calls.clear()
    info = build_corpus(out, sources=sources, test_sets=["bbbp"], workers=1, chunk_size=3, log=lambda _m: None)
    assert calls == [smiles[6:9], smiles[9:12]]  # only the chunks that were not finished
    assert info.sha256 == reference.sha256 and info.molecules == 10
    report = info.report
    assert report["totals"]["duplicates"] == 1 and report["totals"]["parse_failures"] == 1
    assert len(report["segments"]) == 2 and report["wall_time_s"] >= report["segments"][0]["wall_time_s"]


def test_a_finished_corpus_is_reused_and_checked_against_its_sha256(bbbp, tmp_path):
    out = tmp_path / "c"
    info = build_corpus(out, sources=[_source("s", ["CCO", "CCN"])], test_sets=["bbbp"], workers=1)
    again = build_corpus(out, sources=[_source("s", ["CCCl"])], test_sets=["bbbp"], workers=1)
    assert again.sha256 == info.sha256 and read_corpus_smiles(again.path) == ["CCO", "CCN"]
    info.path.write_text(info.path.read_text() + "CCCC,X,s\n")
    with pytest.raises(ValueError, match="sha256"):
        load_corpus_info(out)


def test_subsets_are_seeded_samples_in_file_order(bbbp, tmp_path):
    smiles = [f"C{'C' * n}N" for n in range(12)]
    info = build_corpus(tmp_path / "c", sources=[_source("s", smiles)], test_sets=["bbbp"], workers=1)
    a, b, c = corpus_subset(info, 5, seed=0), corpus_subset(info, 5, seed=0), corpus_subset(info, 5, seed=1)
    assert a.sha256 == b.sha256 and a.sha256 != c.sha256
    picked = read_corpus_smiles(a.path)
    assert len(picked) == 5 and picked == [s for s in read_corpus_smiles(info.path) if s in picked]
    assert a.report["parent"]["sha256"] == info.sha256 and load_corpus_info(a.path.parent, a.path.name).molecules == 5
    with pytest.raises(ValueError, match="12 molecules"):
        corpus_subset(info, 13)


def test_cli_builds_the_corpus_and_a_subset(bbbp, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(
        corpus_module, "default_sources", lambda: ([_source("s", ["CCO", "CCN", "CCC", "x("])], ["chebi20: absent"])
    )
    out = tmp_path / "c"
    assert main(["data", "corpus", "--out", str(out), "--workers", "1", "--molecules", "2", "--seed", "3"]) == 0
    text = capsys.readouterr().out
    assert "3 molecules" in text and "1 unparsable" in text and "subset:" in text
    report = json.loads((out / "corpus.json").read_text())
    assert report["unavailable"] == ["chebi20: absent"]
    assert "tox21" in report["removed_test_molecules"]["missing_datasets"]  # not on disk: reported, not fatal
    assert len(read_corpus_smiles(out / "corpus-2-seed3.csv")) == 2
