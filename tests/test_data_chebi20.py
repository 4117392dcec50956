import pytest

from workbench.data import chebi20


def test_corpus_concatenates_both_files_with_their_origin(data_dirs):
    data, _ = data_dirs
    folder = data / "chebi20"
    folder.mkdir()
    (folder / "validation.txt").write_text("CID\tSMILES\tdescription\n1\tCCO\tThe molecule is ethanol.\n")
    (folder / "test.txt").write_text("CID\tSMILES\tdescription\n2\tCCN\tThe molecule is ethylamine.\n")
    ds = chebi20.load_chebi20()
    assert ds.frame["cid"].tolist() == [1, 2]
    assert ds.frame["source_split"].tolist() == ["validation", "test"]
    assert ds.frame["description"].iloc[1] == "The molecule is ethylamine."


def test_missing_corpus_downloads_from_the_official_location(data_dirs, http_server, monkeypatch):
    url, root = http_server
    for name in chebi20.CHEBI20_FILES:
        (root / name).write_text("CID\tSMILES\tdescription\n7\tC\tThe molecule is methane.\n")
    monkeypatch.setattr(chebi20, "CHEBI20_BASE", url)
    assert len(chebi20.load_chebi20(progress=False)) == 2


def test_no_download_when_not_allowed(data_dirs):
    with pytest.raises(FileNotFoundError, match=r"validation\.txt"):
        chebi20.load_chebi20(download_missing=False)
