"""Activity cliffs, following MoleculeACE (van Tilborg et al. 2022) exactly.

Two molecules are *similar* when at least one of three similarities is ≥ 0.9:

* Tanimoto on ECFP4 bit vectors (radius 2, 1,024 bits);
* Tanimoto on ECFP4 of the generic graph framework (MoleculeACE applies RDKit's
  ``MakeScaffoldGeneric`` to the whole molecule: every heavy atom becomes carbon,
  every bond single; when that fails it falls back to the Murcko scaffold);
* normalised Levenshtein similarity of the SMILES strings as given,
  ``1 - distance / max(len_a, len_b)``.

A similar pair is a *cliff* when the potency fold change ``max / min`` (of the
potencies in nM) is > 10. A *cliff molecule* takes part in at least one cliff
pair within the whole data set (MoleculeACE computes this before splitting, so
a test molecule can be a cliff molecule through a training partner).

Similarities are computed in bulk (fingerprint matrix products and RapidFuzz's
``cdist``) with the same floating-point arithmetic as MoleculeACE's loops, so the
``cliff_mol`` column shipped with MoleculeACE is reproduced bit for bit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein
from rdkit import Chem, rdBase
from rdkit.Chem.Scaffolds.MurckoScaffold import GetScaffoldForMol

from workbench.chem.similarity import tanimoto_matrix
from workbench.cliffs.potency import pactivity, potency_nm
from workbench.featurizers import ecfp_batch

__all__ = [
    "SIMILARITY_COLUMNS",
    "CliffResult",
    "find_cliffs",
    "generic_framework",
    "levenshtein_similarity",
    "pair_difference",
    "rmse",
    "rmse_cliff",
    "similar_pairs",
]

SIMILARITY_COLUMNS = ("tanimoto", "scaffold", "levenshtein")
SIMILARITY = 0.9
FOLD_CHANGE = 10.0
#: 1 - s is floored at this value in SALI, so fingerprint-identical pairs (s = 1) stay finite.
SALI_MIN_DISTANCE = 0.01


def _make_generic(mol: Chem.Mol) -> Chem.Mol:
    # RDKit's MakeScaffoldGeneric as MoleculeACE ran it: isotopes are kept (RDKit >= 2023 clears them,
    # which changes the fingerprints of [18F]/[123I]/[125I] ligands and five cliff_mol labels)
    res = Chem.Mol(mol)
    for atom in res.GetAtoms():
        if atom.GetAtomicNum() != 1:
            atom.SetAtomicNum(6)
        atom.SetIsAromatic(False)
        atom.SetFormalCharge(0)
        atom.SetChiralTag(Chem.ChiralType.CHI_UNSPECIFIED)
        atom.SetNoImplicit(False)
        atom.SetNumExplicitHs(0)
    for bond in res.GetBonds():
        bond.SetBondType(Chem.BondType.SINGLE)
        bond.SetIsAromatic(False)
    return Chem.RemoveHs(res)


def generic_framework(mol: Chem.Mol) -> Chem.Mol:
    """The generic graph framework MoleculeACE fingerprints for its scaffold similarity.

    Every heavy atom becomes carbon and every bond single (isotope labels kept, as in the RDKit
    MoleculeACE used); when that is chemically impossible (a carbon with five bonds) the plain
    Murcko scaffold is used instead, as MoleculeACE does.
    """
    try:
        with rdBase.BlockLogs():
            return _make_generic(mol)
    except Exception:
        return GetScaffoldForMol(mol)


def levenshtein_similarity(a: Sequence[str], b: Sequence[str] | None = None) -> np.ndarray:
    """Pairwise normalised Levenshtein similarity ``1 - d / max(len)`` of two lists of strings."""
    b = a if b is None else b
    dist = process.cdist(list(a), list(b), scorer=Levenshtein.distance, dtype=np.int32, workers=1)
    la = np.fromiter((len(s) for s in a), dtype=np.int64, count=len(a))
    lb = np.fromiter((len(s) for s in b), dtype=np.int64, count=len(b))
    longest = np.maximum(la[:, None], lb[None, :])
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(longest > 0, 1.0 - dist / np.maximum(longest, 1), 1.0)


def _fingerprints(mols: Sequence[Chem.Mol]) -> tuple[np.ndarray, np.ndarray]:
    fps = ecfp_batch(mols, n_bits=1024, radius=2)
    scaffolds = ecfp_batch([generic_framework(m) for m in mols], n_bits=1024, radius=2)
    return fps, scaffolds


def similar_pairs(smiles: Sequence[str], threshold: float = SIMILARITY, block: int = 1024) -> pd.DataFrame:
    """All pairs ``i < j`` where at least one of the three similarities is ≥ ``threshold``.

    Unparsable SMILES take part in no pair. Columns: ``i, j, tanimoto, scaffold, levenshtein``.
    """
    smiles = [str(s) for s in smiles]
    with rdBase.BlockLogs():
        mols = [Chem.MolFromSmiles(s) for s in smiles]
    ok = np.array([m is not None for m in mols])
    idx = np.flatnonzero(ok)
    fps, scaf = _fingerprints([mols[k] for k in idx])
    valid_smiles = [smiles[k] for k in idx]
    rows: list[np.ndarray] = []
    n = len(idx)
    for start in range(0, n, block):
        stop = min(n, start + block)
        tani = tanimoto_matrix(fps[start:stop], fps)
        scaff = tanimoto_matrix(scaf[start:stop], scaf)
        leve = levenshtein_similarity(valid_smiles[start:stop], valid_smiles)
        hit = (tani >= threshold) | (scaff >= threshold) | (leve >= threshold)
        r, c = np.nonzero(hit)
        r_global = r + start
        keep = c > r_global
        r, c, r_global = r[keep], c[keep], r_global[keep]
        rows.append(np.column_stack([idx[r_global], idx[c], tani[r, c], scaff[r, c], leve[r, c]]))
    data = np.concatenate(rows) if rows else np.empty((0, 5))
    frame = pd.DataFrame(data, columns=["i", "j", *SIMILARITY_COLUMNS])
    frame[["i", "j"]] = frame[["i", "j"]].astype(np.int64)
    return frame


@dataclass
class CliffResult:
    """Cliff analysis of one data set.

    Attributes:
        pairs: every similar pair (see :func:`similar_pairs`) with both SMILES, both potencies (nM and
            pActivity), ``fold_change``, ``delta_p`` (|Δ pActivity|), ``sali`` and ``is_cliff``.
        cliff_mol: per input row, whether it takes part in at least one cliff pair.
        errors: per input row, why it was left out ("" when it was used).
    """

    pairs: pd.DataFrame
    cliff_mol: np.ndarray
    errors: list[str] = field(default_factory=list)

    @property
    def cliffs(self) -> pd.DataFrame:
        """Only the cliff pairs."""
        return self.pairs[self.pairs["is_cliff"]].reset_index(drop=True)


def find_cliffs(
    smiles: Sequence[str],
    potency: Sequence[float] | np.ndarray,
    unit: str = "nM",
    *,
    similarity: float = SIMILARITY,
    fold_change: float = FOLD_CHANGE,
    min_similarity: float | None = None,
) -> CliffResult:
    """Find activity cliffs as MoleculeACE does.

    Args:
        smiles: SMILES strings, used as given (MoleculeACE does not canonicalise them).
        potency: potencies in ``unit``.
        unit: ``"nM"`` (Ki / IC50 / EC50) or ``"pActivity"``.
        similarity: a pair is similar if any similarity is ≥ this.
        fold_change: a similar pair is a cliff if ``max/min`` potency is > this.
        min_similarity: also list pairs down to this similarity (for SAS maps); they are never cliffs.

    Returns:
        :class:`CliffResult`; SALI = |Δ pActivity| / (1 − Tanimoto), with 1 − Tanimoto floored at
        :data:`SALI_MIN_DISTANCE`.
    """
    smiles = [str(s) for s in smiles]
    nm = potency_nm(potency, unit)
    if len(nm) != len(smiles):
        raise ValueError(f"{len(smiles)} SMILES but {len(nm)} potencies")
    errors = []
    with rdBase.BlockLogs():
        for s, v in zip(smiles, nm, strict=True):
            if Chem.MolFromSmiles(s) is None:
                errors.append("unparsable SMILES")
            elif not np.isfinite(v) or v <= 0:
                errors.append("potency missing or not positive")
            else:
                errors.append("")
    good = np.array([e == "" for e in errors], dtype=bool)
    usable = [s if ok else "" for s, ok in zip(smiles, good, strict=True)]
    pairs = similar_pairs(usable, similarity if min_similarity is None else min(similarity, min_similarity))
    pairs = pairs[good[pairs["i"].to_numpy()] & good[pairs["j"].to_numpy()]].reset_index(drop=True)
    i, j = pairs["i"].to_numpy(), pairs["j"].to_numpy()
    a, b = nm[i], nm[j]
    fc = np.maximum(a, b) / np.minimum(a, b) if len(pairs) else np.empty(0)
    p = pactivity(np.where(good, nm, 1.0))
    delta = np.abs(p[i] - p[j])
    pairs.insert(2, "smiles_i", [smiles[k] for k in i])
    pairs.insert(3, "smiles_j", [smiles[k] for k in j])
    pairs["potency_i_nM"] = a
    pairs["potency_j_nM"] = b
    pairs["pactivity_i"] = p[i]
    pairs["pactivity_j"] = p[j]
    pairs["fold_change"] = fc
    pairs["delta_p"] = delta
    pairs["sali"] = delta / np.maximum(1.0 - pairs["tanimoto"].to_numpy(), SALI_MIN_DISTANCE)
    sims = pairs[list(SIMILARITY_COLUMNS)].to_numpy()
    pairs["is_similar"] = (sims >= similarity).any(axis=1)
    pairs["is_cliff"] = pairs["is_similar"] & (fc > fold_change)
    cliff_mol = np.zeros(len(smiles), dtype=bool)
    cliff_pairs = pairs[pairs["is_cliff"]]
    cliff_mol[cliff_pairs["i"].to_numpy()] = True
    cliff_mol[cliff_pairs["j"].to_numpy()] = True
    return CliffResult(pairs, cliff_mol, errors)


def rmse(y_true: Sequence[float] | np.ndarray, y_pred: Sequence[float] | np.ndarray) -> float:
    """Root mean squared error."""
    t, p = np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64)
    return float(np.sqrt(np.mean((t - p) ** 2))) if len(t) else float("nan")


def rmse_cliff(
    y_true: Sequence[float] | np.ndarray, y_pred: Sequence[float] | np.ndarray, cliff_mol: Sequence[bool] | np.ndarray
) -> float:
    """RMSE over the molecules flagged as cliff molecules (MoleculeACE's RMSE_cliff on the test set)."""
    mask = np.asarray(cliff_mol, dtype=bool)
    return rmse(np.asarray(y_true)[mask], np.asarray(y_pred)[mask])


def pair_difference(smiles_a: str, smiles_b: str, timeout: int = 2) -> tuple[list[int], list[int]]:
    """Atoms of each molecule outside their maximum common substructure (RDKit FMCS, ring-aware).

    Returns atom indices in the molecules as parsed by ``Chem.MolFromSmiles`` (no standardization).
    """
    from rdkit.Chem import rdFMCS

    a, b = Chem.MolFromSmiles(smiles_a), Chem.MolFromSmiles(smiles_b)
    if a is None or b is None:
        raise ValueError("unparsable SMILES")
    mcs = rdFMCS.FindMCS([a, b], ringMatchesRingOnly=True, completeRingsOnly=True, timeout=timeout)
    if not mcs.smartsString:
        return list(range(a.GetNumAtoms())), list(range(b.GetNumAtoms()))
    query = Chem.MolFromSmarts(mcs.smartsString)
    out = []
    for mol in (a, b):
        match = set(mol.GetSubstructMatch(query))
        out.append([k for k in range(mol.GetNumAtoms()) if k not in match])
    return out[0], out[1]
