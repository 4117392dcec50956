"""The charts of a custom training run: ROC / PR curves and reliability bins checked against scikit-learn, and every
figure builds a Vega-Lite spec from a test table."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

from workbench.custom.figures import (
    calibration_figure,
    parity_figure,
    pr_curve,
    reliability_table,
    roc_curve,
    roc_pr_figure,
)

RNG = np.random.default_rng(0)
Y = RNG.integers(0, 2, 80).astype(float)
P = np.round(np.clip(0.3 * Y + RNG.random(80) * 0.7, 0, 1), 1)  # rounded: many tied scores


def test_the_roc_curve_gives_scikit_learns_auc_with_ties():
    roc = roc_curve(Y, P)
    assert (roc.iloc[0].tolist(), roc.iloc[-1].tolist()) == ([0.0, 0.0], [1.0, 1.0])
    assert np.isclose(np.trapezoid(roc["tpr"], roc["fpr"]), roc_auc_score(Y, P))


def test_the_pr_curve_gives_scikit_learns_average_precision():
    pr = pr_curve(Y, P)
    assert pr["recall"].iloc[-1] == 1.0 and pr["recall"].is_monotonic_increasing
    ap = float(np.sum(np.diff(pr["recall"]) * pr["precision"].to_numpy()[1:]))
    assert np.isclose(ap, average_precision_score(Y, P))


def test_reliability_bins_hold_every_molecule_and_their_means():
    table = reliability_table(Y, P, bins=5)
    assert table["molecules"].sum() == len(Y)
    first = P < 0.2
    assert np.isclose(table.iloc[0]["predicted"], P[first].mean()) and np.isclose(
        table.iloc[0]["observed"], Y[first].mean()
    )


def test_every_figure_builds_a_vega_lite_spec():
    classes = pd.DataFrame({"smiles": ["C"] * len(Y), "observed": Y, "predicted": P})
    assert len(roc_pr_figure(classes).to_dict()["hconcat"]) == 2
    assert len(calibration_figure(classes).to_dict()["layer"]) == 3
    values = pd.DataFrame({"smiles": ["CC", "CO", "CN"], "observed": [5.0, 6.0, 7.0], "predicted": [5.5, 6.1, 6.0]})
    values["lower"], values["upper"] = values["predicted"] - 0.8, values["predicted"] + 0.8
    spec = parity_figure(values.assign(cliff_mol=[True, False, False]), 0.8, "-log10 M").to_dict()
    assert len(spec["layer"]) == 4 and "± 0.80" in spec["title"]
    assert parity_figure(values.drop(columns=["lower", "upper"]), None).to_dict()["layer"]
