"""3D conformer ensembles: RDKit ETKDG embedding, force-field energies, RMSD, clustering, export.

:func:`generate_conformers` turns one molecule into a :class:`ConformerEnsemble`
whose conformers are sorted by energy (conformer 0 is the lowest) and aligned on
it. Failures are results, not exceptions: an ensemble with ``error`` set says
why (metal complex, too large, embedding failed, timed out). The batch API
(:func:`generate_conformers_batch`) returns one row per input with an ``error``
column, runs over processes and can reuse a :class:`ConformerCache` on disk.
:func:`overlay_pair` aligns two molecules on their maximum common substructure.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import sqlite3
import struct
import time
import zlib
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase
from rdkit.Chem import rdDistGeom, rdFMCS, rdForceFieldHelpers, rdMolAlign, rdPartialCharges
from rdkit.Chem.rdForceFieldHelpers import MMFFGetMoleculeForceField, MMFFGetMoleculeProperties
from rdkit.Geometry import Point3D
from rdkit.ML.Cluster import Butina

from workbench.chem import parse_one

__all__ = [
    "BOLTZMANN_TEMPERATURE",
    "DEFAULT_MAX_HEAVY_ATOMS_3D",
    "DEFAULT_SEED",
    "EMBED_METHODS",
    "FORCE_FIELDS",
    "ConformerCache",
    "ConformerEnsemble",
    "PairOverlay",
    "boltzmann_weights",
    "ensemble_from_bytes",
    "ensemble_to_bytes",
    "gasteiger_charges",
    "generate_conformers",
    "generate_conformers_batch",
    "overlay_pair",
    "read_sdf_ensembles",
]

BOLTZMANN_TEMPERATURE = 298.15  # K
GAS_CONSTANT = 0.0019872043  # kcal/(mol·K)
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
_FORMAT_MAGIC = b"WBCE"
_FORMAT_VERSION = 1


def boltzmann_weights(energies: Sequence[float] | np.ndarray, temperature: float = BOLTZMANN_TEMPERATURE) -> np.ndarray:
    """Boltzmann populations of energies in kcal/mol at ``temperature`` K (uniform when energies are unknown)."""
    e = np.asarray(energies, dtype=float)
    if e.size == 0:
        return e
    if not np.isfinite(e).all():
        return np.full(e.shape, 1.0 / e.size)
    w = np.exp(-(e - e.min()) / (GAS_CONSTANT * temperature))
    return w / w.sum()


def gasteiger_charges(mol: Chem.Mol) -> np.ndarray:
    """Gasteiger partial charges, one per atom of ``mol`` (NaN where undefined)."""
    copy = Chem.Mol(mol)
    rdPartialCharges.ComputeGasteigerCharges(copy)
    charges = np.array([a.GetDoubleProp("_GasteigerCharge") for a in copy.GetAtoms()], dtype=float)
    charges[~np.isfinite(charges)] = np.nan
    return charges


@dataclass
class ConformerEnsemble:
    """A molecule with its 3D conformers (hydrogens added), sorted by energy, aligned on the lowest.

    Attributes:
        input: the input as given (a SMILES, or the SMILES of an input molecule).
        smiles: canonical SMILES of the standardized molecule ("" when parsing failed).
        mol: RDKit molecule with explicit hydrogens; conformer ids are 0..n-1 in energy order.
        absolute_energies: force-field energies in kcal/mol (NaN when no force field applies).
        converged: per conformer, whether the optimization converged within ``max_iters``.
        force_field: the force field actually used: "MMFF94s", "MMFF94", "UFF" or "none".
        optimized: whether the geometries were minimized (else single-point energies).
        notes: what deviated from the request, e.g. a UFF fallback.
        error: why no ensemble could be made; empty on success.
        settings: the generation settings (part of the cache key).
        seconds: wall-clock time of the generation.
    """

    input: str
    smiles: str = ""
    mol: Chem.Mol | None = None
    absolute_energies: np.ndarray = field(default_factory=lambda: np.zeros(0))
    converged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    force_field: str = "none"
    optimized: bool = False
    notes: tuple[str, ...] = ()
    error: str = ""
    settings: dict = field(default_factory=dict)
    seconds: float = 0.0
    _rmsd: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return not self.error and self.mol is not None and self.mol.GetNumConformers() > 0

    @property
    def n_conformers(self) -> int:
        return self.mol.GetNumConformers() if self.mol is not None else 0

    @property
    def energies(self) -> np.ndarray:
        """Energies in kcal/mol relative to the lowest conformer (the minimum is 0)."""
        e = np.asarray(self.absolute_energies, dtype=float)
        return e - e.min() if e.size and np.isfinite(e).all() else e

    @property
    def weights(self) -> np.ndarray:
        """Boltzmann weights at 298.15 K; they sum to 1."""
        return boltzmann_weights(self.absolute_energies)

    def rmsd_matrix(self) -> np.ndarray:
        """Heavy-atom RMSD (Å) between every pair of conformers, symmetry-aware, after best alignment."""
        if self._rmsd is None:
            self._rmsd = _rmsd_matrix(self.mol) if self.ok else np.zeros((0, 0))
        return self._rmsd

    def clusters(self, threshold: float = 1.0) -> np.ndarray:
        """Butina clusters of the conformers at an RMSD ``threshold`` (Å); cluster 0 holds the lowest conformer."""
        n = self.n_conformers
        if n == 0:
            return np.zeros(0, dtype=int)
        rmsd = self.rmsd_matrix()
        lower = [rmsd[i, j] for i in range(1, n) for j in range(i)]
        groups = Butina.ClusterData(lower, n, threshold, isDistData=True, reordering=True)
        labels = np.zeros(n, dtype=int)
        for label, members in enumerate(sorted(groups, key=min)):
            labels[list(members)] = label
        return labels

    def to_frame(self, cluster_threshold: float = 1.0) -> pd.DataFrame:
        """One row per conformer: energy, Boltzmann weight, RMSD to the lowest, cluster, convergence."""
        n = self.n_conformers
        rmsd = self.rmsd_matrix()
        return pd.DataFrame(
            {
                "conformer": np.arange(n),
                "energy_kcal_mol": np.round(self.energies, 4),
                "boltzmann_weight": np.round(self.weights, 4),
                "rmsd_to_lowest": np.round(rmsd[0], 3) if n else np.zeros(0),
                "cluster": self.clusters(cluster_threshold),
                "converged": np.asarray(self.converged, dtype=bool),
            }
        )

    def conformer_mol(self, conformer: int = 0) -> Chem.Mol:
        """A copy of the molecule holding only one conformer."""
        return Chem.Mol(self.mol, confId=int(self.mol.GetConformers()[conformer].GetId()))

    def to_sdf(self, name: str = "") -> str:
        """All conformers as SDF records, with energies, weights and settings as properties."""
        buffer = io.StringIO()
        writer = Chem.SDWriter(buffer)
        writer.SetKekulize(True)
        for i, props in enumerate(self._record_props(name)):
            mol = Chem.Mol(self.mol)
            for key, value in props.items():
                mol.SetProp(key, value)
            writer.write(mol, confId=i)
        writer.close()
        return buffer.getvalue()

    def to_xyz(self) -> str:
        """All conformers as a multi-frame XYZ file (energy and weight on each comment line)."""
        symbols = [a.GetSymbol() for a in self.mol.GetAtoms()]
        blocks = []
        for i, (e, w) in enumerate(zip(self.energies, self.weights, strict=True)):
            coords = self.mol.GetConformer(i).GetPositions()
            lines = [str(len(symbols)), f"{self.smiles} conformer={i} energy_kcal_mol={e:.4f} weight={w:.4f}"]
            lines += [f"{s:<2} {x:12.6f} {y:12.6f} {z:12.6f}" for s, (x, y, z) in zip(symbols, coords, strict=True)]
            blocks.append("\n".join(lines))
        return "\n".join(blocks) + "\n"

    def to_pdb(self) -> str:
        """All conformers as one PDB file, one MODEL per conformer."""
        if self.n_conformers == 1:
            return Chem.MolToPDBBlock(self.mol, confId=0)
        return Chem.MolToPDBBlock(self.mol)

    def _record_props(self, name: str) -> list[dict[str, str]]:
        common = {
            "_Name": name or self.smiles,
            "smiles": self.smiles,
            "force_field": self.force_field,
            "optimized": str(int(self.optimized)),
            "settings": json.dumps(self.settings, sort_keys=True),
        }
        return [
            {
                **common,
                "conformer_id": str(i),
                "energy_kcal_mol": f"{e:.6f}",
                "energy_abs_kcal_mol": f"{a:.6f}",
                "boltzmann_weight": f"{w:.6f}",
                "converged": str(int(c)),
            }
            for i, (e, a, w, c) in enumerate(
                zip(self.energies, self.absolute_energies, self.weights, self.converged, strict=True)
            )
        ]


def _failed(input_text: str, error: str, *, smiles: str = "", settings: dict | None = None) -> ConformerEnsemble:
    return ConformerEnsemble(input=input_text, smiles=smiles, error=error, settings=dict(settings or {}))


def _settings(
    n: int, seed: int, method: str, optimize: str | None, prune_rms: float, max_iters: int
) -> dict[str, object]:
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
    settings = _settings(n, seed, method, optimize, prune_rms, max_iters)
    if isinstance(smiles_or_mol, Chem.Mol):
        mol = Chem.Mol(smiles_or_mol)
        try:
            smiles = Chem.MolToSmiles(Chem.RemoveHs(mol))
        except Exception as exc:
            return _failed("<molecule>", f"invalid molecule: {exc}", settings=settings)
        input_text = smiles
    else:
        parsed = parse_one(smiles_or_mol, max_heavy_atoms=10**6, inchikey=False)
        if not parsed.ok:
            return _failed(parsed.input, parsed.error, settings=settings)
        mol, smiles, input_text = parsed.mol, parsed.smiles, parsed.input
    try:
        return _generate(mol, input_text, smiles, settings, max_seconds, max_heavy_atoms, num_threads)
    except Exception as exc:  # last line of defence: an error result, never a crash
        return _failed(input_text, f"unexpected error during conformer generation: {exc}", smiles=smiles)


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
    fail = lambda error: _failed(input_text, error, smiles=smiles, settings=settings)  # noqa: E731
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
        rmsd = _rmsd_matrix(mol)
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


def _rmsd_matrix(mol: Chem.Mol) -> np.ndarray:
    n = mol.GetNumConformers()
    matrix = np.zeros((n, n))
    if n < 2:
        return matrix
    heavy = Chem.RemoveHs(mol)
    lower = rdMolAlign.GetAllConformerBestRMS(heavy, maxMatches=10_000)
    k = 0
    for i in range(1, n):
        for j in range(i):
            matrix[i, j] = matrix[j, i] = lower[k]
            k += 1
    return matrix


def _greedy_unique(rmsd: np.ndarray, threshold: float) -> list[int]:
    """Indices kept when walking in energy order and dropping near-duplicates of a kept conformer."""
    keep: list[int] = []
    for i in range(rmsd.shape[0]):
        if all(rmsd[i, j] >= threshold for j in keep):
            keep.append(i)
    return keep


# --------------------------------------------------------------------------- SDF round trip


def read_sdf_ensembles(source: str | bytes | Path) -> list[ConformerEnsemble]:
    """Read an SDF written by :meth:`ConformerEnsemble.to_sdf` (or any multi-conformer SDF) back into ensembles.

    Consecutive records of the same molecule (same ``smiles`` property, or same canonical
    SMILES) become one ensemble; energies come from ``energy_abs_kcal_mol`` (or
    ``energy_kcal_mol``), NaN when absent.
    """
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and Path(source).is_file()):
        data = Path(source).read_bytes()
    else:
        data = source.encode() if isinstance(source, str) else source
    groups: list[tuple[str, list[Chem.Mol]]] = []
    with rdBase.BlockLogs():
        for mol in Chem.ForwardSDMolSupplier(io.BytesIO(data), removeHs=False):
            if mol is None:
                continue
            key = mol.GetProp("smiles") if mol.HasProp("smiles") else Chem.MolToSmiles(Chem.RemoveHs(mol))
            if groups and groups[-1][0] == key and groups[-1][1][0].GetNumAtoms() == mol.GetNumAtoms():
                groups[-1][1].append(mol)
            else:
                groups.append((key, [mol]))
    return [_ensemble_from_records(key, records) for key, records in groups]


def _ensemble_from_records(smiles: str, records: list[Chem.Mol]) -> ConformerEnsemble:
    mol = Chem.Mol(records[0])
    mol.RemoveAllConformers()
    for name in list(mol.GetPropNames()):
        mol.ClearProp(name)
    energies, converged = [], []
    for i, record in enumerate(records):
        conf = Chem.Conformer(record.GetConformer())
        conf.SetId(i)
        mol.AddConformer(conf, assignId=False)
        prop = "energy_abs_kcal_mol" if record.HasProp("energy_abs_kcal_mol") else "energy_kcal_mol"
        energies.append(float(record.GetProp(prop)) if record.HasProp(prop) else math.nan)
        converged.append(record.HasProp("converged") and record.GetProp("converged") == "1")
    first = records[0]
    settings = json.loads(first.GetProp("settings")) if first.HasProp("settings") else {}
    return ConformerEnsemble(
        input=first.GetProp("_Name") if first.HasProp("_Name") else smiles,
        smiles=smiles,
        mol=mol,
        absolute_energies=np.array(energies, dtype=float),
        converged=np.array(converged, dtype=bool),
        force_field=first.GetProp("force_field") if first.HasProp("force_field") else "none",
        optimized=first.HasProp("optimized") and first.GetProp("optimized") == "1",
        settings=settings,
    )


# --------------------------------------------------------------------------- compact binary format and cache


def ensemble_to_bytes(ensemble: ConformerEnsemble) -> bytes:
    """Serialize an ensemble compactly: JSON header, RDKit binary topology, float32 coordinates; zlib-compressed."""
    header = {
        "input": ensemble.input,
        "smiles": ensemble.smiles,
        "force_field": ensemble.force_field,
        "optimized": ensemble.optimized,
        "notes": list(ensemble.notes),
        "error": ensemble.error,
        "settings": ensemble.settings,
        "seconds": round(ensemble.seconds, 4),
    }
    topology, coords = b"", np.zeros((0, 0, 3), dtype=np.float32)
    if ensemble.mol is not None:
        bare = Chem.Mol(ensemble.mol)
        bare.RemoveAllConformers()
        topology = bare.ToBinary()
        coords = np.stack([c.GetPositions() for c in ensemble.mol.GetConformers()]).astype(np.float32)
    header["shape"] = list(coords.shape)
    head = json.dumps(header, separators=(",", ":")).encode()
    energies = np.asarray(ensemble.absolute_energies, dtype=np.float64).tobytes()
    converged = np.asarray(ensemble.converged, dtype=np.uint8).tobytes()
    parts = [head, topology, coords.tobytes(), energies, converged]
    body = struct.pack("<5I", *map(len, parts)) + b"".join(parts)
    return _FORMAT_MAGIC + struct.pack("<H", _FORMAT_VERSION) + zlib.compress(body, 6)


def ensemble_from_bytes(data: bytes) -> ConformerEnsemble:
    """Inverse of :func:`ensemble_to_bytes`.

    Raises:
        ValueError: the bytes are not an ensemble in a format version this code reads.
    """
    if data[:4] != _FORMAT_MAGIC:
        raise ValueError("not a workbench conformer ensemble (bad magic bytes)")
    (version,) = struct.unpack("<H", data[4:6])
    if version != _FORMAT_VERSION:
        raise ValueError(f"conformer format version {version} is not supported (this code reads {_FORMAT_VERSION})")
    body = zlib.decompress(data[6:])
    lengths = struct.unpack("<5I", body[:20])
    parts, offset = [], 20
    for length in lengths:
        parts.append(body[offset : offset + length])
        offset += length
    head, topology, coords_raw, energies_raw, converged_raw = parts
    header = json.loads(head)
    mol = None
    if topology:
        mol = Chem.Mol(topology)
        coords = np.frombuffer(coords_raw, dtype=np.float32).reshape(header["shape"]).astype(float)
        for i, xyz in enumerate(coords):
            conf = Chem.Conformer(mol.GetNumAtoms())
            for atom, (x, y, z) in enumerate(xyz):
                conf.SetAtomPosition(atom, Point3D(x, y, z))
            conf.Set3D(True)
            conf.SetId(i)
            mol.AddConformer(conf, assignId=False)
    return ConformerEnsemble(
        input=header["input"],
        smiles=header["smiles"],
        mol=mol,
        absolute_energies=np.frombuffer(energies_raw, dtype=np.float64).copy(),
        converged=np.frombuffer(converged_raw, dtype=np.uint8).astype(bool),
        force_field=header["force_field"],
        optimized=header["optimized"],
        notes=tuple(header["notes"]),
        error=header["error"],
        settings=header["settings"],
        seconds=header["seconds"],
    )


def _cache_key(smiles: str, settings: dict) -> str:
    text = smiles + "|" + json.dumps(settings, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()


class ConformerCache:
    """An on-disk store of ensembles in one SQLite file, keyed on canonical SMILES and settings.

    Each entry is a compressed :func:`ensemble_to_bytes` blob (about 1 KB per conformer of a
    drug-sized molecule), so thousands of molecules fit in a few tens of MB and are computed once.
    Ensembles and reproducible errors are stored; timeouts are not (they depend on the machine).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS ensembles "
                "(key TEXT PRIMARY KEY, smiles TEXT NOT NULL, settings TEXT NOT NULL, data BLOB NOT NULL)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get(self, smiles: str, settings: dict) -> ConformerEnsemble | None:
        """The stored ensemble for a canonical SMILES and settings, or ``None``."""
        with self._connect() as db:
            row = db.execute("SELECT data FROM ensembles WHERE key = ?", (_cache_key(smiles, settings),)).fetchone()
        return ensemble_from_bytes(row[0]) if row else None

    def put(self, ensemble: ConformerEnsemble) -> bool:
        """Store an ensemble (skipped for unparsable inputs and timeouts); returns whether it was stored."""
        if not ensemble.smiles or ensemble.error.startswith(("timed out", "unexpected error")):
            return False
        self.put_many([ensemble])
        return True

    def put_many(self, ensembles: Sequence[ConformerEnsemble]) -> None:
        rows = [
            (
                _cache_key(e.smiles, e.settings),
                e.smiles,
                json.dumps(e.settings, sort_keys=True),
                ensemble_to_bytes(e),
            )
            for e in ensembles
            if e.smiles and not e.error.startswith(("timed out", "unexpected error"))
        ]
        with self._connect() as db:
            db.executemany("INSERT OR REPLACE INTO ensembles VALUES (?, ?, ?, ?)", rows)

    def __len__(self) -> int:
        with self._connect() as db:
            return db.execute("SELECT COUNT(*) FROM ensembles").fetchone()[0]

    def __iter__(self) -> Iterator[ConformerEnsemble]:
        with self._connect() as db:
            for (data,) in db.execute("SELECT data FROM ensembles ORDER BY rowid"):
                yield ensemble_from_bytes(data)


