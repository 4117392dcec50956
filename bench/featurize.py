"""Featurization throughput: graphs (serial vs process pool) and ECFP4, on MoleculeNet HIV molecules.

Run: ``python -m bench.featurize [--n 40000]``; writes ``bench/results/featurize.md``.
Figures are molecules per second on this machine, with the serial graph featurizer as the reference.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from bench.machine import describe_machine, load_average
from workbench import chem
from workbench.data import load_moleculenet
from workbench.featurizers import ecfp_batch
from workbench.featurizers import graph as featurize

RESULTS = Path(__file__).parent / "results" / "featurize.md"


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=40_000, help="molecules (from HIV, in file order)")
    args = parser.parse_args()
    load_at_start = load_average()
    workers = os.cpu_count() or 1
    n_bits, radius = 2048, 2
    smiles = load_moleculenet("hiv").smiles[: args.n]
    t_parse = timed(chem.parse_many, smiles)
    t_parse_fast = timed(chem.parse_many, smiles, inchikey=False)
    mols = [p.mol for p in chem.parse_many(smiles, inchikey=False)]
    n = sum(m is not None for m in mols)
    old = featurize.POOL_THRESHOLD
    featurize.POOL_THRESHOLD = 10**12
    t_serial = timed(featurize.mols_to_graphs, mols)
    featurize.POOL_THRESHOLD = 0
    t_pool = timed(featurize.mols_to_graphs, mols, workers=workers)
    featurize.POOL_THRESHOLD = old
    t_ecfp = timed(ecfp_batch, mols, n_bits=n_bits, radius=radius)
    pool = f"process pool ({workers} workers)" if workers > 1 else "1 CPU, so no process pool: serial again"
    rows = [
        ("parse + standardize + InChIKey (chem.parse)", t_parse),
        ("parse + standardize, no InChIKey (as in inference)", t_parse_fast),
        ("graph featurizer, serial", t_serial),
        (f"graph featurizer, {pool}", t_pool),
        (f"ECFP{2 * radius} {n_bits} bits (ecfp_batch)", t_ecfp),
    ]
    lines = [
        "# Featurization throughput",
        "",
        f"`python -m bench.featurize --n {args.n}` on {describe_machine(load_at_start)}; {n} valid HIV molecules.",
        "",
        "| step | seconds | molecules/s | vs serial graphs |",
        "|---|---:|---:|---:|",
    ]
    for label, seconds in rows:
        lines.append(f"| {label} | {seconds:.2f} | {n / seconds:,.0f} | {t_serial / seconds:.2f}× |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
