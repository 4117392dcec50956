"""Standardization that says what it changed, and the inputs the models cannot represent.

:func:`text_problem` refuses a cell that is not exactly one SMILES (whitespace, line
breaks, tabs, non-ASCII characters); :func:`metal_complex_problem` refuses metal
complexes and organometallic compounds rather than predicting for a stripped ligand;
:func:`standardize` keeps the largest organic fragment and neutralizes charges, and
returns one warning per change, naming what was removed or changed. Stereo marks that
RDKit drops because they define nothing are reported by :func:`dropped_stereo`.

Isotopes and tautomers are kept as written (nothing here changes them), so they never
give a warning.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from rdkit import Chem
from rdkit.Chem.MolStandardize import rdMolStandardize

__all__ = [
    "METALS",
    "SALT_METALS",
    "StereoMarks",
    "dropped_stereo",
    "metal_complex_problem",
    "shorten",
    "standardize",
    "stereo_marks",
    "text_problem",
]

#: Atomic numbers of the metals: alkali, alkaline-earth, transition, lanthanide, actinide and
#: post-transition metals (Al, Ga, In, Sn, Tl, Pb, Bi, Po, ...); metalloids (B, Si, Ge, As, Sb, Te) are not.
METALS = frozenset({3, 4, 11, 12, 13, *range(19, 32), *range(37, 51), *range(55, 85), *range(87, 117)})
#: Alkali and alkaline-earth metals: as ions they are plain counter-ions (sodium, potassium, calcium salts).
SALT_METALS = frozenset({3, 11, 19, 37, 55, 87, 4, 12, 20, 38, 56, 88})

_DATIVE = {Chem.BondType.DATIVE, Chem.BondType.DATIVEONE, Chem.BondType.DATIVEL, Chem.BondType.DATIVER}
# substructure queries run in C++: far faster than looping over atoms and bonds in Python for every input
_METAL_QUERY = Chem.MolFromSmarts("[" + ",".join(f"#{z}" for z in sorted(METALS)) + "]")
_DATIVE_QUERY = Chem.MolFromSmarts("*->*")
_CHARGED_QUERY = Chem.MolFromSmarts("[!+0]")


def _atoms(mol: Chem.Mol) -> Iterator[Chem.Atom]:
    """The atoms by index (several times faster than ``mol.GetAtoms()``'s Python sequence)."""
    return (mol.GetAtomWithIdx(i) for i in range(mol.GetNumAtoms()))


def _bonds(mol: Chem.Mol) -> Iterator[Chem.Bond]:
    return (mol.GetBondWithIdx(i) for i in range(mol.GetNumBonds()))


_CANNOT = "the models cannot represent metal complexes, so this input is not used."


def _canonical_set(smiles: str) -> frozenset[str]:
    """Canonical SMILES of a space-separated list."""
    return frozenset(Chem.MolToSmiles(Chem.MolFromSmiles(s)) for s in smiles.split())


_SOLVENTS = _canonical_set(
    "O CO CCO CC(C)O CC(C)=O CS(C)=O CN(C)C=O CC#N C1CCOC1 C1COCCO1 ClCCl ClC(Cl)Cl CCOC(C)=O CCOCC c1ccccc1 "
    "Cc1ccccc1 CCCCCC c1ccncc1"
)
_ACID_COUNTER_IONS = _canonical_set(
    "Cl Br I F OS(=O)(=O)O OP(=O)(O)O O[N+](=O)[O-] OCl(=O)(=O)=O CS(=O)(=O)O CCS(=O)(=O)O Cc1ccc(S(=O)(=O)O)cc1 "
    "OS(=O)(=O)c1ccccc1 OC(=O)/C=C\\C(=O)O OC(=O)/C=C/C(=O)O OC(=O)C=CC(=O)O OC(=O)CCC(=O)O OC(=O)C(=O)O CC(=O)O "
    "OC(=O)C(F)(F)F OC(=O)c1ccccc1 OC(=O)CC(O)(CC(=O)O)C(=O)O OC(=O)C(O)C(O)C(=O)O OC(=O)[C@H](O)[C@@H](O)C(=O)O "
    "OC(=O)[C@@H](O)[C@H](O)C(=O)O CC(O)C(=O)O OC(=O)CC(O)C(=O)O OS(=O)(=O)CCS(=O)(=O)O"
)


def shorten(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis when cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def text_problem(text: str) -> str:
    """Why ``text`` (already stripped of surrounding whitespace) is not exactly one SMILES, or ``""``.

    Whitespace, line breaks, tabs, control and non-ASCII characters are refused: RDKit
    would read the SMILES up to the first of them and silently drop the rest.
    """
    if text.isascii() and text.isprintable() and " " not in text:
        return ""
    for position, char in enumerate(text, start=1):
        before, after = shorten(text[: position - 1], 40), shorten(text[position:], 40)
        if char in "\r\n":
            return (
                f"the input holds a line break after '{before}': a SMILES must be on one line, with nothing after it."
            )
        if char == "\t":
            return (
                f"the input holds a tab after '{before}', followed by '{after}': a SMILES must stand alone, "
                "with nothing after it."
            )
        if char.isspace():
            what = "a space" if char == " " else f"the whitespace character U+{ord(char):04X}"
            return (
                f"the input holds {what} after '{before}', followed by '{after}': a SMILES must stand alone "
                "(put names and notes in another column)."
            )
        if not " " < char <= "~":
            kind = "control" if ord(char) < 128 else "non-ASCII"
            shown = f"'{char}' " if char.isprintable() else ""
            return (
                f"the input holds the {kind} character {shown}(U+{ord(char):04X}) at position {position}: "
                "SMILES are written in plain ASCII letters, digits and symbols."
            )
    return ""


def _describe_metal(atom: Chem.Atom) -> str:
    return Chem.MolFragmentToSmiles(atom.GetOwningMol(), [atom.GetIdx()], canonical=True)


def metal_complex_problem(mol: Chem.Mol) -> str:
    """Why a sanitized input is a metal complex or organometallic compound the models cannot represent, or ``""``.

    Refused: a dative (coordination) bond; a metal bonded to carbon; any metal other than
    an alkali or alkaline-earth metal bonded to anything (``Cl[Pt]Cl``, ``[O-][Cr](=O)...``);
    and such a metal as a separate ion or atom next to a carbon-containing fragment
    (``[Fe+2].c1cc[cH-]c1.c1cc[cH-]c1``, ``N.N.[Pt].OC(=O)...``), where stripping the metal
    would leave predictions for its ligands. Alkali and alkaline-earth ions (sodium,
    potassium, calcium salts) are plain counter-ions and pass.
    """
    has_metal = mol.HasSubstructMatch(_METAL_QUERY)
    if not has_metal and not mol.HasSubstructMatch(_DATIVE_QUERY):
        return ""
    for bond in mol.GetBonds():
        if bond.GetBondType() in _DATIVE:
            donor, acceptor = bond.GetBeginAtom().GetSymbol(), bond.GetEndAtom().GetSymbol()
            if any(a.GetAtomicNum() in METALS for a in (bond.GetBeginAtom(), bond.GetEndAtom())):
                return f"metal complex: the input has a dative (coordination) bond {donor}→{acceptor}; {_CANNOT}"
            return (
                f"the input has a dative bond {donor}→{acceptor}, which the models cannot represent; "
                "write it with formal charges instead (e.g. [N+][O-])."
            )
    metals = [a for a in _atoms(mol) if a.GetAtomicNum() in METALS] if has_metal else []
    if not metals:
        return ""
    for atom in metals:
        if any(n.GetAtomicNum() == 6 for n in atom.GetNeighbors()):
            return (
                f"organometallic compound: {atom.GetSymbol()} is bonded to carbon; the models cannot represent "
                "organometallic compounds or metal complexes, so this input is not used."
            )
    for atom in metals:
        if atom.GetAtomicNum() not in SALT_METALS and atom.GetDegree():
            partners = " and ".join(sorted({n.GetSymbol() for n in atom.GetNeighbors()}))
            return f"metal complex: {atom.GetSymbol()} is bonded to {partners}; {_CANNOT}"
    fragments = Chem.GetMolFrags(mol)
    ions = [a for a in metals if a.GetAtomicNum() not in SALT_METALS]
    organic = [f for f in fragments if any(mol.GetAtomWithIdx(i).GetAtomicNum() == 6 for i in f)]
    if ions and organic:
        shown = ", ".join(sorted({_describe_metal(a) for a in ions}))
        carbanion = any(
            mol.GetAtomWithIdx(i).GetAtomicNum() == 6 and mol.GetAtomWithIdx(i).GetFormalCharge() < 0
            for f in organic
            for i in f
        )
        if carbanion:
            return (
                f"organometallic compound: {shown} comes with carbanion ligands (as in ferrocene); the models "
                "cannot represent organometallic compounds or metal complexes, so this input is not used."
            )
        return (
            f"metal complex: {shown} comes with organic fragments that may be its ligands, and predicting for the "
            f"organic part alone would describe another molecule; {_CANNOT}"
        )
    return ""


@dataclass(frozen=True)
class StereoMarks:
    """Stereo marks as written: atoms with a chiral tag, double bonds with a ``/`` or ``\\`` bond at both ends."""

    atoms: tuple[int, ...]
    double_bonds: tuple[int, ...]


def stereo_marks(mol: Chem.Mol) -> StereoMarks:
    """The stereo marks of a molecule read with ``sanitize=False`` (before RDKit cleans them)."""
    atoms = tuple(a.GetIdx() for a in _atoms(mol) if a.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED)
    directional = {Chem.BondDir.ENDUPRIGHT, Chem.BondDir.ENDDOWNRIGHT}
    doubles = []
    for bond in _bonds(mol):
        if bond.GetBondType() != Chem.BondType.DOUBLE:
            continue
        ends = (bond.GetBeginAtom(), bond.GetEndAtom())
        if all(any(b.GetBondDir() in directional for b in a.GetBonds() if b.GetIdx() != bond.GetIdx()) for a in ends):
            doubles.append(bond.GetIdx())
    return StereoMarks(atoms, tuple(doubles))


def _stereo_count(mol: Chem.Mol) -> int:
    chiral = sum(a.GetChiralTag() != Chem.ChiralType.CHI_UNSPECIFIED for a in _atoms(mol))
    return chiral + sum(b.GetStereo() != Chem.BondStereo.STEREONONE for b in _bonds(mol))


def dropped_stereo(mol: Chem.Mol, marks: StereoMarks) -> list[str]:
    """Clean the stereo of a sanitized molecule (as canonical SMILES would) and name the marks this dropped.

    ``marks`` come from :func:`stereo_marks` on the same molecule before sanitization
    (atom and bond indices are unchanged by sanitization).
    """
    Chem.AssignStereochemistry(mol, cleanIt=True, force=True)
    out = []
    atoms = [i for i in marks.atoms if mol.GetAtomWithIdx(i).GetChiralTag() == Chem.ChiralType.CHI_UNSPECIFIED]
    if atoms:
        where = ", ".join(f"{i + 1} ({mol.GetAtomWithIdx(i).GetSymbol()})" for i in atoms)
        plural = "s" if len(atoms) > 1 else ""
        out.append(f"dropped the stereo mark{plural} (@) at atom{plural} {where}: not a stereocentre")
    bonds = [i for i in marks.double_bonds if mol.GetBondWithIdx(i).GetStereo() == Chem.BondStereo.STEREONONE]
    if bonds:
        where = ", ".join(
            f"{mol.GetBondWithIdx(i).GetBeginAtomIdx() + 1}={mol.GetBondWithIdx(i).GetEndAtomIdx() + 1}" for i in bonds
        )
        out.append(f"dropped the E/Z mark (/ or \\) on the double bond at atoms {where}: it defines no E/Z isomer")
    return out


def _fragment_kind(fragment: Chem.Mol, smiles: str, kept: str) -> str:
    if smiles == kept:
        return "another copy of the kept molecule"
    if smiles in _SOLVENTS:
        return "solvent"
    numbers = {a.GetAtomicNum() for a in fragment.GetAtoms()}
    if numbers & (METALS - SALT_METALS):
        return "metal"
    if numbers & SALT_METALS or smiles in _ACID_COUNTER_IONS or 6 not in numbers:
        return "counter-ion"
    if any(a.GetFormalCharge() for a in fragment.GetAtoms()):
        return "counter-ion"
    return "smaller component"


def _removed_fragments(mol: Chem.Mol, kept: Chem.Mol) -> list[str]:
    kept_smiles = Chem.MolToSmiles(kept)
    fragments = [(Chem.MolToSmiles(f), f) for f in Chem.GetMolFrags(mol, asMols=True)]
    smiles = [s for s, _ in fragments]
    if kept_smiles in smiles:
        del fragments[smiles.index(kept_smiles)]
    else:  # the chooser's copy is written differently: drop the largest fragment instead
        del fragments[max(range(len(fragments)), key=lambda k: fragments[k][1].GetNumAtoms())]
    counts = Counter(s for s, _ in fragments)
    kinds = {s: _fragment_kind(f, s, kept_smiles) for s, f in fragments}
    return [f"removed fragment {shorten(s)}{f' ×{n}' if n > 1 else ''} ({kinds[s]})" for s, n in counts.items()]


def _atom_token(atom: Chem.Atom) -> str:
    hydrogens = atom.GetTotalNumHs()
    h = "" if not hydrogens else "H" if hydrogens == 1 else f"H{hydrogens}"
    charge = atom.GetFormalCharge()
    sign = "" if not charge else ("+" if charge > 0 else "-") + (str(abs(charge)) if abs(charge) > 1 else "")
    return f"[{atom.GetSymbol()}{h}{sign}]"


def _neutralized(before: Chem.Mol, after: Chem.Mol) -> list[str]:
    if before.GetNumAtoms() != after.GetNumAtoms():
        return [f"neutralized charges: {shorten(Chem.MolToSmiles(before))} → {shorten(Chem.MolToSmiles(after))}"]
    changes = Counter(
        f"{_atom_token(a)} → {_atom_token(b)}"
        for a, b in zip(_atoms(before), _atoms(after), strict=True)
        if a.GetFormalCharge() != b.GetFormalCharge()
    )
    if not changes:
        return []
    return ["neutralized charges: " + ", ".join(f"{c}{f' ×{n}' if n > 1 else ''}" for c, n in changes.items())]


def standardize(mol: Chem.Mol, *, largest_fragment: bool = True, neutralize: bool = True) -> tuple[Chem.Mol, list[str]]:
    """Keep the largest organic fragment and neutralize charges; return the molecule and what changed.

    Raises whatever RDKit raises on a molecule it cannot standardize.
    """
    warnings: list[str] = []
    if largest_fragment and len(Chem.GetMolFrags(mol)) > 1:
        kept = rdMolStandardize.LargestFragmentChooser(preferOrganic=True).choose(mol)
        warnings += _removed_fragments(mol, kept)
        mol = kept
    if neutralize and mol.HasSubstructMatch(_CHARGED_QUERY):
        stereo = _stereo_count(mol)
        charged = mol
        mol = rdMolStandardize.Uncharger().uncharge(mol)
        Chem.SanitizeMol(mol)
        warnings += _neutralized(charged, mol)
        if stereo:
            Chem.AssignStereochemistry(mol, cleanIt=True, force=True)
            lost = stereo - _stereo_count(mol)
            if lost > 0:
                marks = f"{lost} stereo marks" if lost > 1 else "a stereo mark"
                warnings.append(f"dropped {marks} that defined nothing once the charges were neutralized")
    return mol, warnings
