"""Conformer generation: ETKDG embedding, force-field optimization and energies, RMSD pruning.

:func:`generate_conformers` turns one molecule into a :class:`~workbench.conformers.ensemble.ConformerEnsemble`
whose conformers are sorted by energy (conformer 0 is the lowest) and aligned on it. Failures are
results, not exceptions: an ensemble with ``error`` set says why (metal complex, too large,
embedding failed, timed out).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Chem import rdDistGeom, rdForceFieldHelpers, rdMolAlign
from rdkit.Chem.rdForceFieldHelpers import MMFFGetMoleculeForceField, MMFFGetMoleculeProperties

from workbench.chem import parse_one
from workbench.conformers.ensemble import ConformerEnsemble, failed_ensemble, heavy_atom_rmsd_matrix

__all__ = [
    "DEFAULT_MAX_HEAVY_ATOMS_3D",
    "DEFAULT_MAX_ITERS",
    "DEFAULT_SEED",
    "EMBED_METHODS",
    "FORCE_FIELDS",
    "ORGANIC_ELEMENTS",
    "generate_conformers",
    "generation_settings",
]

DEFAULT_SEED = 42
DEFAULT_MAX_HEAVY_ATOMS_3D = 100
DEFAULT_MAX_ITERS = 500
FORCE_FIELDS = ("MMFF94s", "MMFF94", "UFF")
EMBED_METHODS = {
    "ETKDGv3": rdDistGeom.ETKDGv3,
    "srETKDGv3": rdDistGeom.srETKDGv3,
    "ETKDGv2": rdDistGeom.ETKDGv2,
    "ETKDG": rdDistGeom.ETKDG,
    "KDG": rdDistGeom.KDG,
}
# Elements ETKDG and MMFF/UFF handle as covalent organic chemistry; anything else (metals) is refused.
ORGANIC_ELEMENTS = frozenset({"H", "B", "C", "N", "O", "F", "Si", "P", "S", "Cl", "Se", "Br", "I"})


def generation_settings(
    n: int, seed: int, method: str, optimize: str | None, prune_rms: float, max_iters: int
) -> dict[str, object]:
    """The settings that define an ensemble (stored with it and part of the cache key)."""
    return {
        "n": int(n),
        "seed": int(seed),
        "method": method,
        "optimize": optimize or "none",
        "prune_rms": float(prune_rms or 0.0),
        "max_iters": int(max_iters),
    }


def generate_conformers(
    smiles_or_mol: str | Chem.Mol | None,
    n: int = 10,
    *,
    seed: int = DEFAULT_SEED,
    method: str = "ETKDGv3",
    optimize: str | None = "MMFF94s",
    prune_rms: float = 0.5,
    max_seconds: float = 60.0,
    max_heavy_atoms: int = DEFAULT_MAX_HEAVY_ATOMS_3D,
    max_iters: int = DEFAULT_MAX_ITERS,
    num_threads: int = 1,
) -> ConformerEnsemble:
    """Embed, optimize and sort an ensemble of conformers for one molecule.

    Args:
        smiles_or_mol: a SMILES (parsed and standardized with :func:`workbench.chem.parse_one`)
            or an RDKit molecule (used as given).
        n: conformers to embed; pruning may leave fewer.
        seed: random seed of the embedding; the same seed gives the same ensemble.
        method: one of :data:`EMBED_METHODS` (default ETKDGv3).
        optimize: "MMFF94s", "MMFF94", "UFF" or ``None`` (single-point energies of the embedded
            geometries). MMFF falls back to UFF when it has no parameters; ``notes`` says so.
        prune_rms: heavy-atom RMSD (Å) under which two conformers count as the same, applied at
            embedding and again after optimization; 0 keeps everything.
        max_seconds: time budget; a molecule that takes longer gets a "timed out" error.
        max_heavy_atoms: refuse larger molecules with an error.
        max_iters: force-field iterations per conformer.
        num_threads: threads for embedding and optimization (0: all cores).

    Returns:
        A :class:`ConformerEnsemble`; ``error`` names the reason when none could be made.

    Raises:
        ValueError: an unknown ``method`` or ``optimize`` value (a programming error, not a molecule's).
    """
    if method not in EMBED_METHODS:
        raise ValueError(f"unknown embedding method {method!r}; choose from {', '.join(EMBED_METHODS)}")
    if optimize is not None and optimize not in FORCE_FIELDS:
        raise ValueError(f"unknown force field {optimize!r}; choose from {', '.join(FORCE_FIELDS)} or None")
    settings = generation_settings(n, seed, method, optimize, prune_rms, max_iters)
    if isinstance(smiles_or_mol, Chem.Mol):
        mol = Chem.Mol(smiles_or_mol)
        try:
            smiles = Chem.MolToSmiles(Chem.RemoveHs(mol))
        except Exception as exc:
            return failed_ensemble("<molecule>", f"invalid molecule: {exc}", settings=settings)
        input_text = smiles
    else:
        parsed = parse_one(smiles_or_mol, max_heavy_atoms=10**6, inchikey=False)
        if not parsed.ok:
            return failed_ensemble(parsed.input, parsed.error, settings=settings)
        mol, smiles, input_text = parsed.mol, parsed.smiles, parsed.input
    try:
        return _generate(mol, input_text, smiles, settings, max_seconds, max_heavy_atoms, num_threads)
    except Exception as exc:  # last line of defence: an error result, never a crash
        return failed_ensemble(input_text, f"unexpected error during conformer generation: {exc}", smiles=smiles)


def _generate(
    mol: Chem.Mol,
    input_text: str,
    smiles: str,
    settings: dict,
    max_seconds: float,
    max_heavy_atoms: int,
    num_threads: int,
) -> ConformerEnsemble:
    start = time.perf_counter()
    fail = lambda error: failed_ensemble(input_text, error, smiles=smiles, settings=settings)  # noqa: E731
    foreign = sorted({a.GetSymbol() for a in mol.GetAtoms()} - ORGANIC_ELEMENTS)
    if foreign:
        return fail(
            f"metal complex or unsupported element for 3D ({', '.join(foreign)}): ETKDG embedding and the "
            "MMFF/UFF force fields do not model coordination chemistry reliably."
        )
    heavy = mol.GetNumHeavyAtoms()
    if heavy > max_heavy_atoms:
        return fail(
            f"too large for 3D conformers: {heavy} heavy atoms, the limit is {max_heavy_atoms} "
            "(raise max_heavy_atoms to try anyway; embedding time grows steeply with size)."
        )
    mol = Chem.AddHs(mol)
    params = EMBED_METHODS[settings["method"]]()
    params.randomSeed = settings["seed"]
    params.pruneRmsThresh = settings["prune_rms"] if settings["prune_rms"] > 0 else -1.0
    params.numThreads = num_threads
    params.timeout = max(1, math.ceil(max_seconds))
    params.trackFailures = True
    with rdBase.BlockLogs():
        ids = list(rdDistGeom.EmbedMultipleConfs(mol, settings["n"], params))
        if not ids and time.perf_counter() - start < max_seconds:
            params.useRandomCoords = True  # the usual rescue for cages and strained rings
            ids = list(rdDistGeom.EmbedMultipleConfs(mol, settings["n"], params))
    elapsed = time.perf_counter() - start
    if not ids:
        return fail(_embed_failure(params, elapsed, max_seconds))
    if elapsed > max_seconds:
        return fail(f"timed out: embedding took {elapsed:.1f} s, the limit is {max_seconds:g} s.")
    energies, converged, force_field, optimized, notes = _energies(mol, settings, num_threads)
    order = np.argsort(np.where(np.isfinite(energies), energies, 0.0), kind="stable")
    mol = _reorder(mol, [ids[i] for i in order])
    energies, converged = energies[order], converged[order]
    rmsd = None
    if settings["prune_rms"] > 0 and mol.GetNumConformers() > 1:
        rmsd = heavy_atom_rmsd_matrix(mol)
        keep = _greedy_unique(rmsd, settings["prune_rms"])
        if len(keep) < len(order):
            mol = _reorder(mol, keep)
            energies, converged, rmsd = energies[keep], converged[keep], rmsd[np.ix_(keep, keep)]
    heavy_ids = [a.GetIdx() for a in mol.GetAtoms() if a.GetAtomicNum() > 1]
    rdMolAlign.AlignMolConformers(mol, atomIds=heavy_ids)
    elapsed = time.perf_counter() - start
    if elapsed > max_seconds:
        return fail(f"timed out: conformer generation took {elapsed:.1f} s, the limit is {max_seconds:g} s.")
    return ConformerEnsemble(
        input=input_text,
        smiles=smiles,
        mol=mol,
        absolute_energies=energies,
        converged=converged,
        force_field=force_field,
        optimized=optimized,
        notes=tuple(notes),
        settings=settings,
        seconds=elapsed,
        _rmsd=rmsd,
    )


def _embed_failure(params: rdDistGeom.EmbedParameters, elapsed: float, max_seconds: float) -> str:
    counts = dict(zip(rdDistGeom.OrderedEmbedFailureCauses, params.GetFailureCounts(), strict=False))
    if counts.get(rdDistGeom.EXCEEDED_TIMEOUT, 0) or elapsed >= max_seconds:
        return f"timed out: no conformer could be embedded within {max_seconds:g} s."
    cause = max(counts, key=counts.get) if counts and max(counts.values()) else None
    detail = f" (most attempts failed at {cause.name.lower().replace('_', ' ')})" if cause is not None else ""
    return (
        f"could not embed in 3D{detail}: the geometry constraints cannot be met, typical of very strained "
        "or unusual ring systems."
    )


def _energies(mol: Chem.Mol, settings: dict, num_threads: int) -> tuple[np.ndarray, np.ndarray, str, bool, list[str]]:
    requested = settings["optimize"]
    n = mol.GetNumConformers()
    notes: list[str] = []
    mmff_ok = rdForceFieldHelpers.MMFFHasAllMoleculeParams(mol)
    uff_ok = rdForceFieldHelpers.UFFHasAllMoleculeParams(mol)
    if requested == "none":
        variant = "MMFF94s" if mmff_ok else ("UFF" if uff_ok else "none")
        notes.append(f"not optimized: single-point {variant} energies of the embedded geometries")
        return _single_point(mol, variant), np.zeros(n, dtype=bool), variant, False, notes
    force_field = requested
    if requested.startswith("MMFF") and not mmff_ok:
        force_field = "UFF" if uff_ok else "none"
        notes.append(f"{requested} has no parameters for this molecule; used {force_field} instead")
    elif requested == "UFF" and not uff_ok:
        force_field = "none"
        notes.append("UFF has no parameters for this molecule")
    if force_field == "none":
        notes.append("geometries are not optimized and energies are unknown")
        return np.full(n, np.nan), np.zeros(n, dtype=bool), "none", False, notes
    if force_field == "UFF":
        results = rdForceFieldHelpers.UFFOptimizeMoleculeConfs(
            mol, numThreads=num_threads, maxIters=settings["max_iters"]
        )
    else:
        results = rdForceFieldHelpers.MMFFOptimizeMoleculeConfs(
            mol, numThreads=num_threads, maxIters=settings["max_iters"], mmffVariant=force_field
        )
    converged = np.array([not_converged == 0 for not_converged, _ in results], dtype=bool)
    energies = np.array([energy for _, energy in results], dtype=float)
    if not converged.all():
        notes.append(
            f"{int((~converged).sum())} of {n} optimizations did not converge in {settings['max_iters']} steps"
        )
    return energies, converged, force_field, True, notes


def _single_point(mol: Chem.Mol, variant: str) -> np.ndarray:
    ids = [c.GetId() for c in mol.GetConformers()]
    if variant == "MMFF94s":
        props = MMFFGetMoleculeProperties(mol, mmffVariant="MMFF94s")
        return np.array([MMFFGetMoleculeForceField(mol, props, confId=i).CalcEnergy() for i in ids])
    if variant == "UFF":
        return np.array([rdForceFieldHelpers.UFFGetMoleculeForceField(mol, confId=i).CalcEnergy() for i in ids])
    return np.full(len(ids), np.nan)


def _reorder(mol: Chem.Mol, conf_ids: Sequence[int]) -> Chem.Mol:
    """A copy of ``mol`` whose conformers are ``conf_ids`` in that order, renumbered 0..k-1."""
    out = Chem.Mol(mol)
    out.RemoveAllConformers()
    for new_id, old_id in enumerate(conf_ids):
        conf = Chem.Conformer(mol.GetConformer(int(old_id)))
        conf.SetId(new_id)
        out.AddConformer(conf, assignId=False)
    return out


def _greedy_unique(rmsd: np.ndarray, threshold: float) -> list[int]:
    """Indices kept when walking in energy order and dropping near-duplicates of a kept conformer."""
    keep: list[int] = []
    for i in range(rmsd.shape[0]):
        if all(rmsd[i, j] >= threshold for j in keep):
            keep.append(i)
    return keep
