"""Conformer ensembles for many molecules: one row per input, over processes, with an optional cache."""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem

from workbench.chem import parse_one
from workbench.conformers.cache import ConformerCache
from workbench.conformers.ensemble import ConformerEnsemble, failed_ensemble
from workbench.conformers.generate import DEFAULT_MAX_ITERS, DEFAULT_SEED, generate_conformers, generation_settings

__all__ = ["generate_conformers_batch"]


def _batch_one(job: tuple[object, dict]) -> ConformerEnsemble:
    item, options = job
    try:
        return generate_conformers(item, **options)
    except Exception as exc:
        return failed_ensemble(str(item), f"unexpected error: {exc}")


def generate_conformers_batch(
    inputs: Sequence[str | Chem.Mol | None],
    *,
    n_jobs: int = 1,
    progress: bool = False,
    cache: ConformerCache | str | Path | None = None,
    **options: object,
) -> pd.DataFrame:
    """Conformer ensembles for many molecules; one row per input with an ``error`` column.

    Args:
        inputs: SMILES strings or RDKit molecules.
        n_jobs: worker processes (1: in this process; 0 or negative: one per CPU).
        progress: show a tqdm progress bar.
        cache: a :class:`ConformerCache` (or its path); hits are read, new results stored.
        **options: passed to :func:`generate_conformers` (n, seed, optimize, prune_rms, ...).

    Returns:
        DataFrame with ``input``, ``smiles``, ``n_conformers``, ``force_field``,
        ``min_energy_kcal_mol`` (absolute), ``seconds``, ``cached`` and ``error``; the
        ensembles, aligned with the rows, in ``df.attrs["ensembles"]``.
    """
    from tqdm.auto import tqdm

    store = ConformerCache(cache) if isinstance(cache, str | Path) else cache
    settings = generation_settings(
        options.get("n", 10),  # type: ignore[arg-type]
        options.get("seed", DEFAULT_SEED),  # type: ignore[arg-type]
        options.get("method", "ETKDGv3"),  # type: ignore[arg-type]
        options.get("optimize", "MMFF94s"),  # type: ignore[arg-type]
        options.get("prune_rms", 0.5),  # type: ignore[arg-type]
        options.get("max_iters", DEFAULT_MAX_ITERS),  # type: ignore[arg-type]
    )
    results: list[ConformerEnsemble | None] = [None] * len(inputs)
    cached = [False] * len(inputs)
    todo: list[int] = []
    for i, item in enumerate(inputs):
        if store is not None:
            key = _canonical(item)
            hit = store.get(key, settings) if key else None
            if hit is not None:
                results[i], cached[i] = replace(hit, input=_label(item)), True
                continue
        todo.append(i)
    jobs = [(inputs[i], options) for i in todo]
    workers = (os.cpu_count() or 1) if n_jobs <= 0 else n_jobs
    bar = tqdm(total=len(jobs), desc="conformers", unit="mol", disable=not progress)
    try:
        if workers == 1 or len(jobs) < 2:
            computed = []
            for job in jobs:
                computed.append(_batch_one(job))
                bar.update()
        else:
            with ProcessPoolExecutor(max_workers=min(workers, len(jobs))) as pool:
                computed = []
                for result in pool.map(_batch_one, jobs, chunksize=1):
                    computed.append(result)
                    bar.update()
    finally:
        bar.close()
    for i, result in zip(todo, computed, strict=True):
        results[i] = result
    if store is not None and computed:
        store.put_many(computed)
    frame = pd.DataFrame(
        {
            "input": [_label(item) for item in inputs],
            "smiles": [r.smiles for r in results],
            "n_conformers": [r.n_conformers for r in results],
            "force_field": [r.force_field if r.ok else "" for r in results],
            "min_energy_kcal_mol": [
                float(np.min(r.absolute_energies)) if r.ok and r.absolute_energies.size else np.nan for r in results
            ],
            "seconds": [round(r.seconds, 3) for r in results],
            "cached": cached,
            "error": [r.error for r in results],
        }
    )
    frame.attrs["ensembles"] = results
    return frame


def _label(item: object) -> str:
    if isinstance(item, Chem.Mol):
        return Chem.MolToSmiles(item)
    return "" if item is None else str(item)


def _canonical(item: object) -> str:
    if isinstance(item, Chem.Mol):
        try:
            return Chem.MolToSmiles(Chem.RemoveHs(item))
        except Exception:
            return ""
    parsed = parse_one(item, max_heavy_atoms=10**6, inchikey=False)  # type: ignore[arg-type]
    return parsed.smiles if parsed.ok else ""
