"""Calibration of shipped checkpoints: the methods, the card block, and predictions that use it."""

from __future__ import annotations

import numpy as np
import pytest

from tests.tiny_model import train_tiny_checkpoint
from workbench.calibrate import apply_task, calibrate_predictions, choose_classifier, fit_regression
from workbench.calibrate.checkpoint import calibrate_checkpoint, store_calibration
from workbench.calibrate.methods import fit_classifier, log_loss
from workbench.models import CheckpointError, find_checkpoints, load_card
from workbench.predict import inference


def _overconfident(n: int = 600, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from a true probability q, and a model that reports q pushed towards 0 and 1."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, n)
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(float)
    return 1 / (1 + np.exp(-3 * z)), y


def test_an_overconfident_model_gets_a_calibrator_that_lowers_its_held_out_log_loss():
    p, y = _overconfident(2000)
    stored, losses = choose_classifier(p[:1000], y[:1000])
    assert stored["method"] in ("platt", "isotonic") and losses[stored["method"]] < losses["none"]
    assert log_loss(apply_task(stored, p[1000:]), y[1000:]) < log_loss(p[1000:], y[1000:])


def test_a_calibrated_model_keeps_no_calibration_and_too_few_rows_refuse_one():
    rng = np.random.default_rng(1)
    p = rng.random(2000)
    y = (rng.random(2000) < p).astype(float)
    stored, _ = choose_classifier(p, y)
    assert stored["method"] == "none"
    stored, losses = choose_classifier(np.array([0.2, 0.9, 0.8, 0.1, 0.7]), np.array([0, 1, 1, 0, 1.0]))
    assert stored == {"method": "none", "reason": stored["reason"]} and "at least 5" in stored["reason"]
    assert losses == {}


def test_isotonic_is_stored_as_knots_and_applied_monotonically_leaving_nan_alone():
    p, y = _overconfident(400, seed=2)
    stored = fit_classifier("isotonic", p, y)
    assert set(stored) == {"method", "x", "y"} and all(isinstance(v, float) for v in stored["x"])
    out = apply_task(stored, np.array([0.1, 0.5, np.nan, 0.9]))
    assert np.isnan(out[2]) and out[0] <= out[1] <= out[3] and np.nanmin(out) > 0 and np.nanmax(out) < 1
    with pytest.raises(ValueError, match="unknown calibration method"):
        fit_classifier("beta", p, y)


def test_the_conformal_half_width_covers_ninety_percent_of_exchangeable_residuals():
    rng = np.random.default_rng(3)
    observed = rng.normal(0, 1, 4000)
    stored = fit_regression(np.zeros(2000), observed[:2000])
    assert stored["method"] == "conformal" and stored["residuals"] == 2000
    coverage = np.mean(np.abs(observed[2000:]) <= stored["halfwidth"])
    assert 0.88 <= coverage <= 0.92


def test_a_coverage_on_few_test_molecules_gets_a_wide_interval_that_contains_the_truth_mostly():
    from workbench.calibrate.report import coverage_interval

    low, high = coverage_interval(63 / 65, 65)  # FreeSolv's 63 of 65 test molecules
    assert low < 0.90 < high and high < 1.0
    narrow = coverage_interval(0.9, 4000)
    assert narrow[1] - narrow[0] < 0.02 < high - low
    rng = np.random.default_rng(0)  # a 90 % interval measured on 65 molecules, 400 times: ~95 % contain 0.90
    hits = [coverage_interval(rng.binomial(65, 0.9) / 65, 65) for _ in range(400)]
    assert 0.9 <= np.mean([lo <= 0.9 <= hi for lo, hi in hits]) <= 0.99
    with pytest.raises(ValueError):
        coverage_interval(0.9, 0)


def _block(card, a: float = 2.0, b: float = -1.0, halfwidth: float = 1.5) -> dict:
    return {
        "fitted_on": "valid",
        "tasks": [
            {"task": card.task_names[0], "method": "platt", "a": a, "b": b},
            {"task": card.task_names[1], "method": "conformal", "coverage": 0.9, "halfwidth": halfwidth},
        ],
    }


def test_predictions_use_the_cards_calibration_and_intervals_and_raw_on_request(models_dir):
    card = train_tiny_checkpoint(models_dir, name="tiny_cal")
    smiles = ["CCCN", "CCCCO", "not a molecule"]
    raw = inference.predict(smiles, ["tiny_cal"], calibrated=False)
    store_calibration(models_dir / "tiny_cal", _block(card))
    inference.clear_cache()
    out = inference.predict(smiles, ["tiny_cal"])
    column, value = "tiny_cal:has_nitrogen", "tiny_cal:carbons"
    expected = apply_task({"method": "platt", "a": 2.0, "b": -1.0}, raw[column].to_numpy())
    np.testing.assert_allclose(out[column].to_numpy()[:2], expected[:2], rtol=1e-6)
    np.testing.assert_allclose(out[value], raw[value])  # regression values are not moved
    np.testing.assert_allclose((out[f"{value}:hi"] - out[value])[:2], 1.5)
    np.testing.assert_allclose((out[value] - out[f"{value}:lo"])[:2], 1.5)
    assert out.iloc[2][[column, f"{value}:lo"]].isna().all() and out.iloc[2]["error"]
    assert f"{value}:lo" not in inference.predict(smiles[:1], ["tiny_cal"], calibrated=False)


def test_calibrated_std_is_the_spread_of_calibrated_members(models_dir):
    card = train_tiny_checkpoint(models_dir, name="tiny_std")
    mean, std = calibrate_predictions(card, np.array([[[0.2, 3.0]], [[0.6, 5.0]]]))
    np.testing.assert_allclose([mean[0], std[0]], [[0.4, 4.0], [0.2, 1.0]])  # no calibration: raw mean and std
    card = store_calibration(models_dir / "tiny_std", _block(card))
    values = np.array([[[0.2, 3.0]], [[0.6, 5.0]]])
    mean, std = calibrate_predictions(card, values)
    members = [apply_task(card.calibration["tasks"][0], np.array([v])) for v in (0.2, 0.6)]
    np.testing.assert_allclose(mean[0, 0], apply_task(card.calibration["tasks"][0], np.array([0.4]))[0])
    np.testing.assert_allclose(std[0, 0], np.std(members))
    np.testing.assert_allclose([mean[0, 1], std[0, 1]], [4.0, 1.0])


def test_a_calibration_block_with_an_unknown_method_is_refused(models_dir):
    card = train_tiny_checkpoint(models_dir, name="tiny_bad")
    bad = {"fitted_on": "valid", "tasks": [{"task": card.task_names[0], "method": "magic"}]}
    with pytest.raises(CheckpointError):
        store_calibration(models_dir / "tiny_bad", bad)
    assert load_card(models_dir / "tiny_bad").calibration is None


def test_a_checkpoint_without_a_split_is_refused_with_its_name(models_dir):
    train_tiny_checkpoint(models_dir, name="tiny_nosplit")
    checkpoint = next(c for c in find_checkpoints()[0] if c.name == "tiny_nosplit")
    with pytest.raises(ValueError, match="tiny_nosplit: its card has no train/validation/test split"):
        calibrate_checkpoint(checkpoint)


@pytest.mark.slow
def test_a_shipped_checkpoint_is_calibrated_on_its_own_split_and_measured_on_test():
    checkpoint = next(c for c in find_checkpoints()[0] if c.name == "esol_svr")
    result = calibrate_checkpoint(checkpoint)
    (entry,) = result.tasks
    assert entry["method"] == "conformal" and entry["residuals"] == checkpoint.card.split.sizes[1]
    assert entry["test"]["rows"] == checkpoint.card.split.sizes[2] and 0 < entry["test"]["coverage"] <= 1
    assert result.block["split"]["sizes"] == list(checkpoint.card.split.sizes)


def test_a_platt_fit_that_would_reverse_the_ranking_is_no_calibration():
    rng = np.random.default_rng(4)
    p = rng.random(300)
    y = (rng.random(300) < 1 - p).astype(float)  # on these rows the model is anti-correlated with the labels
    stored = fit_classifier("platt", p, y)
    assert stored["method"] == "none" and "slope was not positive" in stored["reason"]
    chosen, _ = choose_classifier(p, y)
    assert chosen["method"] in ("none", "isotonic")
    if chosen["method"] == "isotonic":
        assert np.all(np.diff(chosen["y"]) >= 0)  # isotonic is non-decreasing by construction


def test_champions_are_calibrated_here_but_a_users_model_and_the_retrieval_model_are_not():
    from types import SimpleNamespace

    from workbench.calibrate.checkpoint import calibration_refusal

    def card(kind, method=None):
        return SimpleNamespace(architecture=SimpleNamespace(type=kind), training={"method": method} if method else None)

    assert calibration_refusal(card("tabular", "champion")) is None
    assert calibration_refusal(card("tabular", "thorough")) == "calibrated when it was trained"
    assert calibration_refusal(card("dual_encoder")) == "a retrieval model, not a predictor"
    assert calibration_refusal(card("gin")) is None
