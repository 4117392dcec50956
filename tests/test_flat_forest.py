"""FlatForest: a random forest walked as flat arrays gives scikit-learn's probabilities."""

from __future__ import annotations

import numpy as np
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

from workbench.models.builders.flat_forest import FlatForest


def _bits(rows: int, seed: int) -> np.ndarray:
    return (np.random.default_rng(seed).random((rows, 64)) < 0.2).astype(np.float32)


def test_flat_walk_equals_sklearn_predict_proba_on_fingerprint_bits():
    x = _bits(300, 0)
    y = (x[:, 3] + x[:, 7] + np.random.default_rng(1).random(300) > 0.9).astype(int)
    forest = RandomForestClassifier(n_estimators=25, random_state=0).fit(x, y)
    flat = FlatForest.from_forest(forest)
    assert flat is not None and flat.roots.size == 25
    query = _bits(40, 2)
    for rows in (query[:1], query):
        expected = forest.predict_proba(rows)[:, 1]
        assert np.abs(flat.predict_positive(rows) - expected).max() < 1e-12
        assert not np.allclose(expected, expected[0]) or len(rows) == 1  # the comparison is not trivial


def test_flat_walk_follows_thresholds_on_continuous_inputs():
    x = np.random.default_rng(3).normal(size=(200, 5)).astype(np.float32)
    y = (x[:, 0] > 0.1).astype(int)
    forest = RandomForestClassifier(n_estimators=10, min_samples_leaf=3, random_state=0).fit(x, y)
    query = np.random.default_rng(4).normal(size=(25, 5))
    assert (
        np.abs(FlatForest.from_forest(forest).predict_positive(query) - forest.predict_proba(query)[:, 1]).max() < 1e-12
    )


def test_only_binary_classifiers_are_flattened():
    x = _bits(60, 5)
    three = RandomForestClassifier(n_estimators=3, random_state=0).fit(x, np.arange(60) % 3)
    regressor = RandomForestRegressor(n_estimators=3, random_state=0).fit(x, np.arange(60.0))
    assert FlatForest.from_forest(three) is None
    assert FlatForest.from_forest(regressor) is None
