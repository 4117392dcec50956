"""Write a custom model as a normal checkpoint in the user's models folder, and remove one.

The folder is written under a hidden temporary name (the registry skips hidden folders) and renamed into place
only when the weights, the card, the training table and the reference files are all there: an interrupted save
leaves no half-written model visible. The checkpoint holds:

* the refitted models (``component<C>_seed<S>_task<T>``: XGBoost gzip JSON, safetensors arrays or GIN weights,
  never pickle; the weight entry's ``part`` names the component);
* ``card.json``: architecture ``tabular`` (the components' families and hyperparameters, Platt calibration,
  conformal half-widths), featurizer ``feature_set`` (each component's input: a fitted feature set with its
  descriptor normalization, or graphs), the data's sha256, split, metrics, the search, the data report and the
  command that reproduces it;
* ``training.csv.gz`` (reference kind ``training_table``): the standardized molecules, labels and split part, for
  the nearest training molecules and the applicability domain;
* the domain index and approved-drug percentiles (:func:`workbench.predict.references.store_references`).
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.custom.families import FAMILY_TITLES
from workbench.custom.training import CustomResult
from workbench.data import DataUnavailableError
from workbench.featurizers.graph import FEATURIZER_VERSION, GRAPH_FEATURIZER, featurizer_spec
from workbench.models import write_card
from workbench.models.builders.tabular import GRAPH_INPUT
from workbench.models.registry import SHIPPED_MODELS, find_checkpoints, user_models_dir
from workbench.models.store import set_reference_files
from workbench.train.baselines import save_member
from workbench.train.metrics import summarize_seeds

__all__ = [
    "TRAINING_TABLE",
    "USER_GROUP",
    "ModelNameError",
    "check_model_name",
    "remove_user_model",
    "save_custom_model",
]

USER_GROUP = "Your models"
TRAINING_TABLE = "training.csv.gz"
#: Largest gap allowed between the stored form's prediction and the fitted model's: SVR products on continuous
#: features (descriptors, embeddings) round at float32, about 1e-5 of the value.
STORED_TOLERANCE = 1e-4
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")  # the card schema's name rule, at most 64 characters


class ModelNameError(ValueError):
    """A model name that cannot be used; ``str(exc)`` says why."""


def _shipped_names() -> set[str]:
    found, _ = find_checkpoints([SHIPPED_MODELS])
    return {c.name for c in found}


def check_model_name(name: str, models_dir: Path | None = None, *, overwrite: bool = False) -> Path:
    """The folder a model named ``name`` would be written to; refuses path characters and clashes.

    Raises:
        ModelNameError: empty, too long, path characters, the name of a shipped model, or (without
            ``overwrite``) the name of an existing user model.
    """
    if not _NAME.match(name or ""):
        hint = re.sub(r"[^a-z0-9_.-]+", "_", (name or "").lower()).strip("._-")[:64]
        raise ModelNameError(
            f"'{name}' cannot name a model: use 1–64 lowercase letters, digits, '_', '-' or '.', starting with a "
            "letter or digit (no spaces or path characters such as '/' or '..')"
            + (f"; for example '{hint}'." if hint and _NAME.match(hint) else ".")
        )
    if name in _shipped_names():
        raise ModelNameError(f"'{name}' is the name of a model shipped with the workbench; choose another name.")
    folder = (models_dir or user_models_dir()) / name
    if folder.exists() and not overwrite:
        raise ModelNameError(f"A model named '{name}' already exists in {folder.parent}; choose another name.")
    return folder


#: The metrics a card's headline ``metrics`` block holds (the mean over targets); the rest are in ``training``.
HEADLINE = ("rmse", "mae", "r2", "spearman", "coverage", "roc_auc", "pr_auc", "brier", "ece")


def _mean_over_targets(by_target: dict[str, dict[str, float]]) -> dict[str, float]:
    keys = set.intersection(*(set(m) for m in by_target.values())) if by_target else set()
    return {k: float(np.nanmean([m[k] for m in by_target.values()])) for k in HEADLINE if k in keys}


def _input_params(fitted) -> dict:
    """A component's input as the card records it: the fitted feature set, or the graph featurizer."""
    if fitted is None:
        return {"feature_set": GRAPH_INPUT, "featurizer": featurizer_spec(GRAPH_FEATURIZER)}
    return fitted.to_params()


def _description(result: CustomResult) -> str:
    data, chosen = result.data, result.chosen
    if chosen.single:
        n_members = len(result.tasks[0].members)
        what = f"{FAMILY_TITLES[chosen.family]} on {chosen.features}" + (
            f", {n_members}-seed ensemble" if n_members > 1 else ""
        )
    else:
        what = "Mean of " + ", ".join(f"{FAMILY_TITLES[c.family]} on {c.features}" for c in chosen.components)
    return f"{what}; trained on {data.name} ({len(data.smiles):,} molecules, {result.config.effort} search)"


