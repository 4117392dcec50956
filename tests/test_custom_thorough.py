"""The thorough search of ``workbench train custom``: the GIN fine-tuned from the pretrained encoder, the out-of-fold
choice among the best candidates and their means, and how such models are saved, predicted and explained."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import workbench.custom.training as training
from workbench.custom.data import prepare_user_data
from workbench.custom.families import GRAPH_FEATURES, Candidate, candidates
from workbench.custom.gin_member import default_encoder, epochs_for
from workbench.custom.training import CustomConfig, TrainingCancelled, train_custom

TARGET = "exp_mean [nM]"
GIN = Candidate(
    "gin", GRAPH_FEATURES, {"encoder": "attrmask", "lr": 1e-3, "batch_size": 32, "drop_ratio": 0.5, "max_epochs": 2}
)
SVR = Candidate("svr", "ecfp4", {"C": 5.0})
RF = Candidate("rf", "ecfp4+rdkit2d", {"n_estimators": 50, "min_samples_leaf": 1})


@pytest.fixture(scope="module")
def assay():
    """Every 8th row of CHEMBL2047_EC50 (79 molecules), as prepared for training."""
    from workbench.data import load_moleculeace

    frame = load_moleculeace("CHEMBL2047_EC50").frame.iloc[::8][["smiles", TARGET, "split"]]
    return prepare_user_data(frame, [TARGET], transform="pIC50-from-nM", split_column="split", name="fxr.csv")


def test_the_thorough_grid_adds_the_gin_only_with_an_encoder():
    assert all(c.family != "gin" for c in candidates("regression", "thorough"))
    grid = candidates("regression", "thorough", encoder="attrmask")
    (gin,) = [c for c in grid if c.family == "gin"]
    assert gin.features == GRAPH_FEATURES and gin.params["encoder"] == "attrmask"
    assert all(c.family != "gin" for c in candidates("regression", "quick", encoder="attrmask"))


def test_the_gin_starts_from_the_shipped_attrmask_encoder():
    assert default_encoder() == "attrmask"


@pytest.mark.parametrize(("n", "epochs"), [(100, 40), (2_000, 30), (10_000, 15)])
def test_gin_epochs_keep_the_molecule_epoch_budget_within_bounds(n, epochs):
    assert epochs_for(n, {"budget": 60_000, "min_epochs": 15, "max_epochs": 40}) == epochs


def _longest(options, scores):
    return max(options, key=len)


@pytest.fixture(scope="module")
def ensemble(assay):
    """A thorough run over RF, SVR and a 2-epoch GIN that keeps the mean of all three (the choice forced)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(training, "candidates", lambda *a, **k: [RF, SVR, GIN])
        patch.setattr(training, "_choose", _longest)
        return train_custom(assay, CustomConfig(split="column:split", effort="thorough", seed=0))


@pytest.mark.slow
def test_thorough_cross_fits_the_shortlist_and_scores_the_means(ensemble):
    assert len(ensemble.chosen.components) == 3 and ensemble.chosen.family == "ensemble"
    assert all(np.isfinite(s["cv_score"]) for s in ensemble.search)  # all three shortlisted and cross-fitted
    assert [len(e["components"]) for e in ensemble.ensembles] == [2, 3]
    (task,) = ensemble.tasks
    assert sorted(task.components) == [0, 1, 2] and task.seeds == [0, 0, 0]  # a mean: one seed per component
    assert np.isfinite(ensemble.test_pred).all() and task.halfwidth > 0


@pytest.mark.slow
def test_the_chosen_option_has_the_best_out_of_fold_score(assay, monkeypatch):
    monkeypatch.setattr(training, "candidates", lambda *a, **k: [RF, SVR])
    result = train_custom(assay, CustomConfig(split="column:split", effort="thorough", seed=0))
    singles = {s["label"]: s["cv_score"] for s in result.search}
    scores = list(singles.values()) + [e["cv_score"] for e in result.ensembles]
    chosen = singles.get(result.chosen.label)
    if chosen is None:
        (chosen,) = [e["cv_score"] for e in result.ensembles if e["chosen"]]
    assert chosen == max(scores)


@pytest.mark.slow
def test_an_ensemble_with_a_gin_saves_predicts_and_explains_as_trained(ensemble, tmp_path, monkeypatch,
                                                                       few_reference_drugs):  # fmt: skip
    import workbench.models.registry as checkpoints
    from workbench.custom.checkpoint import save_custom_model
    from workbench.models import load_card
    from workbench.predict import inference
    from workbench.predict.attribution import atom_attributions

    folder = save_custom_model(ensemble, "fxr_mix", models_dir=tmp_path, log=lambda _m: None)
    card = load_card(folder)
    families = [c["family"] for c in card.architecture.config["components"]]
    assert sorted(families) == ["gin", "rf", "svr"]
    assert {w.part for w in card.weights} == {"component0", "component1", "component2"}
    assert card.featurizer.params["components"][families.index("gin")]["feature_set"] == GRAPH_FEATURES
    monkeypatch.setattr(checkpoints, "models_dirs", lambda: [tmp_path])
    inference.clear_cache()
    try:
        model = inference.load_model("fxr_mix")
        test = [ensemble.data.mols[i] for i in ensemble.split.test]
        values, errors = model.predictor.predict(test)
        assert values.shape[0] == 3 and not any(errors)
        np.testing.assert_allclose(np.nanmean(values, axis=0)[:, 0], ensemble.test_pred[:, 0], atol=1e-4)
        attribution = atom_attributions(model, test[0])
        assert attribution.method == "mixed" and attribution.weights.shape == (test[0].GetNumAtoms(),)
        assert np.isfinite(attribution.weights).all()
    finally:
        inference.clear_cache()


@pytest.mark.slow
def test_a_gin_fit_can_be_cancelled_between_epochs(assay, monkeypatch):
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) > 3  # the split, the first candidate, then inside the GIN's epochs

    monkeypatch.setattr(
        training,
        "candidates",
        lambda *a, **k: [SVR, dataclasses.replace(GIN, params={**GIN.params, "max_epochs": 40, "min_epochs": 40})],
    )
    with pytest.raises(TrainingCancelled):
        train_custom(assay, CustomConfig(split="column:split", effort="thorough", seed=0), should_stop=stop)
    assert len(calls) == 4  # stopped at the GIN's first epoch, not after its 40
