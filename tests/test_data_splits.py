import numpy as np
import pandas as pd
import pytest

from workbench.data.splits import make_split, moleculeace_split, murcko_scaffold, random_split, scaffold_split

SMILES = (
    ["c1ccccc1C" + "C" * i for i in range(6)]  # benzene scaffold x6
    + ["C1CCCCC1" + "O" * 1 + "C" * i for i in range(3)]  # cyclohexane x3
    + ["c1ccncc1C", "c1ccncc1CC"]  # pyridine x2
    + ["CCO", "CCN"]  # acyclic x2 (scaffold "")
    + ["c1ccc2ccccc2c1"]  # naphthalene x1
)


def test_scaffold_split_shares_no_scaffold_between_parts():
    split = scaffold_split(SMILES, (0.6, 0.2, 0.2))
    parts = [{murcko_scaffold(SMILES[i]) for i in idx} for idx in (split.train, split.valid, split.test)]
    assert not (parts[0] & parts[1]) and not (parts[0] & parts[2]) and not (parts[1] & parts[2])
    assert sorted(np.concatenate([split.train, split.valid, split.test]).tolist()) == list(range(len(SMILES)))


def test_scaffold_split_puts_largest_groups_in_train_deterministically():
    split = scaffold_split(SMILES, (0.6, 0.2, 0.2))
    assert set(range(6)) <= set(split.train)  # the benzene group, the largest, goes to train first
    again = scaffold_split(SMILES, (0.6, 0.2, 0.2))
    assert np.array_equal(split.train, again.train) and np.array_equal(split.test, again.test)


def test_random_split_is_seeded_and_complete():
    a, b, c = random_split(100, seed=1), random_split(100, seed=1), random_split(100, seed=2)
    assert np.array_equal(a.test, b.test) and not np.array_equal(a.test, c.test)
    assert (len(a.train), len(a.valid), len(a.test)) == (80, 10, 10)
    assert a.describe()["sizes"] == [80, 10, 10]


def test_moleculeace_split_uses_its_column_and_carves_validation_from_train():
    frame = pd.DataFrame({"smiles": ["C"] * 10, "split": ["train"] * 8 + ["test"] * 2})
    split = moleculeace_split(frame, valid_fraction=0.25, seed=0)
    assert split.test.tolist() == [8, 9]
    assert len(split.valid) == 2 and len(split.train) == 6
    assert not set(split.valid) & set(split.train)


def test_bad_fractions_and_kinds_are_refused():
    with pytest.raises(ValueError, match="summing to 1"):
        random_split(10, (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="unknown split"):
        make_split("cluster", ["C"])
    with pytest.raises(ValueError, match="'split' column"):
        make_split("moleculeace", ["C"])
