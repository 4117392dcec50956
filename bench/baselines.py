"""The first MoleculeNet baselines: RF / XGBoost / SVR on ECFP4 + the GINs, next to the published GIN.

Run: ``python -m bench.baselines [--datasets bbbp bace ...] [--seeds 0 1 2]``.
Baselines (RF, XGBoost; SVR for regression) are trained on ECFP4 with the same scaffold
split and seeds as the GIN checkpoints (``workbench train baseline`` ships them). GIN rows: the shipped cards in
``models/<dataset>_gin`` (made by ``workbench train finetune``) and the pretraining benchmark's GIN from random
weights (``bench/results/pretraining_cells.csv``, the same split and seeds). Per-data-set results are
cached in ``bench/results/cache/`` so the run can be resumed. Writes
``bench/results/baselines.md`` and ``bench/results/baselines.csv``. The champion search
(``workbench bench champions``, ``bench/results/moleculenet.md``) supersedes this table; it stays as the
record of the shipped ``*_rf`` / ``*_xgboost`` / ``*_svr`` baselines' validation choice.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.data.prepared import prepare
from workbench.featurizers import ecfp_batch
from workbench.models import CheckpointError, load_card
from workbench.train.baselines import fit_predict
from workbench.train.metrics import regression_metrics, roc_auc, summarize_seeds

RESULTS = Path(__file__).parent / "results"
CACHE = RESULTS / "cache"
MODELS = Path(__file__).resolve().parent.parent / "models"
PRETRAINING_CELLS = RESULTS / "pretraining_cells.csv"
RANDOM_INIT = "GIN (ours, random init, pretraining benchmark)"
DATASETS = ["bbbp", "bace", "clintox", "sider", "tox21", "hiv", "esol", "freesolv", "lipophilicity"]
SPLIT = "scaffold"  # the split every baseline here is trained on (and the shipped GINs' cards name)
#: GraphMVP (Liu et al. 2022) Table 1, GIN without pretraining, scaffold split, ROC-AUC × 100.
PUBLISHED_GIN = {
    "bbbp": 65.4,
    "tox21": 74.9,
    "toxcast": 61.6,
    "sider": 58.0,
    "clintox": 58.8,
    "muv": 71.0,
    "hiv": 75.3,
    "bace": 72.6,
}


def _metrics(task_type: str, y: np.ndarray, preds: np.ndarray) -> dict[str, float]:
    return {"roc_auc": roc_auc(y, preds)} if task_type == "classification" else regression_metrics(y, preds)


def run_dataset(name: str, seeds: list[int]) -> dict:
    """Train every baseline for one data set (cached) and return its result block."""
    cache = CACHE / f"{name}.json"
    if cache.exists():
        return json.loads(cache.read_text())
    prep = prepare(name, SPLIT)
    x = ecfp_batch(prep.mols).astype(np.float32)
    kinds = ["rf", "xgboost"] + (["svr"] if prep.task_type == "regression" else [])
    block: dict = {
        "dataset": name,
        "task_type": prep.task_type,
        "molecules": len(prep.smiles),
        "split_sizes": prep.split.describe()["sizes"],
        "split": prep.split.describe(),
        "run": {
            "command": " ".join(["python -m bench.baselines", *sys.argv[1:]]),
            "seeds": list(seeds),
            "machine": platform.node() or "unknown",
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "date": time.strftime("%Y-%m-%d"),
        },
        "models": {},
    }
    for kind in kinds:
        started = time.perf_counter()
        test, valid = [], []
        for seed in seeds if kind != "svr" else seeds[:1]:
            _, preds = fit_predict(kind, prep, x, seed)
            test.append(_metrics(prep.task_type, prep.y[prep.split.test], preds[prep.split.test]))
            valid.append(_metrics(prep.task_type, prep.y[prep.split.valid], preds[prep.split.valid]))
        block["models"][kind] = {
            "test": summarize_seeds(test),
            "valid": summarize_seeds(valid),
            "seconds": round(time.perf_counter() - started, 1),
        }
        print(f"{name} {kind}: {block['models'][kind]['test']}", flush=True)
    CACHE.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(block, indent=1))
    return block


def _headline(task_type: str) -> str:
    return "roc_auc" if task_type == "classification" else "rmse"


def build_table(blocks: list[dict]) -> pd.DataFrame:
    rows = []
    for block in blocks:
        metric = _headline(block["task_type"])
        for kind, result in block["models"].items():
            m = result["test"][metric]
            rows.append(
                {
                    "dataset": block["dataset"],
                    "model": f"{kind} (ECFP4)",
                    "metric": metric,
                    "mean": m["mean"],
                    "std": m["std"],
                    "seeds": len(m["per_seed"]),
                    "valid_mean": result["valid"][metric]["mean"],
                }
            )
        try:
            card = load_card(MODELS / f"{block['dataset']}_gin")
            m = card.metrics["test"][metric]
            rows.append(
                {
                    "dataset": block["dataset"],
                    "model": "GIN (ours, shipped)",
                    "metric": metric,
                    "mean": m.mean,
                    "std": m.std,
                    "seeds": len(m.per_seed),
                    "valid_mean": card.metrics["valid"][metric].mean,
                }
            )
        except CheckpointError:
            rows.append(
                {
                    "dataset": block["dataset"],
                    "model": "GIN (ours, shipped)",
                    "metric": metric,
                    "mean": None,
                    "std": None,
                    "seeds": 0,
                    "valid_mean": None,
                }
            )
        rows += _random_init_gin(block["dataset"], metric)
        if block["dataset"] in PUBLISHED_GIN:
            rows.append(
                {
                    "dataset": block["dataset"],
                    "model": "GIN, published (GraphMVP Table 1)",
                    "metric": metric,
                    "mean": PUBLISHED_GIN[block["dataset"]] / 100,
                    "std": None,
                    "seeds": None,
                    "valid_mean": None,
                }
            )
    return pd.DataFrame(rows)


@functools.lru_cache(maxsize=1)
def _pretraining_cells() -> pd.DataFrame:
    """The pretraining benchmark's cells, read once per process (not modified by the callers)."""
    from workbench.data.stored_results import read_stored_cells

    return read_stored_cells(PRETRAINING_CELLS)


