"""Two molecules in 3D, the second aligned on the first by their maximum common substructure."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from rdkit import Chem, rdBase
from rdkit.Chem import rdDistGeom, rdFMCS, rdForceFieldHelpers, rdMolAlign
from rdkit.Chem.rdForceFieldHelpers import MMFFGetMoleculeForceField, MMFFGetMoleculeProperties
from rdkit.Geometry import Point3D

from workbench.chem import parse_one
from workbench.conformers.generate import DEFAULT_MAX_ITERS, DEFAULT_SEED, generate_conformers

__all__ = ["PairOverlay", "overlay_pair"]


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
