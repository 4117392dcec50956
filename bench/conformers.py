"""Conformer generation time: 10 MMFF94s-optimized ETKDGv3 conformers per approved drug.

Run: ``python -m bench.conformers [--n-molecules 100] [--threads 1]``; writes ``bench/results/conformers.md``.
The molecules are the first ``--n-molecules`` ChEMBL approved drugs (``load_approved_drugs``, file order)
that ``chem.parse_one`` accepts. Each is timed once, serially, in this process; the goal is a median
of at most 1.5 s per molecule.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from bench.machine import describe_machine, load_average
from workbench import chem
from workbench.conformers import generate_conformers
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
    load_at_start = load_average()
    molecules = drugs(args.n_molecules)
    generate_conformers("CCO", 2)  # warm-up: imports and force-field tables
    times, heavy, failures, counts = [], [], [], []
    settings, force_fields = set(), Counter()
    for name, smiles in molecules:
        start = time.perf_counter()
        ensemble = generate_conformers(smiles, args.conformers, optimize="MMFF94s", num_threads=args.threads)
        times.append(time.perf_counter() - start)
        heavy.append(chem.parse_one(smiles, inchikey=False).mol.GetNumHeavyAtoms())
        settings.add(json.dumps(ensemble.settings, sort_keys=True))  # as recorded by the library
        if ensemble.ok:
            force_fields[ensemble.force_field] += 1
            counts.append(ensemble.n_conformers)
        else:
            failures.append(f"{name}: {ensemble.error}")
    t = np.array(times)
    median, p90 = float(np.median(t)), float(np.percentile(t, 90))
    command = "python -m bench.conformers " + " ".join(sys.argv[1:])
    (used,) = [json.loads(s) for s in settings]  # every molecule ran with the same settings
    used_ff = ", ".join(f"{ff} for {k}" for ff, k in force_fields.most_common())
    lines = [
        "# Conformer generation time",
        "",
        f"`{command.strip()}` on {describe_machine(load_at_start)}.",
        "",
        f"Settings, as recorded in the ensembles: {used['method']}, {used['n']} conformers requested, "
        f"{used['optimize']} optimization (max {used['max_iters']} iterations; force field used: {used_ff}), "
        f"pruning at {used['prune_rms']} Å heavy-atom RMSD (at embedding and after optimization), seed "
        f"{used['seed']}, {args.threads} RDKit thread(s) per molecule, one molecule at a time.",
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
