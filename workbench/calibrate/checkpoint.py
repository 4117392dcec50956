"""Calibrate a shipped checkpoint on its own validation split and measure the effect on its test split.

The checkpoint's data set and split are rebuilt from its card (:func:`workbench.data.prepared.prepare`, refused
when the part sizes differ from the card's), the raw ensemble means are predicted for the validation and test
molecules, each task is calibrated on validation (:mod:`workbench.calibrate.methods`), and on test the expected
calibration error, Brier score and ROC-AUC before and after (classification) or the interval's coverage and width
(regression) are measured. :func:`store_calibration` writes the result into the card's ``calibration`` block.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from workbench.calibrate.methods import COVERAGE, choose_classifier, fit_regression
from workbench.custom.uncertainty import expected_calibration_error
from workbench.models import Checkpoint, ModelCard, load_card
from workbench.models.store import rewrite_card
from workbench.predict.calibration import apply_task

__all__ = [
    "NOT_CALIBRATABLE",
    "CalibrationResult",
    "calibrate_checkpoint",
    "calibration_refusal",
    "store_calibration",
]

#: Architectures whose card can take a calibration block (user models are calibrated when they are trained;
#: ADMET-AI and the retrieval model have no split here). Champions (tabular, ``training.method`` "champion") are
#: shipped uncalibrated and calibrated here like every MoleculeNet checkpoint: see :func:`calibration_refusal`.
NOT_CALIBRATABLE = {"tabular": "calibrated when it was trained", "dual_encoder": "a retrieval model, not a predictor"}


def calibration_refusal(card: Any) -> str | None:
    """Why ``workbench models calibrate`` does not take this card, or ``None`` when it does."""
    if card.architecture.type == "tabular" and (card.training or {}).get("method") == "champion":
        return None
    return NOT_CALIBRATABLE.get(card.architecture.type)


@dataclass
class CalibrationResult:
    """One checkpoint's calibration: the card block and, per classification task, test reliability data."""

    name: str
    block: dict[str, Any]
    reliability: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # task -> p_raw, p_cal, y

    @property
    def tasks(self) -> list[dict[str, Any]]:
        return self.block["tasks"]


def _roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None


def _round(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or not np.isfinite(x) else round(float(x), digits)


def _raw_means(checkpoint: Checkpoint, mols: list, log: Callable[[str], None]) -> np.ndarray:
    from workbench.predict.inference import CHUNK, load_model

    model = load_model(checkpoint, device="cpu")
    out = np.full((len(mols), len(model.tasks)), np.nan)
    for start in range(0, len(mols), CHUNK):
        values, _errors = model.predictor.predict(mols[start : start + CHUNK])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out[start : start + CHUNK] = np.nanmean(values, axis=0)
        log(f"{checkpoint.name}: predicted {min(start + CHUNK, len(mols)):,} of {len(mols):,}")
    return out


def _classification(p_valid, y_valid, p_test, y_test, seed: int) -> tuple[dict, dict]:
    stored, losses = choose_classifier(p_valid, y_valid, seed)
    ok = np.isfinite(p_test) & np.isfinite(y_test)
    p_raw, y = p_test[ok], y_test[ok]
    p_cal = apply_task(stored, p_raw)
    test = {
        "rows": int(ok.sum()),
        "ece_before": _round(expected_calibration_error(p_raw, y)),
        "ece_after": _round(expected_calibration_error(p_cal, y)),
        "brier_before": _round(float(np.mean((p_raw - y) ** 2))),
        "brier_after": _round(float(np.mean((p_cal - y) ** 2))),
        "roc_auc_before": _round(_roc_auc(y, p_raw)),
        "roc_auc_after": _round(_roc_auc(y, p_cal)),
    }
    entry = {**stored, "valid_rows": int((np.isfinite(p_valid) & np.isfinite(y_valid)).sum())}
    if losses:
        entry["cv_log_loss"] = {m: _round(v) for m, v in losses.items()}
    return {**entry, "test": test}, {"p_raw": p_raw, "p_cal": p_cal, "y": y}


def _regression(pred_valid, y_valid, pred_test, y_test) -> dict:
    stored = fit_regression(pred_valid, y_valid, COVERAGE)
    ok = np.isfinite(pred_test) & np.isfinite(y_test)
    inside = np.abs(pred_test[ok] - y_test[ok]) <= stored["halfwidth"]
    stored["halfwidth"] = _round(stored["halfwidth"], 6)
    return {**stored, "test": {"rows": int(ok.sum()), "coverage": _round(float(inside.mean()) if ok.any() else None)}}


def calibrate_checkpoint(
    checkpoint: Checkpoint, *, seed: int = 0, command: str = "", log: Callable[[str], None] = lambda _m: None
) -> CalibrationResult:
    """Fit every task's calibration on the checkpoint's validation split and measure it on its test split.

    Raises:
        ValueError: the checkpoint cannot be calibrated here (a user or retrieval model, no validation split,
            or a split that does not reproduce the card's part sizes).
    """
    from workbench.data.prepared import prepare

    card = checkpoint.card
    refusal = calibration_refusal(card)
    if refusal:
        raise ValueError(f"{checkpoint.name}: {refusal}")
    split = card.split
    if split.kind not in ("scaffold", "random") or not split.sizes or len(split.sizes) != 3:
        raise ValueError(f"{checkpoint.name}: its card has no train/validation/test split to calibrate on")
    fractions = tuple(split.fractions) if split.fractions else (0.8, 0.1, 0.1)
    prepared = prepare(card.data.dataset, split=split.kind, seed=split.seed or 0, fractions=fractions)
    sizes = [len(prepared.split.train), len(prepared.split.valid), len(prepared.split.test)]
    note = ""
    if sizes[1:] != list(split.sizes)[1:]:
        raise ValueError(f"{checkpoint.name}: the rebuilt split has sizes {sizes}, the card {list(split.sizes)}")
    if sizes[0] != split.sizes[0]:  # only validation and test are used; a training part that differs is said
        note = (
            f"the rebuilt training part has {sizes[0]:,} molecules, the card's {split.sizes[0]:,} (molecules parsed "
            "differently since training); validation and test match in size"
        )
        log(f"{checkpoint.name}: {note}")
    valid, test = prepared.split.valid, prepared.split.test
    rows = np.concatenate([valid, test])
    means = _raw_means(checkpoint, [prepared.mols[i] for i in rows], log)
    p_valid, p_test = means[: len(valid)], means[len(valid) :]
    y_valid, y_test = prepared.y[valid], prepared.y[test]
    entries, reliability = [], {}
    for t, task in enumerate(card.tasks):
        if task.type == "classification":
            entry, data = _classification(p_valid[:, t], y_valid[:, t], p_test[:, t], y_test[:, t], seed)
            reliability[task.name] = data
        else:
            entry = _regression(p_valid[:, t], y_valid[:, t], p_test[:, t], y_test[:, t])
        entries.append({"task": task.name, **entry})
    block = {
        "fitted_on": "valid",
        "split": {"kind": split.kind, "sizes": sizes, **({"note": note} if note else {})},
        "seed": seed,
        "command": command or f"workbench models calibrate {checkpoint.name}",
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "tasks": entries,
    }
    return CalibrationResult(checkpoint.name, block, reliability)


def store_calibration(folder: str | Path, block: dict[str, Any]) -> ModelCard:
    """Write ``block`` as the card's ``calibration`` (validated, then written under a temporary name and renamed)."""
    folder = Path(folder)
    card = load_card(folder).to_dict()
    card["calibration"] = block
    return rewrite_card(folder, card)
