"""Train/validation/test splits: random, scaffold (Hu et al. 2020) and MoleculeACE's own."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rdkit import Chem, rdBase
from rdkit.Chem.Scaffolds import MurckoScaffold

__all__ = [
    "SPLIT_KINDS",
    "Split",
    "make_split",
    "moleculeace_split",
    "murcko_scaffold",
    "random_split",
    "scaffold_split",
]

SPLIT_KINDS = ("random", "scaffold", "moleculeace")


@dataclass(frozen=True)
class Split:
    """Index arrays into the data set, plus how they were made."""

    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    kind: str
    seed: int | None = None
    fractions: tuple[float, float, float] | None = None

    def describe(self) -> dict[str, object]:
        """The split block of a model card."""
        return {
            "kind": self.kind,
            "seed": self.seed,
            "fractions": list(self.fractions) if self.fractions else None,
            "sizes": [len(self.train), len(self.valid), len(self.test)],
        }


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    if len(fractions) != 3 or any(f < 0 for f in fractions) or not np.isclose(sum(fractions), 1.0):
        raise ValueError(f"fractions must be three non-negative numbers summing to 1, got {list(fractions)}")
    return float(fractions[0]), float(fractions[1]), float(fractions[2])


def random_split(n: int, fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0) -> Split:
    """Shuffle ``range(n)`` with ``seed`` and cut it by ``fractions``."""
    fr = _check_fractions(fractions)
    order = np.random.default_rng(seed).permutation(n)
    n_train, n_valid = round(fr[0] * n), round(fr[1] * n)
    return Split(
        np.sort(order[:n_train]),
        np.sort(order[n_train : n_train + n_valid]),
        np.sort(order[n_train + n_valid :]),
        "random",
        seed,
        fr,
    )


def murcko_scaffold(smiles: str, include_chirality: bool = False) -> str:
    """Bemis–Murcko scaffold SMILES; ``""`` for acyclic or unparsable molecules."""
    with rdBase.BlockLogs():
        mol = Chem.MolFromSmiles(smiles)
    if mol is None:
        return ""
    try:
        return MurckoScaffold.MurckoScaffoldSmiles(mol=mol, includeChirality=include_chirality)
    except Exception:
        return ""


def scaffold_split(
    smiles: Sequence[str], fractions: Sequence[float] = (0.8, 0.1, 0.1), include_chirality: bool = False
) -> Split:
    """Deterministic scaffold split as in Hu et al. 2020 (pretrain-gnns).

    Molecules are grouped by Murcko scaffold; groups are sorted largest first
    (ties: the group whose first molecule comes first) and assigned to train
    until it would exceed its share, then to validation, then to test. No
    scaffold is shared between two parts.
    """
    fr = _check_fractions(fractions)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(smiles):
        groups[murcko_scaffold(s, include_chirality)].append(i)
    ordered = sorted(groups.values(), key=lambda g: (len(g), g[0]), reverse=True)
    n = len(smiles)
    train_cut, valid_cut = fr[0] * n, (fr[0] + fr[1]) * n
    train: list[int] = []
    valid: list[int] = []
    test: list[int] = []
    for group in ordered:
        if len(train) + len(group) > train_cut:
            if len(train) + len(valid) + len(group) > valid_cut:
                test.extend(group)
            else:
                valid.extend(group)
        else:
            train.extend(group)
    return Split(
        np.array(sorted(train), dtype=np.int64),
        np.array(sorted(valid), dtype=np.int64),
        np.array(sorted(test), dtype=np.int64),
        "scaffold",
        None,
        fr,
    )


def moleculeace_split(frame: pd.DataFrame, valid_fraction: float = 0.0, seed: int = 0) -> Split:
    """MoleculeACE's own train/test split (its ``split`` column).

    ``valid_fraction`` of the training molecules (random, seeded) become a
    validation set for early stopping; the test set is untouched.
    """
    if "split" not in frame.columns:
        raise ValueError("the frame has no 'split' column (MoleculeACE files have one).")
    labels = frame["split"].astype(str).str.lower().to_numpy()
    train = np.flatnonzero(labels == "train")
    test = np.flatnonzero(labels == "test")
    valid = np.empty(0, dtype=np.int64)
    if valid_fraction > 0:
        shuffled = np.random.default_rng(seed).permutation(train)
        n_valid = round(valid_fraction * len(train))
        valid, train = np.sort(shuffled[:n_valid]), np.sort(shuffled[n_valid:])
    return Split(train, valid, test, "moleculeace", seed if valid_fraction > 0 else None, None)


def make_split(
    kind: str,
    smiles: Sequence[str],
    *,
    frame: pd.DataFrame | None = None,
    fractions: Sequence[float] = (0.8, 0.1, 0.1),
    seed: int = 0,
    valid_fraction: float = 0.1,
) -> Split:
    """Dispatch by name: ``random``, ``scaffold`` or ``moleculeace`` (needs ``frame``)."""
    if kind == "random":
        return random_split(len(smiles), fractions, seed)
    if kind == "scaffold":
        return scaffold_split(smiles, fractions)
    if kind == "moleculeace":
        if frame is None:
            raise ValueError("the moleculeace split needs the data frame with its 'split' column")
        return moleculeace_split(frame, valid_fraction, seed)
    raise ValueError(f"unknown split '{kind}'; choose one of {', '.join(SPLIT_KINDS)}")
