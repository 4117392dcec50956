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


def test_an_ensemble_predicts_the_same_in_one_batch_inline_as_in_many_overlapped_batches():
    import numpy as np
    import torch

    from workbench.models.builders.base import TorchEnsemble

    torch.manual_seed(0)
    members = [torch.nn.Linear(1, 2), torch.nn.Linear(1, 2)]

    def featurize(mols):
        errors = ["" if m.GetNumAtoms() > 1 else "too small" for m in mols]
        sizes = [[float(m.GetNumAtoms())] for m, e in zip(mols, errors, strict=True) if not e]
        return torch.tensor(sizes), errors

    ensemble = TorchEnsemble(members, featurize, lambda x, d: x, lambda raw: raw, torch.device("cpu"), n_tasks=2)
    mols = [Chem.MolFromSmiles(s) for s in ("CCO", "C", "c1ccccc1", "CCN", "O", "CCCC")]
    one, one_errors = ensemble.predict(mols, batch_size=512)
    many, many_errors = ensemble.predict(mols, batch_size=2)
    assert one_errors == many_errors == ["", "too small", "", "", "too small", ""]
    assert np.array_equal(np.isnan(one), np.isnan(many)) and np.isnan(one[:, [1, 4]]).all()
    assert np.allclose(np.nan_to_num(one), np.nan_to_num(many)) and np.isfinite(one[:, [0, 2, 3, 5]]).all()
