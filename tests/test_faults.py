"""Fault injection: corrupt, truncated, garbage and read-only caches heal; bad model cards are skipped and named.

Tests run as root here, where ``chmod`` does not stop writes: a read-only cache folder is simulated by a
write that raises ``OSError(EROFS)``; the real ``chmod`` test runs only for other users.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3

import numpy as np
import pandas as pd
import pytest

from tests.cards import make_card
from workbench import cache as cache_files
from workbench import retrieval
from workbench.cli import main
from workbench.conformers import ConformerCache, generate_conformers_batch
from workbench.models import CheckpointError, find_checkpoints, load_card, load_state_dicts
from workbench.retrieval import index as index_module
from workbench.retrieval import library as library_module

ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0


@pytest.fixture(autouse=True)
def fresh_cache_state():
    """No in-memory entries or unwritable folders carried between tests."""
    cache_files.reset()
    retrieval.clear_cache()
    yield
    cache_files.reset()
    retrieval.clear_cache()


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def read_only(*_args, **_kwargs):
    raise OSError(errno.EROFS, "Read-only file system")


# ---------------------------------------------------------------- the cache module itself


def test_garbage_entry_is_deleted_rebuilt_and_warned_about(tmp_path, caplog):
    path = tmp_path / "entry.json"
    builds = []

    def build():
        builds.append(1)
        return {"value": 42}

    def get():
        return cache_files.read_or_rebuild(
            path, lambda p: json.loads(p.read_text()), build, lambda p, v: p.write_text(json.dumps(v))
        )

    assert get() == {"value": 42} and len(builds) == 1
    assert get() == {"value": 42} and len(builds) == 1  # read back, not rebuilt
    path.write_bytes(b"\x00garbage\xff")
    with caplog.at_level(logging.WARNING):
        assert get() == {"value": 42}
    assert len(builds) == 2 and any(str(path) in w and "rebuilt" in w for w in warnings_of(caplog))
    assert json.loads(path.read_text()) == {"value": 42}


def test_an_entry_changed_behind_the_cache_fails_its_recorded_sha256(tmp_path, caplog):
    path = tmp_path / "entry.txt"

    def get():
        return cache_files.read_or_rebuild(path, lambda p: p.read_text(), lambda: "fresh", lambda p, v: p.write_text(v))

    get()
    path.write_text("stale")  # readable, but not what was written: only the sidecar can tell
    with caplog.at_level(logging.WARNING):
        assert get() == "fresh"
    assert warnings_of(caplog)


def test_a_failed_write_leaves_no_temporary_file(tmp_path):
    def fail(_tmp):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError):
        cache_files.atomic_write(tmp_path / "x.npz", fail)
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_keeps_values_in_memory_with_one_warning(tmp_path, caplog):
    def write(_p, _v):
        raise OSError(errno.ENOSPC, "No space left on device")

    builds = []
    with caplog.at_level(logging.WARNING):
        for name in ("a", "b", "a"):
            cache_files.read_or_rebuild(tmp_path / name, lambda p: p.read_text(), lambda: builds.append(1) or 1, write)
    assert len(builds) == 2  # "a" came back from memory
    assert len([w for w in warnings_of(caplog) if "cannot be written" in w]) == 1


# ---------------------------------------------------------------- retrieval embeddings


class FakeRetriever:
    """Embeds each SMILES as a one-hot row; counts how often it is asked."""

    model_hash = "f" * 64

    def __init__(self) -> None:
        self.calls = 0

    def embed_molecules(self, smiles, callback=None):
        self.calls += 1
        vectors = np.eye(len(smiles), 16, dtype=np.float32)
        return vectors, pd.DataFrame({"error": [""] * len(smiles), "smiles": list(smiles)})


LIBRARY = pd.DataFrame({"smiles": ["CCO", "c1ccccc1", "CC(=O)O"]})


def cached_files(cache):
    return sorted((cache / "retrieval").rglob("*.safetensors"))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_embedding_file_is_rebuilt_with_a_warning(data_dirs, caplog, damage):
    _, cache = data_dirs
    model = FakeRetriever()
    retrieval.embed_library(LIBRARY, model)
    (path,) = cached_files(cache)
    data = path.read_bytes()
    path.write_bytes({"garbage": os.urandom(len(data)), "truncated": data[: len(data) // 2], "empty": b""}[damage])
    retrieval.clear_cache()
    with caplog.at_level(logging.WARNING):
        lib = retrieval.embed_library(LIBRARY, model)
    assert model.calls == 2 and len(lib) == 3
    assert any(str(path) in w for w in warnings_of(caplog))
    vectors, meta = retrieval.load_index(path, model_hash=model.model_hash)  # rewritten whole
    assert vectors.shape == (3, 16) and meta["n"] == 3


def test_an_embedding_file_with_a_huge_header_is_refused_as_unreadable(tmp_path):
    path = tmp_path / "huge.safetensors"
    path.write_bytes((2**40).to_bytes(8, "little") + b"{}")
    with pytest.raises(ValueError, match="header"):
        retrieval.load_index(path)


def test_a_read_only_cache_folder_keeps_embeddings_in_memory_with_one_warning(data_dirs, caplog, monkeypatch):
    _, cache = data_dirs
    monkeypatch.setattr(index_module, "save_numpy", read_only)
    model = FakeRetriever()
    other = pd.DataFrame({"smiles": ["CCN", "CCCN"]})
    with caplog.at_level(logging.WARNING):
        assert len(retrieval.embed_library(LIBRARY, model)) == 3
        assert len(retrieval.embed_library(other, model)) == 2
        retrieval.clear_cache()  # a new page run: the embeddings come from memory, not a second embedding
        assert len(retrieval.embed_library(LIBRARY, model)) == 3
    assert model.calls == 2 and cached_files(cache) == []
    notes = [w for w in warnings_of(caplog) if "cannot be written" in w]
    assert len(notes) == 1 and str(cache) in notes[0]


@pytest.mark.skipif(ROOT_USER, reason="root writes into read-only folders; the monkeypatched test covers it")
def test_a_chmod_read_only_cache_folder_keeps_embeddings_in_memory(data_dirs, caplog):
    _, cache = data_dirs
    cache.chmod(0o555)
    try:
        with caplog.at_level(logging.WARNING):
            assert len(retrieval.embed_library(LIBRARY, FakeRetriever())) == 3
        assert any("cannot be written" in w for w in warnings_of(caplog))
    finally:
        cache.chmod(0o755)


def test_uploaded_libraries_embeddings_are_evicted_beyond_the_size_bound(data_dirs, monkeypatch):
    _, cache = data_dirs
    model = FakeRetriever()
    retrieval.embed_library(LIBRARY, model)
    (first,) = cached_files(cache)
    monkeypatch.setattr(library_module, "UPLOAD_CACHE_BYTES", first.stat().st_size + 1)
    os.utime(first, (1, 1))  # long unused
    retrieval.embed_library(pd.DataFrame({"smiles": ["CCN", "CCCN", "CCCCN"]}), model)
    remaining = cached_files(cache)
    assert len(remaining) == 1 and remaining != [first]
    assert not first.with_name(first.name + ".sha256").exists()


# ---------------------------------------------------------------- downloaded data


CHEBI_ROWS = "CID\tSMILES\tdescription\n1\tCCO\tThe molecule is ethanol.\n2\tCC(=O)O\tThe molecule is acetic acid.\n"


def test_a_corrupted_download_in_the_cache_is_downloaded_again(data_dirs, http_server, monkeypatch, caplog):
    from workbench.data import chebi20

    _, cache = data_dirs
    url, served = http_server
    for name in chebi20.CHEBI20_FILES:
        (served / name).write_text(CHEBI_ROWS)
    monkeypatch.setattr(chebi20, "CHEBI20_BASE", url)
    first = chebi20.load_chebi20(progress=False)
    cached = cache / "chebi20" / "test.txt"
    cached.write_text(CHEBI_ROWS[:40])  # truncated behind the cache's back
    with caplog.at_level(logging.WARNING):
        again = chebi20.load_chebi20(progress=False)
    pd.testing.assert_frame_equal(first.frame, again.frame)
    assert cached.read_text() == CHEBI_ROWS
    assert any(str(cached) in w for w in warnings_of(caplog))


# ---------------------------------------------------------------- conformer SQLite cache


def store_ethanol(path):
    return generate_conformers_batch(["CCO"], cache=path, n=2, optimize=None)


def test_a_garbage_conformer_cache_is_moved_aside_and_started_again(tmp_path, caplog):
    path = tmp_path / "conformers.sqlite"
    path.write_bytes(b"this is not a database" * 200)
    with caplog.at_level(logging.WARNING):
        table = store_ethanol(path)
    assert table.loc[0, "error"] == "" and len(ConformerCache(path)) == 1
    assert path.with_name(path.name + ".corrupt").read_bytes().startswith(b"this is not")
    assert any(str(path) in w for w in warnings_of(caplog))


def test_a_truncated_conformer_cache_is_started_again(tmp_path, caplog):
    path = tmp_path / "conformers.sqlite"
    generate_conformers_batch(["CCO", "CCCO", "CCCCO", "c1ccccc1O"], cache=path, n=2, optimize=None)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with caplog.at_level(logging.WARNING):
        table = store_ethanol(path)
    assert table.loc[0, "error"] == ""
    assert warnings_of(caplog)


def test_an_undecodable_conformer_entry_is_computed_again(tmp_path, caplog):
    path = tmp_path / "conformers.sqlite"
    store_ethanol(path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE ensembles SET data = ?", (b"garbage",))
    with caplog.at_level(logging.WARNING):
        table = store_ethanol(path)
    assert not table.loc[0, "cached"] and table.loc[0, "error"] == ""
    assert warnings_of(caplog)


def test_a_read_only_conformer_cache_keeps_new_ensembles_in_memory(tmp_path, caplog, monkeypatch):
    path = tmp_path / "conformers.sqlite"
    store_ethanol(path)
    monkeypatch.setattr(ConformerCache, "_connect", lambda self: sqlite3.connect(f"file:{self.path}?mode=ro", uri=True))
    store = ConformerCache(path)
    with caplog.at_level(logging.WARNING):
        first = generate_conformers_batch(["CCO", "CCCO"], cache=store, n=2, optimize=None)
        second = generate_conformers_batch(["CCO", "CCCO"], cache=store, n=2, optimize=None)
    assert first["cached"].tolist() == [True, False] and second["cached"].tolist() == [True, True]
    assert len([w for w in warnings_of(caplog) if "cannot be written" in w]) == 1


def test_conformers_cli_survives_a_garbage_cache(tmp_path, capsys):
    src, cache = tmp_path / "in.smi", tmp_path / "c.sqlite"
    src.write_text("CCO ethanol\n")
    cache.write_bytes(os.urandom(4096))
    out = tmp_path / "out.sdf"
    args = [
        "conformers",
        str(src),
        "-o",
        str(out),
        "-n",
        "2",
        "--force-field",
        "none",
        "--cache",
        str(cache),
        "--quiet",
    ]
    assert main(args) == 0
    assert out.is_file() and len(ConformerCache(cache)) == 1


# ---------------------------------------------------------------- model cards and weights


def write_good(root, name="good"):
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "seed0.safetensors").write_bytes(b"\x00" * 16)
    card = make_card(name).to_dict()
    (folder / "card.json").write_text(json.dumps(card))
    return folder


def write_bad_cards(root):
    """Bad cards beside good ones: invalid UTF-8, deep nesting, a 10-million-wide GIN. Returns their folders."""
    good = json.dumps(make_card("x").to_dict())
    folders = {}
    for name in ("bad_utf8", "deep", "wide"):
        folders[name] = root / name
        folders[name].mkdir()
    (folders["bad_utf8"] / "card.json").write_bytes(
        good.replace('"name": "x"', '"name": "bad_utf8"').encode()[:-1] + b"\xff}"
    )
    (folders["deep"] / "card.json").write_text("[" * 100_000 + "]" * 100_000)
    wide = good.replace('"name": "x"', '"name": "wide"').replace(
        '"architecture": {"type": "feature_mlp", "config": {}}',
        '"architecture": {"type": "gin", "config": {"n_tasks": 1, "num_layer": 5, "emb_dim": 1e7}}',
    )
    assert "1e7" in wide
    (folders["wide"] / "card.json").write_text(wide)
    return folders


def test_bad_cards_are_skipped_and_named_while_good_ones_load(tmp_path):
    write_good(tmp_path, "alpha")
    bad = write_bad_cards(tmp_path)
    write_good(tmp_path, "omega")
    found, problems = find_checkpoints([tmp_path])
    assert [c.name for c in found] == ["alpha", "omega"]
    assert len(problems) == 3
    for folder, words in ((bad["bad_utf8"], "UTF-8"), (bad["deep"], "deeper"), (bad["wide"], "emb_dim")):
        (line,) = [p for p in problems if str(folder / "card.json") in p]
        assert words in line and "\n" not in line


def test_architecture_sizes_are_bounded_before_anything_is_allocated(tmp_path):
    folder = write_bad_cards(tmp_path)["wide"]
    with pytest.raises(CheckpointError, match=r"emb_dim.*maximum"):
        load_card(folder)


def test_models_list_prints_good_models_and_names_the_skipped_cards(models_dir, capsys):
    write_good(models_dir)
    bad = write_bad_cards(models_dir)
    assert main(["models", "list"]) == 0
    out, err = capsys.readouterr()
    assert "good" in out and "bad_utf8" not in out
    assert all(str(folder / "card.json") in err for folder in bad.values())


def huge_header_checkpoint(root):
    folder = write_good(root, "huge")
    weights = folder / "seed0.safetensors"
    weights.write_bytes((2**40).to_bytes(8, "little") + b'{"w": {}}')
    import hashlib

    card = make_card("huge").to_dict()
    card["weights"][0]["sha256"] = hashlib.sha256(weights.read_bytes()).hexdigest()
    (folder / "card.json").write_text(json.dumps(card))
    return folder


def test_a_huge_safetensors_header_is_refused_in_one_sentence(tmp_path):
    folder = huge_header_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="safetensors header") as info:
        load_state_dicts(folder)
    assert str(folder / "seed0.safetensors") in str(info.value) and "\n" not in str(info.value)


def test_predict_cli_refuses_a_huge_header_without_a_traceback(models_dir, tmp_path, capsys):
    huge_header_checkpoint(models_dir)
    src = tmp_path / "in.csv"
    src.write_text("smiles\nCCO\n")
    assert main(["predict", str(src), "--models", "huge", "-o", str(tmp_path / "o.csv"), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "safetensors header" in err and "Traceback" not in err


@pytest.mark.slow
def test_model_zoo_page_lists_good_models_and_names_the_skipped_cards(models_dir):
    from tests.conftest import app_test

    write_good(models_dir)
    bad = write_bad_cards(models_dir)
    at = app_test("model_zoo.py")
    assert "good" in at.dataframe[0].value["name"].tolist()
    skipped = at.code[0].value
    assert all(str(folder / "card.json") in skipped for folder in bad.values())
    assert "skipped" in at.warning[0].value
