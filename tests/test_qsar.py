"""QSAR models for the cliff benchmark: Tanimoto kernel, evaluation with RMSE_cliff, rotation diagnostic."""

import numpy as np
import pandas as pd
import pytest

from workbench.chem.similarity import tanimoto_matrix
from workbench.cliffs import qsar

LEFT = {"C": 0.0, "N": 0.5, "O": 1.0, "Cl": 1.5, "Br": 2.0, "F": 2.5}
RIGHT = {"C(=O)O": 0.0, "CN": 0.3, "CO": 0.6, "C#N": 0.9, "S": 1.2, "I": 1.5, "CC": 1.8, "OC": 2.1}


def series() -> pd.DataFrame:
    """48 para-disubstituted benzenes with additive potencies; every fourth is a test molecule."""
    pairs = [(a, b) for a in LEFT for b in RIGHT]
    smiles = [f"{a}c1ccc({b})cc1" for a, b in pairs]
    y = np.array([5.0 + LEFT[a] + RIGHT[b] for a, b in pairs])
    n = len(pairs)
    split = ["test" if k % 4 == 0 else "train" for k in range(n)]
    return pd.DataFrame({"smiles": smiles, "y": y, "cliff_mol": [int(k % 8 == 0) for k in range(n)], "split": split})


def test_tanimoto_kernel_on_known_bit_vectors():
    a = np.array([[1, 1, 0, 0], [0, 0, 0, 0]])
    b = np.array([[1, 0, 1, 0], [1, 1, 0, 0]])
    k = tanimoto_matrix(a, b)
    assert k == pytest.approx(np.array([[1 / 3, 1.0], [0.0, 0.0]]))


def test_svm_tanimoto_learns_the_series_and_reports_its_chosen_c():
    scores, preds = qsar.evaluate(series(), ["SVM-Tanimoto"], seed=0)
    row = scores.iloc[0]
    spread = series().query("split == 'test'")["y"].std()
    assert row["rmse"] < spread  # better than predicting the mean
    assert row["params"]["C"] in qsar.TANIMOTO_C_GRID and row["n_cliff_test"] == 6
    test = preds[preds["split"] == "test"]
    cliff = test["cliff_mol"].astype(bool)
    expected = np.sqrt(np.mean((test.loc[cliff, "SVM-Tanimoto"] - test.loc[cliff, "y"]) ** 2))
    assert row["rmse_cliff"] == pytest.approx(expected)


def test_orthogonal_matrix_is_orthogonal_and_rotation_table_has_both_variants():
    q = qsar.orthogonal_matrix(16, seed=3)
    assert np.allclose(q @ q.T, np.eye(16), atol=1e-5)
    rng = np.random.default_rng(0)
    x = (rng.random((60, 16)) < 0.3).astype(np.float32)
    y = x[:, 0] * 2.0 + x[:, 1] + rng.normal(0, 0.3, 60)
    table = qsar.rotation_experiment(x[:45], y[:45], x[45:], y[45:], models=("RF",), rf_trees=20)
    assert list(table.columns) == ["model", "rmse_original", "rmse_rotated", "ratio"]
    assert table.loc[0, "ratio"] == pytest.approx(table.loc[0, "rmse_rotated"] / table.loc[0, "rmse_original"])


def test_unknown_model_is_named_in_the_error():
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        qsar.fit_predict("nope", ["CCO"], [1.0], ["CCO"])


@pytest.mark.slow
def test_consensus_is_the_mean_of_its_members():
    data = series()
    _, preds = qsar.evaluate(data, ["Consensus", *qsar.CONSENSUS_MEMBERS], seed=0)
    members = preds[list(qsar.CONSENSUS_MEMBERS)].to_numpy().mean(axis=1)
    assert np.allclose(preds["Consensus"].to_numpy(), members)


@pytest.mark.parametrize(("model", "options"), [("MLP", {"epochs": 4}), ("GIN", {"epochs": 2, "gin_size": (2, 16)})])
def test_neural_models_are_reproducible_for_a_seed(model, options):
    data = series()
    train, test = data[data["split"] == "train"], data[data["split"] == "test"]
    runs = [
        qsar.fit_predict(model, train["smiles"].tolist(), train["y"].to_numpy(), test["smiles"].tolist(), seed=s,
                         **options).predictions
        for s in (3, 3, 4)
    ]  # fmt: skip
    assert np.isfinite(runs[0]).all() and len(runs[0]) == len(test)
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])


def test_every_model_has_one_spec_in_one_family():
    families = qsar.FP_MODELS + qsar.KERNEL_MODELS + qsar.ENSEMBLE_MODELS + qsar.NEURAL_MODELS + qsar.GRAPH_MODELS
    assert families == qsar.MODELS == tuple(qsar.QSAR_MODELS)
    assert qsar.QSAR_MODELS["IFM-GIN"].family == "graph" and qsar.QSAR_MODELS["SVM-Tanimoto"].family == "kernel"