def _random_init_gin(dataset: str, metric: str) -> list[dict]:
    """The pretraining benchmark's GIN from random weights (test at the best-validation epoch), if it has cells."""
    cells = _pretraining_cells()
    if cells.empty:
        return []
    mine = cells[(cells["dataset"] == dataset) & (cells["arm"] == "none") & (cells["metric"] == metric)]
    if mine.empty:
        return []
    test, valid = mine["test_at_best_valid"], mine["valid_at_best"]
    return [
        {
            "dataset": dataset,
            "model": RANDOM_INIT,
            "metric": metric,
            "mean": test.mean(),
            "std": test.std(ddof=0),
            "seeds": len(mine),
            "valid_mean": valid.mean(),
        }
    ]


def better_baseline(block: dict) -> str:
    """The baseline to ship: the better mean validation metric (never chosen on test)."""
    metric = _headline(block["task_type"])
    sign = 1 if metric == "roc_auc" else -1
    return max(block["models"], key=lambda k: sign * block["models"][k]["valid"][metric]["mean"])


def shipped_baseline(block: dict) -> str:
    """The baseline checkpoint in ``models/`` for this data set, noted when it is not the validation choice."""
    chosen = better_baseline(block)
    shipped = [k for k in block["models"] if (MODELS / f"{block['dataset']}_{k}" / "card.json").exists()]
    if not shipped:
        champion = f"{block['dataset']}_champion"
        superseded = (MODELS / champion / "card.json").exists()
        return f"{chosen} (" + (f"superseded by {champion})" if superseded else "not shipped)")
    if chosen in shipped:
        return chosen
    return f"{shipped[0]} ({chosen} is better on validation; not shipped)"


def _fmt(mean: float | None, std: float | None) -> str:
    if mean is None or (isinstance(mean, float) and np.isnan(mean)):
        return "—"
    return f"{mean:.3f}" + (f" ± {std:.3f}" if std is not None and not np.isnan(std) else "")


def _joined(values: list[str]) -> str:
    unique = list(dict.fromkeys(values))
    return unique[0] if len(unique) == 1 else "; ".join(unique)


def provenance(blocks: list[dict]) -> str:
    """How the cached results were made, from what each data set's cache block recorded (nothing assumed)."""
    recorded = [b for b in blocks if "run" in b]
    unrecorded = [b["dataset"] for b in blocks if "run" not in b]
    parts = []
    if recorded:
        runs = [b["run"] for b in recorded]
        machines = [f"{r['machine']} ({r['cpus']} CPUs, Python {r['python']})" for r in runs]
        which = f" ({', '.join(b['dataset'] for b in recorded)})" if unrecorded else ""
        parts.append(
            f"Baselines{which} made by `{_joined([r['command'] for r in runs])}` on {_joined(machines)}, "
            f"{_joined([r['date'] for r in runs])}; seeds {_joined([str(r['seeds']) for r in runs])}."
        )
    if unrecorded:
        parts.append(f"The cached results of {', '.join(unrecorded)} do not record the command, machine or seeds.")
    runs_per_model: dict[str, set[int]] = {}
    for block in blocks:
        metric = _headline(block["task_type"])
        for kind, result in block["models"].items():
            runs_per_model.setdefault(kind, set()).add(len(result["test"][metric]["per_seed"]))
    parts.append(
        "Seeds per baseline: "
        + ", ".join(f"{kind} {'/'.join(map(str, sorted(n)))}" for kind, n in runs_per_model.items())
        + "."
    )
    percents = {}
    for block in blocks:
        sizes = block.get("split", {}).get("sizes") or block["split_sizes"]
        percents[block["dataset"]] = "/".join(f"{100 * n / sum(sizes):.0f}" for n in sizes)
    if len(set(percents.values())) == 1:
        shares = next(iter(percents.values()))
    else:
        shares = ", ".join(f"{name} {share}" for name, share in percents.items())
    parts.append(
        f"{SPLIT.capitalize()} split (Hu et al.); train/valid/test % of the kept molecules, from the cached split "
        f"sizes: {shares}."
    )
    return " ".join(parts)