# --------------------------------------------------------------------------- batch


def _batch_one(job: tuple[object, dict]) -> ConformerEnsemble:
    item, options = job
    try:
        return generate_conformers(item, **options)
    except Exception as exc:
        return _failed(str(item), f"unexpected error: {exc}")


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
    settings = _settings(
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


# --------------------------------------------------------------------------- pair overlay


@dataclass
class PairOverlay:
    """Two molecules in 3D, the second aligned on the first by their maximum common substructure.

    Attributes:
        mol_a, mol_b: molecules with hydrogens and one conformer each (``mol_b`` aligned on ``mol_a``).
        mcs_smarts: the common substructure.
        atom_map: (atom in a, atom in b) pairs of the common heavy atoms.
        differing_a, differing_b: heavy atoms outside the common substructure.
        rmsd: RMSD (Å) over the common atoms after alignment.
        notes: e.g. a fallback to unconstrained embedding.
        error: why no overlay could be made; empty on success.
    """

    smiles_a: str = ""
    smiles_b: str = ""
    mol_a: Chem.Mol | None = None
    mol_b: Chem.Mol | None = None
    mcs_smarts: str = ""
    atom_map: list[tuple[int, int]] = field(default_factory=list)
    differing_a: list[int] = field(default_factory=list)
    differing_b: list[int] = field(default_factory=list)
    rmsd: float = math.nan
    notes: tuple[str, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error and self.mol_a is not None and self.mol_b is not None


def overlay_pair(
    a: str | Chem.Mol,
    b: str | Chem.Mol,
    *,
    seed: int = DEFAULT_SEED,
    n: int = 5,
    optimize: str | None = "MMFF94s",
    mcs_timeout: float = 2.0,
    min_common_atoms: int = 3,
) -> PairOverlay:
    """Align ``b`` onto the lowest-energy conformer of ``a`` by their maximum common substructure.

    ``b`` is embedded with the common atoms held at ``a``'s coordinates (then relaxed with those
    atoms fixed), so the shared scaffold superimposes and the differing atoms stand out.
    """
    first = generate_conformers(a, n, seed=seed, optimize=optimize)
    if not first.ok:
        return PairOverlay(smiles_a=first.smiles, error=f"first molecule: {first.error}")
    if isinstance(b, Chem.Mol):
        mol_b, smiles_b = Chem.RemoveHs(b), Chem.MolToSmiles(Chem.RemoveHs(b))
    else:
        parsed = parse_one(b, inchikey=False)
        if not parsed.ok:
            return PairOverlay(smiles_a=first.smiles, error=f"second molecule: {parsed.error}")
        mol_b, smiles_b = parsed.mol, parsed.smiles
    check = generate_conformers(mol_b, 1, seed=seed, optimize=None)
    if not check.ok:
        return PairOverlay(smiles_a=first.smiles, smiles_b=smiles_b, error=f"second molecule: {check.error}")
    mol_a = first.conformer_mol(0)
    heavy_a = Chem.RemoveHs(mol_a)
    mcs = rdFMCS.FindMCS(
        [heavy_a, mol_b], timeout=max(1, int(mcs_timeout)), ringMatchesRingOnly=True, completeRingsOnly=True
    )
    if mcs.numAtoms < min_common_atoms:
        return PairOverlay(
            smiles_a=first.smiles,
            smiles_b=smiles_b,
            error=f"the molecules share fewer than {min_common_atoms} atoms, so there is nothing to align on.",
        )
    pattern = Chem.MolFromSmarts(mcs.smartsString)
    match_a = mol_a.GetSubstructMatch(pattern)
    mol_b = Chem.AddHs(mol_b)
    match_b = mol_b.GetSubstructMatch(pattern)
    atom_map = list(zip(match_a, match_b, strict=True))
    notes: list[str] = []
    placed = _embed_on_core(mol_b, mol_a, atom_map, seed, n, optimize)
    if placed is None:
        notes.append("constrained embedding failed; aligned an unconstrained conformer instead")
        free = generate_conformers(Chem.RemoveHs(mol_b), n, seed=seed, optimize=optimize)
        placed = Chem.Mol(free.conformer_mol(0)) if free.ok else None
        if placed is None:
            return PairOverlay(smiles_a=first.smiles, smiles_b=smiles_b, error=f"second molecule: {free.error}")
    rmsd = rdMolAlign.AlignMol(placed, mol_a, atomMap=[(j, i) for i, j in atom_map])
    return PairOverlay(
        smiles_a=first.smiles,
        smiles_b=smiles_b,
        mol_a=mol_a,
        mol_b=placed,
        mcs_smarts=mcs.smartsString,
        atom_map=atom_map,
        differing_a=[a.GetIdx() for a in mol_a.GetAtoms() if a.GetAtomicNum() > 1 and a.GetIdx() not in match_a],
        differing_b=[a.GetIdx() for a in placed.GetAtoms() if a.GetAtomicNum() > 1 and a.GetIdx() not in match_b],
        rmsd=float(rmsd),
        notes=tuple(notes),
    )


def _embed_on_core(
    mol_b: Chem.Mol, mol_a: Chem.Mol, atom_map: list[tuple[int, int]], seed: int, n: int, optimize: str | None
) -> Chem.Mol | None:
    """Embed ``mol_b`` with its common atoms at ``mol_a``'s positions; the lowest-energy result, or None."""
    conf_a = mol_a.GetConformer()
    params = rdDistGeom.ETKDGv3()
    params.randomSeed = seed
    params.useRandomCoords = True
    params.SetCoordMap({j: Point3D(*conf_a.GetAtomPosition(i)) for i, j in atom_map})
    with rdBase.BlockLogs():
        ids = list(rdDistGeom.EmbedMultipleConfs(mol_b, n, params))
    if not ids:
        return None
    best, best_energy = ids[0], math.inf
    if optimize is not None and rdForceFieldHelpers.MMFFHasAllMoleculeParams(mol_b):
        props = MMFFGetMoleculeProperties(mol_b, mmffVariant="MMFF94s")
        for cid in ids:
            ff = MMFFGetMoleculeForceField(mol_b, props, confId=cid)
            for _, j in atom_map:
                ff.AddFixedPoint(j)
            ff.Minimize(maxIts=DEFAULT_MAX_ITERS)
            energy = ff.CalcEnergy()
            if energy < best_energy:
                best, best_energy = cid, energy
    return Chem.Mol(mol_b, confId=best)
