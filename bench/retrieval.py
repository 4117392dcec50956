"""Molecule ⇄ text retrieval on held-out ChEBI-20 pairs: the AMOLE ablation, encoder variants and search latency.

Run: ``python -m bench.retrieval [--group ablation|variants] [--splits cid scaffold] [--rows ...]
[--seeds 0] [--epochs 10] [--no-latency]``; ``--report-only`` rewrites ``bench/results/retrieval.md``
from the stored records without training or measuring anything. The tower comparison:
``python -m bench.retrieval --towers gin gin_attrmask minimol ecfp_rdkit2d minimol+gin [--text-layers 1 2 6]
[--seeds 0 1 2] [--epochs 16] [--select mrr|class_auc]`` (see :func:`run_towers`).

Both tables come from one runner, :func:`run`, over a list of :class:`Configuration` s
(:func:`configurations`):

* ``ablation``: the cumulative rows InfoNCE → + S2P → + augmentation → + ER (AMOLE), on the cid
  and the scaffold split.
* ``variants``: encoder variants on the cid split with the shipped checkpoint's loss setting
  (S2P, no augmentation, no ER): frozen MiniLM vs its top layer fine-tuned (GIN 3×256), and a
  5×300 GIN from scratch vs initialised from a shipped GIN.

Each finished (configuration, seed, epochs) is trained once with
:func:`workbench.train.retrieval.train_dual_encoder` and stored as one small JSON record under
``bench/results/cache/retrieval/`` (settings, machine, validation and test metrics), so a stopped
run resumes where it left off and the report (:mod:`bench.retrieval_report`) is rebuilt from what
is committed. Records whose ``source`` says they were transcribed hold the values of an earlier
report whose raw runs were not kept. The latency part embeds a query with the shipped checkpoint
(``models/retrieval_amole``) and searches an index of random unit vectors (search time does not
depend on the vectors) with the workbench's exact and FAISS searchers; its record is ``latency.json``.

The tower comparison (:func:`run_towers`) trains one cell per (molecule tower, tuned MiniLM layers, seed) with
the shipped loss setting on the cid split, saves it as a checkpoint folder under ``runs/retrieval/towers/``
(float16, with its score reference on the validation part) and evaluates it as shipped would be
(:func:`bench.retrieval_classes.evaluate_checkpoint`: class-level test on validation and test molecules, the
drug-class check, the nonsense query); its record is one JSON under ``bench/results/cache/retrieval/towers/``,
so a stopped comparison resumes at the next cell and the best cell (chosen on validation) can be copied to
``models/``.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shlex
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch

CACHE = Path(__file__).parent / "results" / "cache" / "retrieval"
#: Where the corpus features, graphs and text states are cached between runs (not committed).
WORK = Path("runs/retrieval/cache")

#: The ablation rows, cumulative: InfoNCE -> + S2P -> + augmentation -> + ER.
ABLATION: dict[str, dict] = {
    "InfoNCE": {"s2p": False, "augment": False, "er": False},
    "+ S2P": {"s2p": True, "augment": False, "er": False},
    "+ augmentation": {"s2p": True, "augment": True, "er": False},
    "+ ER (AMOLE)": {"s2p": True, "augment": True, "er": True},
}
#: The shipped checkpoint's loss setting (``--no-augment --no-er``, S2P on); every variant uses it.
VARIANT_BASE = {"s2p": True, "augment": False, "er": False}
#: Encoder variants: (config overrides, the variant it is compared with).
VARIANTS: dict[str, tuple[dict, str | None]] = {
    "frozen MiniLM, GIN 3×256": ({}, None),
    "MiniLM top layer fine-tuned, GIN 3×256": ({"text_trainable_layers": 1}, "frozen MiniLM, GIN 3×256"),
    "frozen MiniLM, GIN 5×300 from scratch": ({"num_layer": 5, "emb_dim": 300}, None),
    "frozen MiniLM, GIN 5×300 from bace_gin": (
        {"num_layer": 5, "emb_dim": 300, "init_encoder": "bace_gin"},
        "frozen MiniLM, GIN 5×300 from scratch",
    ),
}
GROUPS = ("ablation", "variants")
#: Molecule towers of the comparison: the RetrievalConfig fields each sets. ``A+B`` fuses two of them late.
TOWER_ROWS: dict[str, dict] = {
    "gin": {"towers": ["gin"]},  # GIN 3x256 from scratch (the shipped tower)
    "gin_attrmask": {"towers": ["gin"], "num_layer": 5, "emb_dim": 300, "init": "models/encoders/attrmask"},
    "minimol": {"towers": ["minimol"]},
    "ecfp_rdkit2d": {"towers": ["ecfp4+rdkit2d"]},
}
TOWERS_CACHE = CACHE / "towers"
#: Where the comparison's checkpoints are written (not committed; copy the chosen one to models/).
TOWERS_RUNS = Path("runs/retrieval/towers")
GROUP_SPLITS = {"ablation": ("cid", "scaffold"), "variants": ("cid",)}


@dataclass(frozen=True)
class Configuration:
    """One row of a benchmark table on one split: the :class:`RetrievalConfig` fields it sets."""

    group: str
    row: str
    split: str
    overrides: dict = field(default_factory=dict)
    reference: str | None = None  # the row this one is compared with


def group_rows(group: str) -> list[str]:
    """The rows of a group, in table order."""
    return list(ABLATION if group == "ablation" else VARIANTS)


def configurations(
    group: str, splits: Sequence[str] | None = None, rows: Sequence[str] | None = None
) -> list[Configuration]:
    """The configurations of a group (``ablation`` or ``variants``), restricted to ``splits`` and ``rows``."""
    if group not in GROUPS:
        raise ValueError(f"unknown group {group!r}; choose from {', '.join(GROUPS)}")
    known = group_rows(group)
    unknown = sorted(set(rows or ()) - set(known))
    if unknown:
        raise ValueError(f"unknown {group} rows {unknown}; known: {known}")
    out = []
    for split in splits or GROUP_SPLITS[group]:
        for row in known:
            if rows and row not in rows:
                continue
            if group == "ablation":
                out.append(Configuration(group, row, split, dict(ABLATION[row])))
            else:
                overrides, reference = VARIANTS[row]
                out.append(Configuration(group, row, split, {**VARIANT_BASE, **overrides}, reference))
    return out


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text).strip("_").lower()


def record_path(config: Configuration, seed: int, epochs: int, cache: Path = CACHE) -> Path:
    """Where the record of one finished run is stored."""
    return cache / f"{config.group}__{config.split}__{_slug(config.row)}__seed{seed}__e{epochs}.json"


def machine() -> dict:
    """The machine a run used: processor, cores, torch threads and the 1-minute load average at the start."""
    return {
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def _mean_mrr(metrics: dict) -> float:
    return 0.5 * (metrics["mol2text_mrr"] + metrics["text2mol_mrr"])


def _store(path: Path, record: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n")
    tmp.replace(path)


def run(
    configs: Sequence[Configuration], seeds: Sequence[int], epochs: int, *, cache: Path = CACHE, command: str = ""
) -> list[Path]:
    """Train every (configuration, seed) that has no record yet; returns the records written."""
    todo = [(seed, c) for seed in seeds for c in configs if not record_path(c, seed, epochs, cache).is_file()]
    if not todo:
        return []
    from workbench.retrieval.corpus import neighbour_table, prepare_corpus, retrieval_split
    from workbench.retrieval.metrics import evaluate_retrieval
    from workbench.train.retrieval import RetrievalConfig, train_dual_encoder

    torch.set_num_threads(1)
    corpus, neighbours, written = prepare_corpus(cache_dir=WORK), {}, []
    for seed, config in todo:
        path = record_path(config, seed, epochs, cache)
        split = retrieval_split(corpus, config.split, seed)
        cfg = replace(RetrievalConfig(), split=config.split, seed=seed, epochs=epochs, **config.overrides)
        key = (config.split, seed, cfg.k)
        if cfg.augment and key not in neighbours:
            neighbours[key] = neighbour_table(corpus.fps, split.train, cfg.k)
        print(f"== {config.group} | {config.split} | {config.row} | seed {seed}", flush=True)
        used, t0 = machine(), time.time()
        model, history = train_dual_encoder(
            corpus, split, cfg, neighbours=neighbours.get(key) if cfg.augment else None, cache_dir=WORK
        )
        train_seconds = time.time() - t0
        valid = evaluate_retrieval(model, corpus, split.valid)
        epochs_run = history["epochs"]
        record = {
            "group": config.group,
            "row": config.row,
            "split": config.split,
            "seed": seed,
            "epochs": epochs,
            "config": {k: v for k, v in vars(cfg).items() if k != "extra"},
            "text_encoder": corpus.text_spec.get("package", corpus.text_spec.get("kind")),
            "init_encoder": history.get("init_encoder"),
            "sizes": [len(split.train), len(split.valid), len(split.test)],
            "valid": valid,
            "valid_mrr": _mean_mrr(valid),
            "test": evaluate_retrieval(model, corpus, split.test),
            "best_epoch": max(epochs_run, key=lambda e: e["valid_mrr"])["epoch"] if epochs_run else None,
            "seconds_per_epoch": float(np.mean([e["seconds"] for e in epochs_run])) if epochs_run else None,
            "train_seconds": train_seconds,
            "er_pairs_in_train": history.get("er_pairs_in_train"),
            "machine": used,
            "command": command,
            "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        _store(path, record)
        written.append(path)
        print(json.dumps(record["test"]), flush=True)
    return written


def tower_overrides(name: str) -> dict:
    """The config fields of a tower row: one of :data:`TOWER_ROWS`, or ``A+B`` (late fusion of two rows).

    A fusion takes the GIN settings of its GIN row (a fusion may hold at most one GIN row).
    """
    parts = name.split("+")
    unknown = [p for p in parts if p not in TOWER_ROWS]
    if unknown or not 1 <= len(parts) <= 2 or len(set(parts)) != len(parts):
        raise ValueError(f"unknown tower {name!r}: one of {', '.join(TOWER_ROWS)} or two of them joined by '+'")
    towers = [t for p in parts for t in TOWER_ROWS[p]["towers"]]
    if len(set(towers)) != len(towers):
        raise ValueError(f"{name!r} fuses two GIN towers; fuse a GIN with a feature tower")
    out: dict = {"towers": towers}
    for p in parts:
        out.update({k: v for k, v in TOWER_ROWS[p].items() if k != "towers"})
    return out


def tower_record_path(tower: str, text_layers: int, seed: int, epochs: int, select: str, cache: Path = TOWERS_CACHE):
    """Where one tower cell's record is stored."""
    return cache / f"cid__{_slug(tower)}__text{text_layers}__{select}__seed{seed}__e{epochs}.json"


