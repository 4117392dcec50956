"""Parse, standardize, depict and describe molecules (RDKit).

Single-molecule functions return a :class:`ParsedMolecule` whose ``error`` says
what was wrong and whose ``warnings`` name each change standardization made (see
:mod:`workbench.chem.standardize`); batch functions return one DataFrame row per
input with ``error`` and ``warnings`` columns. No exception escapes a batch function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rdkit import Chem, RDLogger
from rdkit.Chem import QED, Crippen, Descriptors, Lipinski, rdMolDescriptors
from rdkit.Chem.Draw import rdMolDraw2D

from workbench.chem.standardize import (
    dropped_stereo,
    metal_complex_problem,
    shorten,
    standardize,
    stereo_marks,
    text_problem,
)

__all__ = [
    "DEFAULT_MAX_HEAVY_ATOMS",
    "DESCRIPTOR_COLUMNS",
    "ParsedMolecule",
    "depict_svg",
    "describe",
    "descriptor_table",
    "join_warnings",
    "parse",
    "parse_many",
    "parse_one",
]

RDLogger.DisableLog("rdApp.*")

DEFAULT_MAX_HEAVY_ATOMS = 150
MAX_SMILES_LENGTH = 5_000

DESCRIPTOR_COLUMNS = [
    "MW",
    "cLogP",
    "TPSA",
    "HBD",
    "HBA",
    "rotatable_bonds",
    "rings",
    "aromatic_rings",
    "heavy_atoms",
    "formal_charge",
    "QED",
    "lipinski_violations",
]

_BRACKET_ATOM = re.compile(r"\[(?:\d+)?([A-Za-z][a-z]?)")


@dataclass(frozen=True)
class ParsedMolecule:
    """Result of parsing one input: a molecule or an error message, and what standardization changed."""

    input: str
    mol: Chem.Mol | None
    smiles: str = ""
    inchikey: str = ""
    error: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.mol is not None and not self.error


def join_warnings(warnings: Iterable[str]) -> str:
    """The ``warnings`` cell of a batch table: the warnings joined with ``"; "`` (empty when none)."""
    return "; ".join(warnings)


def _unknown_element(smiles: str) -> str | None:
    """Return the first bracket-atom symbol RDKit does not know, if any."""
    table = Chem.GetPeriodicTable()
    for symbol in _BRACKET_ATOM.findall(smiles):
        candidates = [symbol, symbol.capitalize()]
        if not any(_is_element(table, c) for c in candidates):
            return symbol
    return None


def _is_element(table: Chem.PeriodicTable, symbol: str) -> bool:
    try:
        return table.GetAtomicNumber(symbol) > 0
    except RuntimeError:
        return False


def _chemistry_problem(smiles: str) -> str:
    """Describe the first sanitization problem of a SMILES that parses but does not sanitize."""
    mol = Chem.MolFromSmiles(smiles, sanitize=False)
    problems = Chem.DetectChemistryProblems(mol)
    if not problems:
        return "RDKit could not sanitize the molecule."
    problem = problems[0]
    kind = problem.GetType()
    if kind == "AtomValenceException":
        atom = mol.GetAtomWithIdx(problem.GetAtomIdx())
        return (
            f"impossible valence: atom {problem.GetAtomIdx() + 1} ({atom.GetSymbol()}) "
            f"has more bonds than {atom.GetSymbol()} can form; check charges and hydrogens."
        )
    if kind == "KekulizeException":
        return (
            "aromatic ring cannot be kekulized: an aromatic nitrogen probably needs "
            "an explicit hydrogen ([nH]) or the ring is not really aromatic."
        )
    return problem.Message()


def parse_one(
    smiles: str | None,
    *,
    largest_fragment: bool = True,
    neutralize: bool = True,
    max_heavy_atoms: int = DEFAULT_MAX_HEAVY_ATOMS,
    inchikey: bool = True,
    metal_complexes: str = "error",
) -> ParsedMolecule:
    """Parse and standardize one SMILES string.

    The input must be exactly one SMILES: whitespace inside it, line breaks, tabs and
    non-ASCII characters are an error (only the ``.smi`` reader splits ``SMILES name``
    lines), and so are metal complexes and organometallic compounds.

    Args:
        smiles: the input; ``None`` or blank counts as empty input.
        largest_fragment: keep only the largest organic fragment (drops salts, solvents).
        neutralize: neutralize charges where a neutral form exists.
        max_heavy_atoms: refuse molecules with more heavy atoms than this.
        inchikey: compute the InChIKey (about a third of the cost; skip it for bulk prediction).
        metal_complexes: ``"error"`` (default) refuses them; ``"strip"`` keeps the largest organic
            fragment with a warning (how the shipped checkpoints' training data were prepared).

    Returns:
        A :class:`ParsedMolecule`; ``error`` is empty on success and ``warnings``
        names each change made to the input (removed fragments, neutralized charges,
        dropped stereo marks).
    """
    raw = "" if smiles is None or (isinstance(smiles, float) and np.isnan(smiles)) else str(smiles)
    text = raw.strip()
    if not text:
        return ParsedMolecule(raw, None, error="empty input: no SMILES given.")
    if len(text) > MAX_SMILES_LENGTH:
        return ParsedMolecule(
            raw, None, error=f"SMILES is {len(text):,} characters long; the limit is {MAX_SMILES_LENGTH:,}."
        )
    problem = text_problem(text)
    if problem:
        return ParsedMolecule(raw, None, error=problem)
    mol = Chem.MolFromSmiles(text, sanitize=False)
    if mol is None:
        unknown = _unknown_element(text)
        if unknown:
            return ParsedMolecule(raw, None, error=f"unsupported element: '{unknown}' is not a chemical element.")
        return ParsedMolecule(
            raw,
            None,
            error=f"unparsable SMILES '{shorten(text)}': check brackets, ring-closure digits and atom symbols.",
        )
    if "*" in text and any(a.GetAtomicNum() == 0 for a in mol.GetAtoms()):
        return ParsedMolecule(
            raw,
            None,
            error=(
                "unsupported element: the molecule contains a dummy atom '*' (attachment point or "
                "R-group), so it is a fragment, not a complete molecule."
            ),
        )
    marks = stereo_marks(mol) if any(c in text for c in "@/\\") else None
    try:
        Chem.SanitizeMol(mol)
    except Exception:
        return ParsedMolecule(raw, None, error=f"invalid chemistry in '{shorten(text)}': {_chemistry_problem(text)}")
    problem = metal_complex_problem(mol)
    if problem and metal_complexes != "strip":
        return ParsedMolecule(raw, None, error=problem)
    try:
        warnings = (
            [f"{problem.split(';')[0]}: kept as the training data were prepared (largest fragment)"] if problem else []
        )
        warnings += dropped_stereo(mol, marks) if marks is not None else []
        mol, changes = standardize(mol, largest_fragment=largest_fragment, neutralize=neutralize)
        warnings += changes
    except Exception as exc:  # RDKit raises several exception types
        return ParsedMolecule(raw, None, error=f"could not standardize '{shorten(text)}': {exc}")
    heavy = mol.GetNumHeavyAtoms()
    if heavy > max_heavy_atoms:
        return ParsedMolecule(
            raw,
            None,
            error=(
                f"too large: {heavy} heavy atoms, the limit is {max_heavy_atoms} "
                "(peptides, polymers and biologics are out of scope)."
            ),
        )
    if heavy == 0:
        return ParsedMolecule(raw, None, error="no heavy atoms: the input contains only hydrogen.")
    canonical = Chem.MolToSmiles(mol)
    # Re-read the canonical SMILES so atoms come in canonical order: the same molecule then gives
    # the same graph (chirality tags depend on neighbour order) whatever SMILES it was written as.
    reordered = Chem.MolFromSmiles(canonical)
    if reordered is not None:
        mol = reordered
    key = ""
    if inchikey:
        try:
            key = Chem.MolToInchiKey(mol) or ""
        except Exception:
            key = ""
    return ParsedMolecule(raw, mol, smiles=canonical, inchikey=key, warnings=tuple(warnings))


def parse(
    smiles: Iterable[str | None],
    *,
    largest_fragment: bool = True,
    neutralize: bool = True,
    max_heavy_atoms: int = DEFAULT_MAX_HEAVY_ATOMS,
    inchikey: bool = True,
    metal_complexes: str = "error",
) -> pd.DataFrame:
    """Parse a batch of SMILES; one row per input.

    Returns:
        DataFrame with columns ``input``, ``smiles`` (canonical), ``inchikey``,
        ``heavy_atoms``, ``error`` (empty string when the row is fine) and
        ``warnings`` (what standardization changed, ``"; "``-joined, empty when
        nothing), and the RDKit molecules in ``df.attrs["mols"]`` (``None`` for
        failed rows).
    """
    parsed = parse_many(
        smiles,
        largest_fragment=largest_fragment,
        neutralize=neutralize,
        max_heavy_atoms=max_heavy_atoms,
        inchikey=inchikey,
        metal_complexes=metal_complexes,
    )
    frame = pd.DataFrame(
        {
            "input": [p.input for p in parsed],
            "smiles": [p.smiles for p in parsed],
            "inchikey": [p.inchikey for p in parsed],
            "heavy_atoms": [p.mol.GetNumHeavyAtoms() if p.mol is not None else 0 for p in parsed],
            "error": [p.error for p in parsed],
            "warnings": [join_warnings(p.warnings) for p in parsed],
        }
    )
    frame.attrs["mols"] = [p.mol for p in parsed]
    return frame


def parse_many(
    smiles: Iterable[str | None],
    *,
    largest_fragment: bool = True,
    neutralize: bool = True,
    max_heavy_atoms: int = DEFAULT_MAX_HEAVY_ATOMS,
    inchikey: bool = True,
    metal_complexes: str = "error",
) -> list[ParsedMolecule]:
    """Parse a batch of SMILES into :class:`ParsedMolecule` objects (never raises per row)."""
    out = []
    for s in smiles:
        try:
            out.append(
                parse_one(
                    s,
                    largest_fragment=largest_fragment,
                    neutralize=neutralize,
                    max_heavy_atoms=max_heavy_atoms,
                    inchikey=inchikey,
                    metal_complexes=metal_complexes,
                )
            )
        except Exception as exc:  # last line of defence: a row error, never a crash
            out.append(ParsedMolecule(str(s), None, error=f"unexpected error: {exc}"))
    return out


def describe(mol: Chem.Mol) -> dict[str, float | int]:
    """Compute the descriptor set in :data:`DESCRIPTOR_COLUMNS` for one molecule."""
    mw = Descriptors.MolWt(mol)
    logp = Crippen.MolLogP(mol)
    hbd = Lipinski.NumHDonors(mol)
    hba = Lipinski.NumHAcceptors(mol)
    violations = int(mw > 500) + int(logp > 5) + int(hbd > 5) + int(hba > 10)
    try:
        qed = QED.qed(mol)
    except Exception:
        qed = float("nan")
    return {
        "MW": round(mw, 2),
        "cLogP": round(logp, 2),
        "TPSA": round(rdMolDescriptors.CalcTPSA(mol), 2),
        "HBD": hbd,
        "HBA": hba,
        "rotatable_bonds": rdMolDescriptors.CalcNumRotatableBonds(mol),
        "rings": rdMolDescriptors.CalcNumRings(mol),
        "aromatic_rings": rdMolDescriptors.CalcNumAromaticRings(mol),
        "heavy_atoms": mol.GetNumHeavyAtoms(),
        "formal_charge": Chem.GetFormalCharge(mol),
        "QED": round(qed, 3),
        "lipinski_violations": violations,
    }


def descriptor_table(smiles: Sequence[str | None], **parse_options: object) -> pd.DataFrame:
    """Descriptors for a batch of SMILES; one row per input with ``error`` and ``warnings`` columns."""
    parsed = parse_many(smiles, **parse_options)  # type: ignore[arg-type]
    rows = []
    for p in parsed:
        row: dict[str, object] = {"input": p.input, "smiles": p.smiles, "warnings": join_warnings(p.warnings)}
        if p.ok:
            try:
                row.update(describe(p.mol))
                row["error"] = ""
            except Exception as exc:
                row.update(dict.fromkeys(DESCRIPTOR_COLUMNS, np.nan))
                row["error"] = f"descriptor calculation failed: {exc}"
        else:
            row.update(dict.fromkeys(DESCRIPTOR_COLUMNS, np.nan))
            row["error"] = p.error
        rows.append(row)
    return pd.DataFrame(rows, columns=["input", "smiles", *DESCRIPTOR_COLUMNS, "error", "warnings"])


def _drawable(smiles: str) -> Chem.Mol:
    """The molecule of a SMILES as written, for drawing: metal complexes are drawn, not refused."""
    parsed = parse_one(smiles, largest_fragment=False, neutralize=False)
    if parsed.ok:
        return parsed.mol
    text = smiles.strip()
    drawn = None if text_problem(text) else Chem.MolFromSmiles(text)
    if drawn is None or not metal_complex_problem(drawn):
        raise ValueError(parsed.error)
    return drawn


def depict_svg(
    mol: Chem.Mol | str,
    *,
    width: int = 400,
    height: int = 300,
    highlight_atoms: Sequence[int] | None = None,
    atom_weights: Sequence[float] | None = None,
    legend: str = "",
) -> str:
    """Draw a 2D depiction as an SVG string.

    Args:
        mol: an RDKit molecule or a SMILES string (drawn as written, metal complexes included).
        highlight_atoms: atom indices to highlight (e.g. a substructure match).
        atom_weights: one weight per atom, drawn as a blue (negative) to red
            (positive) heatmap, e.g. for attributions.
        legend: text under the drawing.

    Raises:
        ValueError: the SMILES cannot be parsed or the weights do not match the atoms.
    """
    if isinstance(mol, str):
        mol = _drawable(mol)
    mol = Chem.Mol(mol)
    rdMolDraw2D.PrepareMolForDrawing(mol, kekulize=True, addChiralHs=True)
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    options = drawer.drawOptions()
    options.clearBackground = False
    options.addStereoAnnotation = True
    if atom_weights is not None:
        weights = np.asarray(atom_weights, dtype=float)
        if weights.shape != (mol.GetNumAtoms(),):
            raise ValueError(f"atom_weights has {weights.size} values for {mol.GetNumAtoms()} atoms.")
        from rdkit.Chem.Draw import SimilarityMaps

        scale = float(np.abs(weights).max()) or 1.0
        SimilarityMaps.GetSimilarityMapFromWeights(
            mol, list(weights / scale), draw2d=drawer, colorMap="bwr", contourLines=6, alpha=0.4
        )
    else:
        drawer.DrawMolecule(mol, highlightAtoms=list(highlight_atoms or []), legend=legend)
    drawer.FinishDrawing()
    svg = drawer.GetDrawingText()
    return svg[svg.index("<svg") :]  # drop the XML declaration so the SVG can be inlined in HTML