def write_markdown(table: pd.DataFrame, blocks: list[dict], notes: dict[str, str]) -> str:
    lines = [
        f"# First MoleculeNet baselines ({SPLIT} split)",
        "",
        "Superseded by the champion search (every model family × feature set, GINs included, chosen on validation: "
        "`bench/results/moleculenet.md`, `workbench bench champions`); kept as the record of the shipped ECFP4 "
        "baselines' validation choice.",
        "",
        provenance(blocks)
        + " Mean ± std over seeds of the test metric: ROC-AUC (higher is better) for classification, RMSE (lower "
        "is better) for regression. *GIN, shipped*: the card of `models/<data set>_gin` where one is shipped "
        "(`workbench train finetune`, command in each card; BBBP's and ESOL's are fine-tuned from the AttrMask "
        "encoder). *GIN, random init*: the pretraining benchmark's GIN without pretraining, test at the "
        "best-validation epoch (`bench/results/pretraining.md`). Published: GraphMVP Table 1, GIN without "
        "pretraining.",
        "",
        "| data set | metric | RF (ECFP4) | XGBoost (ECFP4) | SVR (ECFP4) | GIN, shipped | GIN, random init "
        "| GIN (published) | shipped baseline (better on validation) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for block in blocks:
        sub = table[table["dataset"] == block["dataset"]].set_index("model")

        def cell(model: str, sub=sub) -> str:
            return _fmt(sub.loc[model, "mean"], sub.loc[model, "std"]) if model in sub.index else "—"

        lines.append(
            f"| {block['dataset']} | {sub['metric'].iloc[0]} | {cell('rf (ECFP4)')} | {cell('xgboost (ECFP4)')} | "
            f"{cell('svr (ECFP4)')} | {cell('GIN (ours, shipped)')} | {cell(RANDOM_INIT)} "
            f"| {cell('GIN, published (GraphMVP Table 1)')} | "
            f"{shipped_baseline(block)} |"
        )
    missing = [d for d in DATASETS if d not in {b["dataset"] for b in blocks}]
    if missing:
        lines += ["", f"Not run yet: {', '.join(missing)} (run the command without `--report-only`)."]
    lines += ["", "## Reading", ""]
    for block in blocks:
        lines.append(f"- **{block['dataset']}**: {notes.get(block['dataset'], interpret(table, block))}")
    return "\n".join(lines) + "\n"


def interpret(table: pd.DataFrame, block: dict) -> str:
    """One line saying who wins, from the numbers."""
    sub = table[(table["dataset"] == block["dataset"]) & table["mean"].notna()]
    ours = sub[~sub["model"].str.startswith("GIN, published")]
    if ours.empty:
        return "no results."
    higher = block["task_type"] == "classification"
    best = ours.loc[ours["mean"].idxmax() if higher else ours["mean"].idxmin()]
    text = f"best of ours is {best['model']} ({best['mean']:.3f})"
    gin = ours[ours["model"] == RANDOM_INIT]
    if gin.empty:
        text += "; the GIN from random weights has no pretraining-benchmark cells yet"
    else:
        gap = gin["mean"].iloc[0] - best["mean"]
        text += (
            "; the GIN from random weights is the best model"
            if gap == 0
            else (f"; the GIN from random weights is {abs(gap):.3f} behind")
        )
    published = sub[sub["model"].str.startswith("GIN, published")]
    if not published.empty and not gin.empty:
        diff = gin["mean"].iloc[0] - published["mean"].iloc[0]
        text += f", and {'above' if diff > 0 else 'below'} the published GIN by {abs(diff):.3f}"
    return text + "."


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--datasets", nargs="+", default=DATASETS)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--report-only", action="store_true", help="rebuild the report from cached data sets only")
    args = parser.parse_args()
    if args.report_only:
        names = [n for n in args.datasets if (CACHE / f"{n}.json").exists()]
        blocks = [json.loads((CACHE / f"{n}.json").read_text()) for n in names]
    else:
        blocks = [run_dataset(name, args.seeds) for name in args.datasets]
    table = build_table(blocks)
    RESULTS.mkdir(parents=True, exist_ok=True)
    table.to_csv(RESULTS / "baselines.csv", index=False)
    markdown = write_markdown(table, blocks, {})
    (RESULTS / "baselines.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
