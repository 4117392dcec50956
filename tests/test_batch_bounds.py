"""Network batches bounded by molecules and by atoms; freed memory handed back between chunks."""

from __future__ import annotations

from rdkit import Chem

from workbench.cli.streaming import release_freed_memory
from workbench.models.builders.base import ATOMS_PER_MOLECULE, batch_bounds


def test_batches_hold_batch_size_molecules_and_fewer_when_they_are_large():
    small, large = Chem.MolFromSmiles("CCO"), Chem.MolFromSmiles("C" * 60)
    assert batch_bounds([small] * 10, 4) == [(0, 4), (4, 8), (8, 10)]
    bounds = batch_bounds([large] * 6 + [small] * 3, 4)  # 4 molecules may hold 4 * 32 = 128 atoms: two of 60
    assert bounds == [(0, 2), (2, 4), (4, 8), (8, 9)]
    assert all(
        sum(m.GetNumAtoms() for m in ([large] * 6 + [small] * 3)[a:b]) <= 4 * ATOMS_PER_MOLECULE for a, b in bounds
    )


def test_a_molecule_larger_than_the_budget_gets_a_batch_of_its_own():
    huge = Chem.MolFromSmiles("C" * 200)
    assert batch_bounds([huge, huge], 2) == [(0, 1), (1, 2)]
    assert batch_bounds([], 8) == []


def test_freed_memory_is_handed_back_on_linux():
    assert release_freed_memory() is True
