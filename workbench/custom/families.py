"""The model families a custom training run searches, and how each is fitted.

Quick effort: random forests and XGBoost on ECFP4 + RDKit 2D descriptors, plus (regression) an RBF support-vector
regressor on ECFP4, each with a small grid (:func:`candidates`). Thorough effort adds ECFP4 counts, descriptors
alone, and heads (XGBoost, SVR, RF) on MiniMol's 512-d embedding, and the chosen configuration becomes a 3-seed
ensemble. (A GIN fine-tuned from the pretrained encoder is not among the families yet.)

Every candidate is a fixed configuration (no early stopping on the validation molecules, which choose between
candidates), so the chosen one can be refitted on train + validation unchanged. Fitted models are stored without
pickle by :func:`workbench.train.baselines.save_member` and predicted by the baseline builder's numpy forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FAMILY_TITLES", "Candidate", "candidates", "fit_member", "predict_member"]

FAMILY_TITLES = {"rf": "Random forest", "xgboost": "XGBoost", "svr": "Support-vector regression (RBF)"}


@dataclass(frozen=True)
class Candidate:
    """One configuration of the search: a family, its feature set and its hyperparameters."""

    family: str  # rf | xgboost | svr
    features: str  # a name from workbench.featurizers.feature_sets.FEATURE_SETS
    params: dict = field(default_factory=dict)

    @property
    def label(self) -> str:
        """E.g. ``XGBoost (max_depth=4, n_estimators=800) on ecfp4+rdkit2d``."""
        shown = ", ".join(f"{k}={v}" for k, v in sorted(self.params.items()))
        return f"{FAMILY_TITLES[self.family]} ({shown}) on {self.features}"

    def to_json(self) -> dict:
        """The candidate as a card records it."""
        return {"family": self.family, "features": self.features, "params": dict(self.params)}


def candidates(task_type: str, effort: str = "quick") -> list[Candidate]:
    """The grid searched for a task type; ``thorough`` widens it."""
    mixed = "ecfp4+rdkit2d"
    out = [
        Candidate("rf", mixed, {"n_estimators": 300, "min_samples_leaf": 1}),
        Candidate("xgboost", mixed, {"max_depth": 6, "learning_rate": 0.05, "n_estimators": 400}),
        Candidate("xgboost", mixed, {"max_depth": 4, "learning_rate": 0.05, "n_estimators": 800}),
    ]
    if task_type == "regression":
        out += [Candidate("svr", "ecfp4", {"C": 5.0}), Candidate("svr", "ecfp4", {"C": 25.0})]
    if effort == "thorough":
        out += [
            Candidate("rf", "ecfp4_counts+rdkit2d", {"n_estimators": 500, "min_samples_leaf": 1}),
            Candidate("xgboost", "ecfp4_counts+rdkit2d", {"max_depth": 6, "learning_rate": 0.03, "n_estimators": 1000}),
            Candidate("xgboost", "rdkit2d", {"max_depth": 4, "learning_rate": 0.05, "n_estimators": 800}),
        ]
        # heads on MiniMol's embedding (trained on large bioactivity and quantum data; about 150 molecules/s here)
        boosted = {"max_depth": 4, "learning_rate": 0.05, "n_estimators": 800}
        out.append(Candidate("xgboost", "minimol+rdkit2d", boosted))
        if task_type == "regression":
            out += [Candidate("svr", "ecfp4+rdkit2d", {"C": 5.0}), Candidate("svr", "minimol", {"C": 5.0})]
        else:
            out.append(Candidate("rf", "minimol", {"n_estimators": 500, "min_samples_leaf": 1}))
    return out


def _make(candidate: Candidate, classification: bool, seed: int, jobs: int):
    p = candidate.params
    if candidate.family == "rf":
        from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor

        cls = RandomForestClassifier if classification else RandomForestRegressor
        return cls(
            n_estimators=int(p.get("n_estimators", 300)),
            min_samples_leaf=int(p.get("min_samples_leaf", 1)),
            max_features="sqrt" if classification else 0.33,
            n_jobs=jobs,
            random_state=seed,
        )
    if candidate.family == "xgboost":
        import xgboost as xgb

        params = dict(
            n_estimators=int(p.get("n_estimators", 400)),
            max_depth=int(p.get("max_depth", 6)),
            learning_rate=float(p.get("learning_rate", 0.05)),
            subsample=0.8,
            colsample_bytree=0.5,
            n_jobs=jobs,
            random_state=seed,
            tree_method="hist",
        )
        if classification:
            return xgb.XGBClassifier(objective="binary:logistic", **params)
        return xgb.XGBRegressor(objective="reg:squarederror", **params)
    if candidate.family == "svr":
        if classification:
            raise ValueError("SVR is a regression model")
        from sklearn.svm import SVR

        return SVR(kernel="rbf", C=float(p.get("C", 5.0)), gamma="scale")
    raise ValueError(f"unknown model family '{candidate.family}'")


def fit_member(candidate: Candidate, x: np.ndarray, y: np.ndarray, classification: bool, seed: int, jobs: int = 1):
    """Fit one model on rows ``x`` with labels ``y`` (no missing labels)."""
    model = _make(candidate, classification, seed, jobs)
    model.fit(x, y)
    return model


def predict_member(model, x: np.ndarray) -> np.ndarray:
    """Probabilities of class 1 (classifiers) or values (regressors), float64."""
    if hasattr(model, "predict_proba"):
        return model.predict_proba(x)[:, 1].astype(np.float64)
    return model.predict(x).astype(np.float64)