def run_towers(
    towers: Sequence[str],
    text_layers: Sequence[int],
    seeds: Sequence[int],
    epochs: int,
    *,
    select: str = "mrr",
    cache: Path = TOWERS_CACHE,
    runs: Path = TOWERS_RUNS,
    command: str = "",
) -> list[Path]:
    """Train and evaluate every (tower, text layers, seed) cell without a record; returns the records written.

    Each cell: the shipped loss setting (S2P, no augmentation, no ER) on the cid split of its seed, ``epochs``
    epochs, the epoch kept by ``select`` on validation; saved as a float16 checkpoint under ``runs`` with its
    score reference, then evaluated through the inference path (:func:`bench.retrieval_classes.evaluate_checkpoint`).
    """
    for tower in towers:
        tower_overrides(tower)  # refuse an unknown tower before any work
    todo = [
        (seed, tower, n)
        for seed in seeds
        for tower in towers
        for n in text_layers
        if not tower_record_path(tower, n, seed, epochs, select, cache).is_file()
    ]
    if not todo:
        return []
    from bench.retrieval_classes import evaluate_checkpoint
    from workbench.models import Checkpoint
    from workbench.models.store import cast_floating
    from workbench.retrieval import clear_cache, load_retriever
    from workbench.retrieval.calibration import store_score_reference
    from workbench.retrieval.corpus import prepare_corpus, retrieval_split
    from workbench.retrieval.metrics import evaluate_retrieval
    from workbench.train.retrieval import (
        WEIGHTS_DTYPE,
        RetrievalConfig,
        save_retrieval_checkpoint,
        train_dual_encoder,
    )

    torch.set_num_threads(1)
    corpus, written = prepare_corpus(cache_dir=WORK), []
    for seed, tower, n in todo:
        path = tower_record_path(tower, n, seed, epochs, select, cache)
        split = retrieval_split(corpus, "cid", seed)
        name = f"towers_{_slug(tower)}_text{n}_{select}_seed{seed}_e{epochs}".replace("__", "_")
        cfg = replace(
            RetrievalConfig(),
            name=name,
            split="cid",
            seed=seed,
            epochs=epochs,
            select=select,
            text_trainable_layers=n,
            **VARIANT_BASE,
            **tower_overrides(tower),
        )
        print(f"== towers | {tower} | text layers {n} | seed {seed} | {epochs} epochs | select {select}", flush=True)
        used, t0 = machine(), time.time()
        model, history = train_dual_encoder(corpus, split, cfg, cache_dir=WORK)
        train_seconds = time.time() - t0
        model.load_state_dict(cast_floating(model.state_dict(), WEIGHTS_DTYPE))  # evaluated as it would be shipped
        metrics = {
            "valid": evaluate_retrieval(model, corpus, split.valid),
            "test": evaluate_retrieval(model, corpus, split.test),
        }
        card = save_retrieval_checkpoint(model.cpu(), corpus, split, cfg, metrics, models_dir=runs, history=history)
        clear_cache()
        retriever = load_retriever(Checkpoint(runs / name, card), device="cpu")
        store_score_reference(retriever, corpus.frame, split.valid, part="valid", split=split.describe())
        t1 = time.time()
        evaluation = evaluate_checkpoint(retriever, corpus.frame, split)
        epochs_run, key = history["epochs"], history["selected_on"]
        record = {
            "group": "towers",
            "tower": tower,
            "text_layers": n,
            "select": select,
            "split": "cid",
            "seed": seed,
            "epochs": epochs,
            "config": {k: v for k, v in vars(cfg).items() if k != "extra"},
            "checkpoint": str(runs / name),
            "model_hash": retriever.model_hash,
            "sizes": [len(split.train), len(split.valid), len(split.test)],
            "valid": metrics["valid"],
            "valid_mrr": _mean_mrr(metrics["valid"]),
            "test": metrics["test"],
            "best_epoch": max(epochs_run, key=lambda e: e.get(key, -1))["epoch"] if epochs_run else None,
            "selected_on": history["selected_on"],
            "history": epochs_run,
            **evaluation,
            "seconds_per_epoch": float(np.mean([e["seconds"] for e in epochs_run])) if epochs_run else None,
            "train_seconds": train_seconds,
            "evaluate_seconds": time.time() - t1,
            "machine": used,
            "command": command,
            "finished": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        }
        _store(path, record)
        written.append(path)
        summary = {part: block["summary"] for part, block in evaluation["classes"].items()}
        print(json.dumps({"valid_mrr": record["valid_mrr"], "classes": summary}), flush=True)
    return written


