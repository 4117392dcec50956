"""Molecule ⇄ text retrieval on held-out ChEBI-20 pairs: the AMOLE ablation, encoder variants and search latency.

Run: ``python -m bench.retrieval [--group ablation|variants] [--splits cid scaffold] [--rows ...]
[--seeds 0] [--epochs 10] [--no-latency]``; ``--report-only`` rewrites ``bench/results/retrieval.md``
from the stored records without training or measuring anything.

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
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    if not args.report_only:
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
