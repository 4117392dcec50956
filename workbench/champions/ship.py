"""Ship a data set's champion: refit the candidate the search chose on validation, write a tabular checkpoint.

The champion is read from the search's cells (``bench/results/champions.csv``, with the pretraining benchmark's GIN
cells as candidates: :mod:`workbench.champions.gin`): the candidate with the best mean validation score
(:func:`workbench.champions.selection.champions`). It is refitted on the training split of the same scaffold split
with each seed, exactly as in the search, and written as a ``tabular`` checkpoint (the architecture of a user's
models: a fitted feature set and one model per seed and task, stored without pickle). Its card names the runners-up
and their validation scores, the cells it was chosen from and the command; the probabilities are calibrated
afterwards on the validation split by ``workbench models calibrate NAME``. The multi-output MLP is stored as one
safetensors file per seed (weights and target scaling); an SVC as its support vectors (its probability is the
logistic of its decision function, which ``workbench models calibrate`` then Platt-scales on validation). A family
the tabular format cannot store is refused with the name of the best candidate that can be shipped (``--candidate
FAMILY:FEATURES``); a GIN champion is pointed to ``workbench train finetune``. A data set whose search grid is not
fully fitted has no champion yet and is refused unless a candidate is named or ``--partial`` is given; the card
records how many of the grid's cells were fitted.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.custom.families import FAMILY_TITLES, Candidate, fit_member, predict_member

__all__ = ["SHIPPABLE", "ChampionError", "choose", "train_champion"]

#: Model families a tabular checkpoint can store (forests and SVMs as arrays, boosters as XGBoost JSON, the
#: multi-output MLP as safetensors).
SHIPPABLE = frozenset({"rf", "xgboost", "svr", "svc", "mlp"})


class ChampionError(ValueError):
    """The champion cannot be shipped as asked (no cells, an unknown candidate, a family not storable)."""


def _candidate(row: dict, cells: pd.DataFrame) -> Candidate:
    match = cells[(cells["dataset"] == row["dataset"]) & (cells["family"] == row["family"])
                  & (cells["features"] == row["features"])].iloc[0]  # fmt: skip
    return Candidate(str(match["model"]), str(row["features"]), json.loads(match["params"]))


def choose(
    dataset: str, cells: pd.DataFrame, candidate: str | None = None, *, partial: bool = False
) -> tuple[Candidate, dict, list[dict]]:
    """The candidate to ship (the champion, or ``FAMILY:FEATURES``), its summary row and the runners-up.

    A search whose grid is not fully fitted has a leader, not a champion: it is refused unless a candidate is named
    or ``partial`` is set (a restricted search run on purpose).
    """
    from workbench.champions.selection import champions, search_progress, summarize_cells

    rows = cells[cells["dataset"] == dataset] if not cells.empty else cells
    if rows.empty:
        raise ChampionError(f"no search cells for {dataset}: run `workbench bench champions --datasets {dataset}`")
    done, planned = search_progress(rows).get(dataset, (0, 0))
    if candidate is None and not partial and done < planned:
        raise ChampionError(f"{dataset}'s search is under way ({done} of {planned} cells): finish it with `workbench "
                            f"bench champions --datasets {dataset}`, name a candidate with --candidate "
                            "FAMILY:FEATURES, or ship the leader of a restricted search with --partial")  # fmt: skip
    summary = summarize_cells(rows)
    choice = champions(summary, runners_up=len(summary))[dataset]
    ranked = [choice["champion"], *choice["runners_up"]]
    if candidate is not None:
        family, _, features = candidate.partition(":")
        picked = [r for r in ranked if (r["family"], r["features"]) == (family, features)]
        if not picked:
            known = ", ".join(f"{r['family']}:{r['features']}" for r in ranked)
            raise ChampionError(f"no cells for {candidate} on {dataset} (searched: {known})")
        row = picked[0]
    else:
        row = ranked[0]
    chosen = _candidate(row, rows)
    if chosen.family not in SHIPPABLE:
        storable = next((r for r in ranked if _candidate(r, rows).family in SHIPPABLE), None)
        best = f"--candidate {storable['family']}:{storable['features']}" if storable else ""
        if chosen.family == "gin":
            from workbench.champions.gin import gin_init

            init = gin_init(chosen.features)
            raise ChampionError(f"{dataset}'s champion is the GIN ({chosen.features}): fine-tune it with `workbench "
                                f"train finetune --dataset {dataset}" + (f" --init {init}`" if init else "`")
                                + (f", or ship the best tabular one with {best}" if best else ""))  # fmt: skip
        also = f"; the best storable one is {best}" if best else ""
        raise ChampionError(f"{dataset}'s champion is {FAMILY_TITLES[chosen.family]} on {chosen.features}, which a "
                            f"tabular checkpoint cannot store yet{also}")  # fmt: skip
    return chosen, row, [r for r in ranked if r is not row][:5]


def _metrics(y: np.ndarray, pred: np.ndarray, classification: bool) -> dict[str, float]:
    from workbench.champions.fit import score

    return score(y, pred, classification)


def train_champion(
    dataset: str,
    cells: pd.DataFrame,
    *,
    name: str | None = None,
    candidate: str | None = None,
    partial: bool = False,
    models_dir: str | Path = "models",
    minimol_cache: str | Path | None = "runs/minimol",
    note: str = "",
    float16: bool = False,
    seeds: tuple[int, ...] = (0, 1, 2),
    jobs: int = 1,
    command: str = "",
) -> Path:
    """Refit and write the champion of ``dataset`` (or ``candidate``); returns the checkpoint folder.

    The card records the search's champion beside what was shipped, and ``note`` (why another candidate or fewer
    seeds were shipped, e.g. the size budget of ``models/``). ``float16`` stores an MLP's weights in half precision
    (half the bytes); its metrics are then measured with the rounded weights.

    The features are the search's (MiniMol embeddings read from ``minimol_cache`` when the search left them there),
    and the training molecules are those whose features could be computed, as in the search.
    """
    from safetensors.numpy import save_file

    from workbench.champions.features import DatasetFeatures
    from workbench.champions.fit import fit_mlp
    from workbench.champions.grid import DETERMINISTIC
    from workbench.champions.selection import champions, search_progress, summarize_cells
    from workbench.custom.checkpoint import STORED_TOLERANCE
    from workbench.data.paths import cache_dir
    from workbench.data.prepared import prepare
    from workbench.featurizers import fit_features
    from workbench.featurizers.descriptor_store import ROWS_FOLDER, descriptor_rows_on_disk
    from workbench.featurizers.graph import FEATURIZER_VERSION
    from workbench.models import write_card
    from workbench.predict.references import store_references
    from workbench.train.baselines import save_member, save_shared_svms
    from workbench.train.metrics import summarize_seeds

    chosen, row, runners_up = choose(dataset, cells, candidate, partial=partial)
    top = champions(summarize_cells(cells[cells["dataset"] == dataset]))[dataset]["champion"]
    done, planned = search_progress(cells[cells["dataset"] == dataset])[dataset]
    started = time.perf_counter()
    prep = prepare(dataset, "scaffold")
    classification = prep.task_type == "classification"
    # the search's matrix (MiniMol embeddings and descriptor rows from its caches) and its usable training rows
    matrix = DatasetFeatures(prep, minimol_cache=None if minimol_cache is None else Path(minimol_cache))
    x, usable = matrix(chosen.features).x, matrix(chosen.features).usable
    with descriptor_rows_on_disk(cache_dir() / ROWS_FOLDER):  # the normalization the matrix was built with
        fitted = fit_features(chosen.features, [prep.mols[i] for i in prep.split.train])
    train = prep.split.train[usable[prep.split.train]]
    folder = Path(models_dir) / (name or f"{dataset}_champion")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*"):
        if old.name.endswith((".json", ".json.gz", ".safetensors", ".npz")):
            old.unlink()
    use_seeds = list(seeds[:1] if chosen.family in DETERMINISTIC else seeds)
    files, valid, test, constant = [], [], [], {}
    for seed in use_seeds:
        pred, svms = np.full(prep.y.shape, np.nan), {}
        if chosen.family == "mlp":  # one network over every task, as in the search
            fitted_mlp = fit_mlp(chosen, x, prep.y, train, classification, seed)
            if float16:  # stored in half precision: the card's metrics are those of the stored weights
                for parameter in fitted_mlp.model.parameters():
                    parameter.data = parameter.data.half().float()
            pred = fitted_mlp.predict(x)
            path = folder / f"component0_seed{seed}.safetensors"
            tensors = fitted_mlp.tensors()
            if float16:
                tensors = {k: v.astype(np.float16) if k.startswith("net.") else v for k, v in tensors.items()}
            save_file(tensors, str(path))
            files.append({"file": path.name, "format": "safetensors", "seed": seed, "task": 0, "part": "component0"})
        for t in range(prep.y.shape[1] if chosen.family != "mlp" else 0):
            rows = train[~np.isnan(prep.y[train, t])]
            labels = prep.y[rows, t]
            if len(rows) == 0 or (classification and len(np.unique(labels)) < 2):
                constant[str(t)] = float(labels.mean()) if len(rows) else 0.5
                pred[:, t] = constant[str(t)]
                continue
            model = fit_member(chosen, x[rows], labels, classification, seed, jobs)
            pred[:, t] = predict_member(model, x)
            if chosen.family in DETERMINISTIC:  # SVMs: written together below, sharing their support vectors
                svms[t] = model
                continue
            entry = save_member(model, chosen.family, folder, f"component0_seed{seed}_task{t}", x[train][:200],
                                tolerance=STORED_TOLERANCE)  # fmt: skip
            files.append({**entry, "seed": seed, "task": t, "part": "component0"})
        if svms:
            entries = save_shared_svms(svms, chosen.family, folder, f"component0_seed{seed}", x[train][:200],
                                       tolerance=STORED_TOLERANCE)  # fmt: skip
            files += [{**entry, "seed": seed, "part": "component0"} for entry in entries]
        valid.append(_metrics(prep.y[prep.split.valid], pred[prep.split.valid], classification))
        test.append(_metrics(prep.y[prep.split.test], pred[prep.split.test], classification))
    metric = "roc_auc" if classification else "rmse"
    card = {
        "name": folder.name,
        "description": f"Champion of the {dataset} search: {FAMILY_TITLES[chosen.family]} on {chosen.features}, "
        f"{len(use_seeds)}-seed ensemble, chosen on validation {metric}",
        **prep.card_fields(),
        "architecture": {"type": "tabular", "config": {
            "family": chosen.family, "params": chosen.params,
            "components": [{"family": chosen.family, "params": chosen.params}],
            "n_tasks": len(prep.tasks), "calibration": None, "conformal": None, "constant_tasks": constant}},
        "featurizer": {"name": "feature_set", "version": FEATURIZER_VERSION,
                       "params": {"components": [fitted.to_params()]}},
        "seeds": use_seeds,
        "metrics": {"test": summarize_seeds(test), "valid": summarize_seeds(valid)},
        "training": {
            "method": "champion", "chosen": chosen.to_json(),
            "search_valid": {k: float(row[k]) for k in row
                             if k.startswith("valid_") and k.endswith("_mean") and np.isfinite(row[k])},
            "runners_up": [{"family": r["family"], "features": r["features"],
                            f"valid_{metric}": r[f"valid_{metric}_mean"]} for r in runners_up],
            "search_seeds": int(row.get("seeds", len(use_seeds))), "shipped_seeds": len(use_seeds),
            "search_champion": {"family": top["family"], "features": top["features"],
                                f"valid_{metric}": top[f"valid_{metric}_mean"]},
            "shipped_is_champion": (top["family"], top["features"]) == (row["family"], row["features"]),
            "note": note, "weights_dtype": "float16" if float16 and chosen.family == "mlp" else "float32",
            "search_cells": "bench/results/champions.csv", "search_progress": {"done": done, "planned": planned},
            "wall_time_s": round(time.perf_counter() - started, 1),
            "train_molecules": len(train), "device": "cpu",
        },
        "command": command or f"workbench train champion --dataset {dataset}",
    }  # fmt: skip
    write_card(folder, card, files)
    store_references(folder, [prep.mols[i] for i in train], prep.kept[train], log=lambda _msg: None)
    return folder
