"""RDKit 2D rows kept on disk for the approved-drug reference (saving a descriptor model in a new process)."""

import numpy as np
import pytest
from rdkit import Chem

from tests.test_feature_sets import _fresh_descriptor_rows, mols  # noqa: F401  (autouse fixture)
from workbench.featurizers import descriptors
from workbench.featurizers.descriptor_store import descriptor_rows_on_disk, rows_file
from workbench.featurizers.descriptors import rdkit2d_raw

NAMES = ("MolWt", "TPSA", "MolLogP")
SMILES = ["CCO", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O"]


@pytest.fixture
def counted(monkeypatch) -> list[str]:
    """Every call of MolWt, by molecule; the values stay RDKit's."""
    calls: list[str] = []
    real = descriptors.descriptor_functions()["MolWt"]

    def molwt(mol):
        calls.append(Chem.MolToSmiles(mol))
        return real(mol)

    monkeypatch.setitem(descriptors.descriptor_functions(), "MolWt", molwt)
    return calls


def test_rows_computed_in_a_block_are_read_back_by_a_new_process_without_computing(tmp_path, counted):
    with descriptor_rows_on_disk(tmp_path):
        first, _ = rdkit2d_raw(mols(SMILES), names=NAMES)
    assert len(counted) == 3 and rows_file(tmp_path, NAMES).is_file()
    descriptors.clear_descriptor_cache()  # what a new process starts with
    with descriptor_rows_on_disk(tmp_path):
        again, failed = rdkit2d_raw(mols(SMILES[::-1]), names=NAMES)
    assert len(counted) == 3, "a stored row was computed again"
    np.testing.assert_array_equal(again, first[::-1])
    assert failed == [[], [], []]


def test_a_new_molecule_is_added_to_the_stored_rows(tmp_path, counted):
    with descriptor_rows_on_disk(tmp_path):
        rdkit2d_raw(mols(SMILES[:1]), names=NAMES)
    descriptors.clear_descriptor_cache()
    with descriptor_rows_on_disk(tmp_path):
        rdkit2d_raw(mols(SMILES), names=NAMES)
    assert counted == [Chem.CanonSmiles(s) for s in SMILES]
    descriptors.clear_descriptor_cache()
    with descriptor_rows_on_disk(tmp_path):
        rdkit2d_raw(mols(SMILES), names=NAMES)
    assert len(counted) == 3


def test_failures_stay_failures_when_read_back(tmp_path, monkeypatch):
    monkeypatch.setitem(descriptors.descriptor_functions(), "TPSA", lambda mol: float("inf"))
    with descriptor_rows_on_disk(tmp_path):
        rdkit2d_raw(mols(["CCO"]), names=NAMES)
    descriptors.clear_descriptor_cache()
    with descriptor_rows_on_disk(tmp_path):
        raw, failed = rdkit2d_raw(mols(["CCO"]), names=NAMES)
    assert np.isnan(raw[0, 1]) and failed == [["TPSA"]]


def test_outside_a_block_nothing_is_written_or_read(tmp_path, counted):
    with descriptor_rows_on_disk(tmp_path):
        rdkit2d_raw(mols(SMILES), names=NAMES)
    descriptors.clear_descriptor_cache()
    rdkit2d_raw(mols(SMILES), names=NAMES)
    assert len(counted) == 6
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".npz"] == [rows_file(tmp_path, NAMES).name]


def test_an_altered_file_is_ignored_and_written_again(tmp_path, counted):
    with descriptor_rows_on_disk(tmp_path):
        first, _ = rdkit2d_raw(mols(SMILES), names=NAMES)
    path = rows_file(tmp_path, NAMES)
    path.write_bytes(b"not an npz")
    descriptors.clear_descriptor_cache()
    with descriptor_rows_on_disk(tmp_path):
        again, _ = rdkit2d_raw(mols(SMILES), names=NAMES)
    assert len(counted) == 6
    np.testing.assert_array_equal(again, first)
    descriptors.clear_descriptor_cache()
    with descriptor_rows_on_disk(tmp_path):
        rdkit2d_raw(mols(SMILES), names=NAMES)
    assert len(counted) == 6, "the file was not written again"


def test_another_descriptor_list_has_its_own_file(tmp_path):
    with descriptor_rows_on_disk(tmp_path):
        rdkit2d_raw(mols(SMILES), names=NAMES)
        rdkit2d_raw(mols(SMILES), names=NAMES[:2])
    assert rows_file(tmp_path, NAMES) != rows_file(tmp_path, NAMES[:2])
    assert rows_file(tmp_path, NAMES).is_file() and rows_file(tmp_path, NAMES[:2]).is_file()


def test_an_unwritable_folder_costs_only_the_speed(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the folder should be")
    with descriptor_rows_on_disk(blocked / "rows"):
        raw, _ = rdkit2d_raw(mols(SMILES), names=NAMES)
    assert np.isfinite(raw).all()


def test_a_second_pass_in_a_block_reads_rows_the_memory_cache_has_dropped(tmp_path, counted, monkeypatch):
    monkeypatch.setattr(descriptors, "DESCRIPTOR_CACHE", 1)  # HIV: more molecules than the in-memory cache holds
    with descriptor_rows_on_disk(tmp_path):
        first, _ = rdkit2d_raw(mols(SMILES), names=NAMES)  # the training pass
        again, _ = rdkit2d_raw(mols(SMILES), names=NAMES)  # the pass over every molecule
    assert len(counted) == 3, "a row computed earlier in the block was computed again"
    np.testing.assert_array_equal(again, first)


def test_the_champion_search_keeps_descriptor_rows_for_a_resumed_run(tmp_path, counted):
    from types import SimpleNamespace

    from workbench.champions.features import DatasetFeatures

    prep = SimpleNamespace(mols=mols(SMILES), split=SimpleNamespace(train=np.arange(3)))
    first = DatasetFeatures(prep, minimol_cache=None, rows_cache=tmp_path)("rdkit2d")
    computed = len(counted)
    assert computed == 3 and any(tmp_path.glob("rdkit2d-*.npz"))
    descriptors.clear_descriptor_cache()  # a resumed search in a new process
    again = DatasetFeatures(prep, minimol_cache=None, rows_cache=tmp_path)("rdkit2d")
    assert len(counted) == computed, "the resumed search computed the rows again"
    np.testing.assert_array_equal(again.x, first.x)