def load_tower_records(cache: Path = TOWERS_CACHE) -> list[dict]:
    """Every stored tower cell."""
    return [json.loads(p.read_text()) for p in sorted(Path(cache).glob("*.json"))]


def measure_latency(n: int = 100_000, queries: int = 50) -> dict | None:
    """Median time of one text query (embedding + top-10 search) over ``n`` random unit vectors."""
    from workbench import retrieval

    try:
        model = retrieval.load_retriever()
    except Exception as exc:  # no shipped checkpoint yet
        print(f"latency skipped: {exc}")
        return None
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((n, model.proj_dim)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [f"an inhibitor of acetylcholinesterase used for dementia {i}" for i in range(queries)]
    model.embed_texts(texts[:2])  # warm-up
    out: dict = {"n": n, "dim": model.proj_dim, "queries": queries, "model": model.name, **machine()}
    for kind in ("exact", "faiss"):
        index = retrieval.EmbeddingIndex(vectors, kind=kind)
        index.search(vectors[:1], 10)
        times, embed_times = [], []
        for text in texts:
            t0 = time.perf_counter()
            q = model.embed_texts([text])
            t1 = time.perf_counter()
            index.search(q, 10)
            times.append(time.perf_counter() - t0)
            embed_times.append(t1 - t0)
        out[f"{kind}_median_ms"] = 1000 * float(np.median(times))
        out[f"{kind}_p90_ms"] = 1000 * float(np.percentile(times, 90))
        out["embed_median_ms"] = 1000 * float(np.median(embed_times))
    return out


def main(argv: Sequence[str] | None = None) -> None:
    from bench.retrieval_report import write_report

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--group", choices=GROUPS, default="ablation", help="which table to train")
    parser.add_argument("--variants", action="store_const", const="variants", dest="group", help="= --group variants")
    parser.add_argument("--splits", nargs="+", choices=["cid", "scaffold"], help="default: the group's splits")
    parser.add_argument("--rows", "--variant-rows", nargs="+", dest="rows", help="rows to run (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument(
        "--report-only", "--only-report", action="store_true", help="no training, no latency: rewrite the report"
    )
    parser.add_argument("--no-latency", action="store_true", help="keep the stored latency record")
    parser.add_argument(
        "--towers",
        nargs="+",
        metavar="TOWER",
        help=f"run the tower comparison instead: {', '.join(TOWER_ROWS)}, or two joined by '+' (late fusion)",
    )
    parser.add_argument(
        "--records",
        type=Path,
        default=TOWERS_CACHE,
        help="tower comparison: where the cell records go (default: the committed cache; a smoke run elsewhere)",
    )
    parser.add_argument(
        "--text-layers", nargs="+", type=int, default=[1], help="tower comparison: MiniLM layers tuned (1, 2, 6)"
    )
    parser.add_argument(
        "--select",
        default="mrr",
        choices=["mrr", "class_auc", "class_ap"],
        help="tower comparison: the validation score that keeps an epoch",
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if args.towers and not args.report_only:
        try:
            for tower in args.towers:
                tower_overrides(tower)
        except ValueError as exc:
            parser.error(str(exc))
        command = shlex.join(["python", "-m", "bench.retrieval", *(sys.argv[1:] if argv is None else argv)])
        run_towers(
            args.towers,
            args.text_layers,
            args.seeds,
            args.epochs,
            select=args.select,
            cache=args.records,
            runs=TOWERS_RUNS if args.records == TOWERS_CACHE else Path(args.records) / "checkpoints",
            command=command,
        )
    elif not args.report_only:
        try:
            configs = configurations(args.group, args.splits, args.rows)
        except ValueError as exc:
            parser.error(str(exc))
        command = shlex.join(["python", "-m", "bench.retrieval", *(sys.argv[1:] if argv is None else argv)])
        run(configs, args.seeds, args.epochs, command=command)
        latency = None if args.no_latency else measure_latency()
        if latency is not None:
            _store(CACHE / "latency.json", latency)
    print(write_report())


if __name__ == "__main__":
    main()
