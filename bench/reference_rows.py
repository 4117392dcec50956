"""Approved-drug percentile reference of a descriptor model: a new process without and with stored descriptor rows.

Saving a model (``workbench train custom``, the Train-on-your-data page, ``workbench train champion``) predicts the
approved drugs for its percentile reference. For a model on RDKit 2D descriptors most of that time was the
descriptors; :mod:`workbench.featurizers.descriptor_store` keeps them in the cache folder between processes. This
bench times :func:`workbench.predict.percentiles.compute_reference` in fresh processes on one thread: first with an
empty cache folder (rows computed and stored), then with the rows stored, and the ratio of the two.

    python -m bench.reference_rows [--model bbbp_champion] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.machine import describe_machine, load_average

OUT = Path(__file__).resolve().parent / "results" / "reference_rows.md"
CHILD = """
import json, sys, time
from workbench.predict.inference import load_model
from workbench.predict.percentiles import compute_reference
model = load_model(sys.argv[1])
started = time.perf_counter()
table = compute_reference(model)
print(json.dumps({"seconds": time.perf_counter() - started, "drugs": len(table)}))
"""


def _one(model: str, cache: Path) -> dict:
    env = {**os.environ, "WORKBENCH_CACHE_DIR": str(cache), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CHILD, model], env=env, capture_output=True, text=True, check=True, timeout=900
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="bbbp_champion", help="a shipped model on RDKit 2D descriptors")
    parser.add_argument("--repeat", type=int, default=2, help="cold/stored pairs, each with a new empty cache")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    load = load_average()
    cold, stored, drugs = [], [], 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as cache:
            first = _one(args.model, Path(cache))
            second = _one(args.model, Path(cache))
        cold.append(first["seconds"])
        stored.append(second["seconds"])
        drugs = first["drugs"]
    c, s = statistics.median(cold), statistics.median(stored)
    lines = [
        "# Percentile reference of a descriptor model: descriptor rows computed vs stored",
        "",
        f"Command: `python -m bench.reference_rows --model {args.model} --repeat {args.repeat}`",
        "",
        f"Machine: {describe_machine(load)}",
        "",
        f"`compute_reference` of `{args.model}` over {drugs:,} approved drugs, each time in a new process on one "
        "thread (model loading not timed). *Empty cache*: the RDKit 2D rows are computed and stored; *rows stored*: "
        "the next process reads them. Median of the runs, every run in brackets.",
        "",
        "| cache folder | seconds | runs |",
        "|---|---:|---|",
        f"| empty | {c:.1f} | {', '.join(f'{v:.1f}' for v in cold)} |",
        f"| rows stored | {s:.1f} | {', '.join(f'{v:.1f}' for v in stored)} |",
        "",
        f"Stored rows make it {c / s:.1f}× faster.",
        "",
    ]
    args.out.write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
