"""Conformer generation time: 10 MMFF94s-optimized ETKDGv3 conformers per approved drug.

Run: ``python -m bench.conformers [--n-molecules 100] [--threads 1]``; writes ``bench/results/conformers.md``.
The molecules are the first ``--n-molecules`` ChEMBL approved drugs (``load_approved_drugs``, file order)
that ``chem.parse_one`` accepts. Each is timed once, serially, in this process; the goal is a median
of at most 1.5 s per molecule.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from workbench import chem
from workbench.conformers import DEFAULT_MAX_ITERS, DEFAULT_SEED, generate_conformers
from workbench.data import load_approved_drugs

RESULTS = Path(__file__).parent / "results" / "conformers.md"
GOAL_MEDIAN_S = 1.5


def drugs(count: int) -> list[tuple[str, str]]:
    """(name, canonical SMILES) of the first ``count`` approved drugs that parse."""
    frame = load_approved_drugs().frame
    out = []
    for smiles, name in zip(frame["smiles"], frame["name"], strict=True):
        parsed = chem.parse_one(smiles, inchikey=False)
        if parsed.ok:
            out.append((str(name), parsed.smiles))
        if len(out) == count:
            break
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-molecules", type=int, default=100)
    parser.add_argument("--conformers", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1, help="RDKit threads per molecule (0: all cores)")
    args = parser.parse_args()
    molecules = drugs(args.n_molecules)
    generate_conformers("CCO", 2)  # warm-up: imports and force-field tables
    times, heavy, failures, counts = [], [], [], []
    for name, smiles in molecules:
        start = time.perf_counter()
        ensemble = generate_conformers(smiles, args.conformers, optimize="MMFF94s", num_threads=args.threads)
        times.append(time.perf_counter() - start)
        heavy.append(chem.parse_one(smiles, inchikey=False).mol.GetNumHeavyAtoms())
        if ensemble.ok:
            counts.append(ensemble.n_conformers)
        else:
            failures.append(f"{name}: {ensemble.error}")
    t = np.array(times)
    median, p90 = float(np.median(t)), float(np.percentile(t, 90))
    command = "python -m bench.conformers " + " ".join(sys.argv[1:])
    lines = [
        "# Conformer generation time",
        "",
        f"`{command.strip()}` on {platform.node() or 'this machine'} ({os.cpu_count()} CPUs, shared; "
        f"Python {platform.python_version()}, {platform.processor() or platform.machine()}).",
        "",
        f"Settings: ETKDGv3, {args.conformers} conformers requested, MMFF94s optimization "
        f"(max {DEFAULT_MAX_ITERS} iterations), pruning at 0.5 Å heavy-atom RMSD (at embedding and after "
        f"optimization), seed {DEFAULT_SEED}, {args.threads} RDKit thread(s) per molecule, one molecule at a time.",
        f"Molecules: the first {len(molecules)} approved drugs that parse "
        f"(heavy atoms: median {int(np.median(heavy))}, max {max(heavy)}).",
        "",
        "| statistic | seconds per molecule |",
        "|---|---:|",
        f"| median | {median:.3f} |",
        f"| 90th percentile | {p90:.3f} |",
        f"| mean | {t.mean():.3f} |",
        f"| max | {t.max():.3f} |",
        f"| total for {len(molecules)} molecules | {t.sum():.1f} |",
        "",
        f"Goal: median ≤ {GOAL_MEDIAN_S} s — {'met' if median <= GOAL_MEDIAN_S else 'missed'}. "
        f"Conformers kept after pruning: median {int(np.median(counts)) if counts else 0} per molecule. "
        f"Errors: {len(failures)}.",
    ]
    lines += [f"- {f}" for f in failures]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