def _card(result: CustomResult, name: str, command: str) -> dict:
    data, chosen = result.data, result.chosen
    classification = data.task_type == "classification"
    first = chosen.components[0]
    return {
        "name": name,
        "group": USER_GROUP,
        "description": _description(result),
        "architecture": {
            "type": "tabular",
            "config": {
                "family": chosen.family,
                "params": first.params if chosen.single else {},
                "components": [{"family": c.family, "params": c.params} for c in chosen.components],
                "n_tasks": len(data.targets),
                "calibration": [list(t.platt) if t.platt else None for t in result.tasks],
                "conformal": None
                if classification
                else {"coverage": result.config.coverage, "halfwidth": [t.halfwidth for t in result.tasks]},
            },
        },
        "featurizer": {
            "name": "feature_set",
            "version": FEATURIZER_VERSION,
            "params": {"components": [_input_params(f) for f in result.features]},
        },
        "tasks": [
            {"name": t, "type": data.task_type, **({"units": u} if u else {})}
            for t, u in zip(data.task_names, data.units, strict=True)
        ],
        "data": {
            "dataset": f"user:{data.name}",
            "file": data.name,
            "sha256": data.sha256,
            "molecules": len(data.smiles),
            "dropped": len(data.dropped),
        },
        "split": {**result.split.describe(), "kind": result.split.kind},
        "seeds": result.tasks[0].seeds,
        "metrics": {
            "test": summarize_seeds([_mean_over_targets(result.metrics)]),
            "valid": summarize_seeds([_mean_over_targets(result.valid_metrics)]),
        },
        "training": {
            "method": "custom",
            "effort": result.config.effort,
            "seed": result.config.seed,
            "transform": data.transform,
            "chosen": chosen.to_json(),
            "search": result.search,
            "ensembles": result.ensembles,
            "test_by_target": result.metrics,
            "test_ci95_by_target": {t: {k: list(v) for k, v in ci.items()} for t, ci in result.intervals.items()},
            "valid_by_target": result.valid_metrics,
            "data_report": data.counts(),
            "warnings": data.warnings,
            "log": result.log,
            "wall_time_s": round(result.seconds, 1),
        },
        "command": command,
    }


def _training_table(result: CustomResult) -> pd.DataFrame:
    part = np.full(len(result.data.smiles), "", dtype=object)
    for label, rows in (("train", result.split.train), ("valid", result.split.valid), ("test", result.split.test)):
        part[rows] = label
    frame = pd.DataFrame({"smiles": result.data.smiles})
    for t, target in enumerate(result.data.task_names):
        frame[target] = result.data.y[:, t]
    frame["part"] = part
    return frame


def _save_members(result: CustomResult, folder: Path) -> list[dict]:
    """Write every member (component × seed × task) into ``folder``; their weight entries for the card."""
    sample = result.data.mols[:200]  # the stored-form check's sample rows
    x_fit = [f.transform(sample)[0] if f is not None else None for f in result.features]
    files = []
    for t, task in enumerate(result.tasks):
        for seed, model, c in zip(task.seeds, task.members, task.components, strict=True):
            component = result.chosen.components[c]
            stem = f"component{c}_seed{seed}_task{t}"
            if component.family == "gin":
                from safetensors.torch import save_file

                path = folder / f"{stem}.safetensors"
                save_file(model.tensors(), str(path))
                entry = {"file": path.name, "format": "safetensors"}
            else:
                entry = save_member(model, component.family, folder, stem, x_fit[c], tolerance=STORED_TOLERANCE)
            files.append({**entry, "seed": seed, "task": t, "part": f"component{c}"})
    return files


def save_custom_model(
    result: CustomResult,
    name: str,
    *,
    models_dir: str | Path | None = None,
    command: str = "",
    overwrite: bool = False,
    log=print,
) -> Path:
    """Write ``result`` as checkpoint ``name`` (atomically) and return its folder.

    Raises:
        ModelNameError: see :func:`check_model_name`.
    """
    root = Path(models_dir) if models_dir is not None else user_models_dir()
    final = check_model_name(name, root, overwrite=overwrite)
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{name}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        files = _save_members(result, tmp)
        write_card(tmp, _card(result, name, command), files)
        table = _training_table(result)
        table.to_csv(tmp / TRAINING_TABLE, index=False, compression={"method": "gzip", "mtime": 0})
        set_reference_files(tmp, [{"file": TRAINING_TABLE, "kind": "training_table", "molecules": len(table)}])
        from workbench.predict.references import store_references

        fit_rows = np.sort(np.concatenate([result.split.train, result.split.valid]))
        try:
            store_references(tmp, [result.data.mols[i] for i in fit_rows], fit_rows, log=log)
        except DataUnavailableError as exc:  # the approved drugs are missing: no percentiles, the rest stands
            log(f"{name}: no approved-drug percentiles ({exc})")
        if final.exists():
            old = root / f".old-{name}-{uuid.uuid4().hex[:8]}"
            os.replace(final, old)
            os.replace(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, final)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    from workbench.predict import inference

    inference.clear_cache()  # a model saved under an existing name must not be served from the old weights
    return final


def remove_user_model(name: str, models_dir: str | Path | None = None) -> Path:
    """Delete a user model's folder; a shipped model is never removed.

    Raises:
        ModelNameError: the name is a shipped model or no user model has it.
    """
    root = Path(models_dir) if models_dir is not None else user_models_dir()
    if name in _shipped_names():
        raise ModelNameError(f"'{name}' is shipped with the workbench and cannot be removed.")
    folder = root / name
    if not _NAME.match(name or "") or not (folder / "card.json").is_file():
        raise ModelNameError(f"No user model named '{name}' in {root}.")
    trash = root / f".removed-{name}-{uuid.uuid4().hex[:8]}"
    os.replace(folder, trash)  # gone from the registry at once, even if deleting the files takes a while
    shutil.rmtree(trash, ignore_errors=True)
    return folder
