"""A conformer ensemble and the per-molecule quantities derived from it.

:class:`ConformerEnsemble` holds a molecule's 3D conformers (hydrogens added), sorted by
energy with conformer 0 the lowest, together with their force-field energies; it derives
relative energies, Boltzmann weights, a heavy-atom RMSD matrix, Butina clusters and exports
(SDF, XYZ, PDB). Failures are results, not exceptions: an ensemble with ``error`` set says why.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rdkit import Chem
from rdkit.Chem import rdMolAlign, rdPartialCharges
from rdkit.ML.Cluster import Butina

__all__ = [
    "BOLTZMANN_TEMPERATURE",
    "GAS_CONSTANT",
    "ConformerEnsemble",
    "boltzmann_weights",
    "failed_ensemble",
    "gasteiger_charges",
    "heavy_atom_rmsd_matrix",
]

BOLTZMANN_TEMPERATURE = 298.15  # K
GAS_CONSTANT = 0.0019872043  # kcal/(mol·K)


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
            self._rmsd = heavy_atom_rmsd_matrix(self.mol) if self.ok else np.zeros((0, 0))
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


def failed_ensemble(
    input_text: str, error: str, *, smiles: str = "", settings: dict | None = None
) -> ConformerEnsemble:
    """An ensemble without conformers whose ``error`` says why none could be made."""
    return ConformerEnsemble(input=input_text, smiles=smiles, error=error, settings=dict(settings or {}))


def heavy_atom_rmsd_matrix(mol: Chem.Mol) -> np.ndarray:
    """Heavy-atom RMSD (Å) between every pair of ``mol``'s conformers, symmetry-aware, after best alignment."""
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
