import json

import numpy as np
import pytest
from rdkit import Chem

from workbench.featurizers import descriptors
from workbench.featurizers.feature_sets import (
    FEATURE_SET_VERSION,
    FEATURE_SETS,
    FittedFeatures,
    fit_features,
    rdkit2d_raw,
)
from workbench.featurizers.fingerprints import ecfp_batch

TRAIN_SMILES = [
    "CCO",
    "c1ccccc1O",
    "CC(=O)Nc1ccc(O)cc1",
    "CC(C)Cc1ccc(C(C)C(=O)O)cc1",
    "CN1CCC[C@H]1c1cccnc1",
    "O=C(O)c1ccccc1OC(C)=O",
    "Clc1ccc(Cl)cc1",
    "CCN(CC)CC",
    "C1CCCCC1",
    "NC(=O)c1cccnc1",
    "CC(C)(C)OC(=O)N1CCCC1",
    "OCC(O)CO",
]
N_DESCRIPTORS = len(descriptors.default_descriptor_names())
WIDTHS = {"ecfp4": 2048, "ecfp4_counts": 2048, "maccs": 167, "rdkit2d": N_DESCRIPTORS}


def mols(smiles: list[str]) -> list[Chem.Mol]:
    return [Chem.MolFromSmiles(s) for s in smiles]


@pytest.fixture(autouse=True)
def _fresh_descriptor_rows():
    """Rows cached by an earlier test would hide a descriptor function a test replaces."""
    descriptors.clear_descriptor_cache()
    yield
    descriptors.clear_descriptor_cache()


@pytest.fixture(scope="module")
def train() -> list[Chem.Mol]:
    return mols(TRAIN_SMILES)


@pytest.fixture(scope="module")
def fitted(train: list[Chem.Mol]) -> dict[str, FittedFeatures]:
    return {name: fit_features(name, train) for name in FEATURE_SETS}


def test_each_feature_set_has_its_width_and_gives_float32(fitted, train):
    for name, features in fitted.items():
        expected = sum(WIDTHS[part] for part in name.split("+"))
        x, notes = features.transform(train[:3])
        assert features.width == expected == x.shape[1] == len(features.columns), name
        assert x.shape[0] == 3 and x.dtype == np.float32 and notes == ["", "", ""]


def test_from_params_of_to_params_reproduces_transform_exactly(fitted, train):
    query = [*train[:4], Chem.MolFromSmiles("COc1ccc2[nH]ccc2c1")]
    for name, features in fitted.items():
        params = json.loads(json.dumps(features.to_params()))
        assert params["feature_set"] == name and params["version"] == FEATURE_SET_VERSION
        again = FittedFeatures.from_params(params)
        assert again == features
        np.testing.assert_array_equal(again.transform(query)[0], features.transform(query)[0])


def test_params_are_json_serializable(fitted):
    for features in fitted.values():
        params = features.to_params()
        assert json.loads(json.dumps(params, allow_nan=False)) == params


def test_failing_descriptor_becomes_the_training_median_and_is_named(fitted, monkeypatch):
    features = fitted["rdkit2d"]
    norm = features.params["rdkit2d"]
    j = norm["names"].index("MolLogP")

    def broken(mol: Chem.Mol) -> float:
        raise RuntimeError("boom")

    monkeypatch.setitem(descriptors.descriptor_functions(), "MolLogP", broken)
    raw, failed = rdkit2d_raw(mols(["CCO", "CCN"]), names=norm["names"])
    assert np.isnan(raw[:, j]).all() and failed == [["MolLogP"], ["MolLogP"]]
    x, notes = features.transform(mols(["CCO"]))
    median = np.clip(norm["median"][j], norm["clip_low"][j], norm["clip_high"][j])
    assert x[0, j] == np.float32((median - norm["mean"][j]) / norm["std"][j])
    assert notes == ["descriptor MolLogP could not be computed; the training median was used"]


def test_nan_inf_and_huge_descriptor_values_are_failures(monkeypatch):
    table = descriptors.descriptor_functions()
    monkeypatch.setitem(table, "MolWt", lambda mol: float("nan"))
    monkeypatch.setitem(table, "TPSA", lambda mol: float("inf"))
    monkeypatch.setitem(table, "BertzCT", lambda mol: 2e10)
    raw, failed = rdkit2d_raw(mols(["CCO"]), names=["MolWt", "TPSA", "BertzCT", "HeavyAtomCount"])
    assert np.isnan(raw[0, :3]).all() and raw[0, 3] == 3
    assert failed == [["MolWt", "TPSA", "BertzCT"]]


def test_descriptor_failing_on_every_training_molecule_is_zero_and_listed(train, monkeypatch):
    monkeypatch.setitem(descriptors.descriptor_functions(), "qed", lambda mol: float("nan"))
    features = fit_features("rdkit2d", train)
    assert features.params["rdkit2d"]["untrained"] == ["qed"]
    x, notes = features.transform(train[:1])
    assert x[0, features.params["rdkit2d"]["names"].index("qed")] == 0
    assert notes == ["descriptor qed could not be computed (nor on any training molecule); 0 was used"]


