"""The model families a custom training run searches, and how each is fitted.

Quick effort: random forests and XGBoost on ECFP4 + RDKit 2D descriptors, plus (regression) an RBF support-vector
regressor on ECFP4, each with a small grid (:func:`candidates`). Thorough effort adds ECFP4 counts, descriptors
alone, heads (XGBoost, SVR, RF) on MiniMol's 512-d embedding, and a GIN fine-tuned from the shipped pretrained
encoder (:mod:`workbench.custom.gin_member`); what it keeps is a :class:`Chosen`: one candidate (a 3-seed ensemble)
or the mean of the best two or three candidates of different families or feature sets.

Every candidate is a fixed configuration (no early stopping on the validation molecules, which choose between
candidates), so the chosen one can be refitted on train + validation unchanged. Fitted models are stored without
pickle by :func:`workbench.train.baselines.save_member` and predicted by the baseline builder's numpy forms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FAMILY_TITLES", "GRAPH_FEATURES", "Candidate", "Chosen", "candidates", "fit_member", "predict_member"]

FAMILY_TITLES = {
    "rf": "Random forest",
    "xgboost": "XGBoost",
    "svr": "Support-vector regression (RBF)",
    "svc": "Support-vector classifier (RBF)",
    "mlp": "Multi-output MLP",
    "gin": "GIN fine-tuned from a pretrained encoder",
}
#: The ``features`` of the graph family: molecular graphs, not a feature set.
GRAPH_FEATURES = "graph"


@dataclass(frozen=True)
class Candidate:
    """One configuration of the search: a family, its feature set and its hyperparameters."""

    family: str  # rf | xgboost | svr | svc | mlp | gin
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


@dataclass(frozen=True)
class Chosen:
    """What a run keeps: one candidate, or the mean of several (each refitted with one seed)."""

    components: tuple[Candidate, ...]

    @property
    def single(self) -> bool:
        return len(self.components) == 1

    @property
    def label(self) -> str:
        if self.single:
            return self.components[0].label
        return "Mean of " + "; ".join(c.label for c in self.components)

    @property
    def family(self) -> str:
        return self.components[0].family if self.single else "ensemble"

    @property
    def features(self) -> str:
        return " | ".join(c.features for c in self.components)

    def to_json(self) -> dict:
        """One candidate as :meth:`Candidate.to_json`; an ensemble as its components."""
        if self.single:
            return self.components[0].to_json()
        return {"family": "ensemble", "components": [c.to_json() for c in self.components]}


def candidates(task_type: str, effort: str = "quick", encoder: str | None = None) -> list[Candidate]:
    """The grid searched for a task type; ``thorough`` widens it (the GIN only when ``encoder`` is given)."""
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
        if encoder is not None:
            gin = {"encoder": encoder, "lr": 1e-3, "batch_size": 32, "drop_ratio": 0.5}
            out.append(Candidate("gin", GRAPH_FEATURES, gin | {"budget": 60_000, "min_epochs": 15, "max_epochs": 40}))
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
    if candidate.family == "svc":
        if not classification:
            raise ValueError("SVC is a classification model")
        from sklearn.svm import SVC

        return SVC(kernel="rbf", C=float(p.get("C", 5.0)), gamma="scale")  # ranked by its decision function
    raise ValueError(f"unknown model family '{candidate.family}'")


def fit_member(candidate: Candidate, x, y: np.ndarray, classification: bool, seed: int, jobs: int = 1, check=None):
    """Fit one model on rows ``x`` (feature rows, or :class:`GraphRows` for the GIN) with labels ``y``.

    ``check`` (no arguments) runs between the GIN's epochs and may raise to stop it.
    """
    if candidate.family == "gin":
        from workbench.custom.gin_member import fit_gin

        return fit_gin(x, y, classification, seed, candidate.params, check=check)
    model = _make(candidate, classification, seed, jobs)
    model.fit(x, y)
    return model


def predict_member(model, x: np.ndarray) -> np.ndarray:
    """Probabilities of class 1 (classifiers) or values (regressors), float64 (NaN: no prediction).

    An SVC without probabilities gives its decision function: a score that ranks, not a probability.
    """
    from workbench.models.builders.graph_member import GraphMember

    if isinstance(model, GraphMember):
        return model.predict(x.graphs)
    if hasattr(model, "predict_proba"):
        return model.predict_proba(x)[:, 1].astype(np.float64)
    if hasattr(model, "decision_function"):
        return model.decision_function(x).astype(np.float64)
    return model.predict(x).astype(np.float64)
