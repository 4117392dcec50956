import numpy as np
import pytest

from workbench.data import DataUnavailableError, load_moleculenet
from workbench.data import moleculenet as mn


def test_chemprop_layout_is_read_from_the_data_dir(data_dirs):
    data, _ = data_dirs
    (data / "moleculenet").mkdir()
    (data / "moleculenet" / "delaney.csv").write_text("smiles,logp\nCCO,-0.77\nc1ccccc1,-1.5\n")
    ds = load_moleculenet("esol")
    assert ds.tasks == ["log_solubility"] and ds.task_type == "regression"
    assert ds.smiles == ["CCO", "c1ccccc1"]
    assert np.allclose(ds.y[:, 0], [-0.77, -1.5])
    assert len(ds.sha256) == 64


def test_deepchem_layout_maps_to_the_same_tasks(data_dirs):
    data, _ = data_dirs
    (data / "delaney-processed.csv").write_text(
        "Compound ID,ESOL predicted log solubility in mols per litre,measured log solubility in mols per litre,smiles\n"
        "ethanol,0.1,-0.77,CCO\n"
    )
    (data / "BBBP.csv").write_text("num,name,p_np,smiles\n1,x,1,CCO\n2,y,0,CCN\n")
    esol = load_moleculenet("delaney")
    assert esol.tasks == ["log_solubility"] and esol.y[0, 0] == pytest.approx(-0.77)
    bbbp = load_moleculenet("BBBP")
    assert bbbp.tasks == ["p_np"] and bbbp.y[:, 0].tolist() == [1.0, 0.0]


def test_missing_labels_become_nan_and_meta_columns_are_dropped(data_dirs):
    data, _ = data_dirs
    (data / "tox21.csv").write_text("NR-AR,NR-AhR,mol_id,smiles\n1,,TOX1,CCO\n,0,TOX2,CCN\n")
    ds = load_moleculenet("tox21")
    assert ds.tasks == ["NR-AR", "NR-AhR"]
    assert np.isnan(ds.y[0, 1]) and np.isnan(ds.y[1, 0])


def test_missing_file_is_downloaded_from_the_official_location(data_dirs, http_server, monkeypatch):
    url, root = http_server
    (root / "SAMPL.csv").write_text("iupac,smiles,expt,calc\nmethanol,CO,-5.1,-4.0\n")
    monkeypatch.setattr(mn, "DEEPCHEM_BASE", url)
    ds = load_moleculenet("freesolv", progress=False)
    assert ds.tasks == ["hydration_free_energy"] and ds.y[0, 0] == pytest.approx(-5.1)
    _, cache = data_dirs
    assert (cache / "moleculenet" / "SAMPL.csv").is_file()


def test_offline_error_names_file_and_folder(data_dirs, monkeypatch):
    monkeypatch.setattr(mn, "DEEPCHEM_BASE", "http://127.0.0.1:9/")
    with pytest.raises(DataUnavailableError) as info:
        load_moleculenet("lipophilicity", progress=False)
    assert "Lipophilicity.csv" in str(info.value)
    assert str(data_dirs[1] / "moleculenet") in str(info.value)


def test_unknown_name_lists_known_sets():
    with pytest.raises(KeyError, match="bbbp"):
        mn.get_spec("nope")


def test_every_table_is_specified():
    assert len(mn.MOLECULENET) == 12
    kinds = {s.task_type for s in mn.MOLECULENET.values()}
    assert kinds == {"classification", "regression"}