def test_unknown_name_or_other_version_is_refused(fitted):
    with pytest.raises(ValueError, match="unknown feature set 'ecfp6'"):
        fit_features("ecfp6", mols(["CCO"]))
    params = fitted["maccs"].to_params()
    with pytest.raises(ValueError, match=r"version '0\.9'.*retrain"):
        FittedFeatures.from_params({**params, "version": "0.9"})
    with pytest.raises(ValueError, match="unknown feature set 'morgan'"):
        FittedFeatures.from_params({**params, "feature_set": "morgan"})
    with pytest.raises(ValueError, match="fingerprint"):
        FittedFeatures.from_params({**params, "fingerprint": {**params["fingerprint"], "n_bits": 1024}})


def test_params_naming_a_descriptor_this_rdkit_lacks_are_refused(fitted):
    params = fitted["rdkit2d"].to_params()
    params["rdkit2d"]["names"][0] = "NotADescriptor"
    with pytest.raises(ValueError, match="NotADescriptor"):
        FittedFeatures.from_params(params)


def test_concatenation_puts_fingerprint_columns_before_descriptors(fitted, train):
    descriptor_part, _ = fitted["rdkit2d"].transform(train)
    for fingerprint in ("ecfp4", "ecfp4_counts", "maccs"):
        both = fitted[f"{fingerprint}+rdkit2d"]
        x, _ = both.transform(train)
        width = WIDTHS[fingerprint]
        np.testing.assert_array_equal(x[:, :width], fitted[fingerprint].transform(train)[0])
        np.testing.assert_array_equal(x[:, width:], descriptor_part)
        assert both.columns[width - 1] == f"{fingerprint}:{width - 1}" and both.columns[width].startswith("rdkit2d:")


def test_fitted_normalization_centres_the_training_set(fitted, train):
    features = fitted["rdkit2d"]
    x, _ = features.transform(train)
    j = features.params["rdkit2d"]["names"].index("MolWt")
    assert abs(x[:, j].mean()) < 1e-5 and abs(x[:, j].std() - 1) < 1e-5
    assert np.abs(x.mean(axis=0)).max() < 1e-5


def test_values_are_clipped_at_the_training_percentiles(fitted):
    features = fitted["rdkit2d"]
    norm = features.params["rdkit2d"]
    j = norm["names"].index("HeavyAtomCount")
    x, _ = features.transform(mols(["C" * 60]))
    assert x[0, j] == np.float32((norm["clip_high"][j] - norm["mean"][j]) / norm["std"][j])


def test_counts_are_log1p_of_morgan_counts_and_maccs_has_167_bits(fitted, train):
    x, _ = fitted["ecfp4_counts"].transform(train)
    np.testing.assert_array_equal(x, np.log1p(ecfp_batch(train, counts=True).astype(np.float32)))
    assert x.max() > np.log1p(1)  # real counts, not bits
    maccs, _ = fitted["maccs"].transform(train)
    assert set(np.unique(maccs)) == {0, 1} and maccs.shape[1] == 167


def test_ipc_is_kept_as_its_logarithm():
    names = descriptors.default_descriptor_names()
    assert "Ipc" not in names and "Ipc_log1p" in names
    raw, _ = rdkit2d_raw(mols(["CC(C)(C)C(C)(C)C(C)(C)C(C)(C)C(C)(C)C(C)(C)CCCCCC"]), names=["Ipc_log1p"])
    assert 0 < raw[0, 0] < 50


def test_ipc_and_avg_ipc_share_one_polynomial_and_equal_rdkits_own_values():
    import math

    from rdkit.Chem import Descriptors

    smiles = ["C", "CC", "c1ccccc1", "CC(=O)Oc1ccccc1C(=O)O", "C1CC2CCC1CC2", "[Na+].[Cl-]", "CN1C=NC2=C1C(=O)N(C)C2=O"]
    names = ["Ipc_log1p", "AvgIpc"]
    raw, _ = rdkit2d_raw(mols(smiles), names=names)
    expected = [[math.log1p(Descriptors.Ipc(m)), Descriptors.AvgIpc(m)] for m in mols(smiles)]
    np.testing.assert_array_equal(raw, np.array(expected))  # bit for bit
    mol = mols(["CC(=O)Oc1ccccc1C(=O)O"])[0]
    functions = descriptors.descriptor_functions()
    functions["Ipc_log1p"](mol)
    first = mol._workbench_cpoly
    functions["AvgIpc"](mol)
    assert mol._workbench_cpoly is first  # computed once for both


def test_missing_molecule_is_a_noted_row_not_an_error(fitted, train):
    x, notes = fitted["ecfp4+rdkit2d"].transform([train[0], None])
    assert x.shape == (2, 2048 + N_DESCRIPTORS) and not x[1, :2048].any()
    assert notes[0] == "" and "no molecule" in notes[1] and "training medians" in notes[1]
    with pytest.raises(ValueError, match="None"):
        fit_features("rdkit2d", [train[0], None])


def test_descriptors_leave_the_callers_molecule_unchanged():
    mol = Chem.MolFromSmiles(TRAIN_SMILES[4])  # fresh: no other test has written SMILES of it
    before = list(mol.GetPropNames(includePrivate=True, includeComputed=True))
    rdkit2d_raw([mol])
    assert list(mol.GetPropNames(includePrivate=True, includeComputed=True)) == before
    assert not any(a.HasProp("_GasteigerCharge") for a in mol.GetAtoms())
