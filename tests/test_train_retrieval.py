"""Retrieval training pieces: corpus preparation, splits, augmentation sampler, metrics, a tiny run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.checkpoints import load_card
from workbench.nn.text_backbone import HashingBackbone
from workbench.train.retrieval import (
    AugmentationSampler,
    RetrievalConfig,
    neighbour_table,
    prepare_corpus,
    retrieval_metrics,
    retrieval_split,
    train_retrieval,
)

SMILES = [
    "CCO", "CCCO", "CCCCO", "CCCCCO", "c1ccccc1", "Cc1ccccc1", "CCc1ccccc1", "c1ccncc1", "Cc1ccncc1",
    "CC(=O)O", "CCC(=O)O", "CCCC(=O)O", "C1CCCCC1", "CC1CCCCC1", "OC1CCCCC1", "NCCO", "NCCCO", "CCN",
    "CCCN", "c1ccc2ccccc2c1",
]  # fmt: skip


def _frame() -> pd.DataFrame:
    words = ["alcohol", "alcohol", "alcohol", "alcohol", "arene", "arene", "arene", "pyridine", "pyridine",
             "acid", "acid", "acid", "cycloalkane", "cycloalkane", "cycloalkanol", "aminoalcohol",
             "aminoalcohol", "amine", "amine", "naphthalene"]  # fmt: skip
    rows = [{"cid": i + 1, "smiles": s, "description": f"The molecule is a {w} number {i}."} for i, (s, w) in
            enumerate(zip(SMILES, words, strict=True))]  # fmt: skip
    # the same molecule under a second CID (a salt): standardises to ethanol, a second description
    rows.append({"cid": 99, "smiles": "CC[O-].[Na+]", "description": "The molecule is an alkoxide salt."})
    rows.append({"cid": 100, "smiles": "C1CC(", "description": "broken"})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def corpus():
    return prepare_corpus(_frame(), HashingBackbone(32), cache_dir=None, log=lambda _m: None)


def test_corpus_drops_bad_rows_and_finds_description_partners(corpus):
    assert len(corpus) == 21 and corpus.dropped[0][0] == 21
    partners = corpus.partners()
    ethanol = np.flatnonzero(corpus.frame["smiles"] == "CCO")
    assert len(ethanol) == 2 and set(partners[ethanol]) == set(ethanol)
    assert (partners >= 0).sum() == 2
    assert corpus.fps.shape == (21, 1024) and corpus.text_features.shape == (21, 32)


def test_cid_split_keeps_one_molecule_on_one_side(corpus):
    split = retrieval_split(corpus, "cid", seed=0)
    parts = [set(corpus.frame["inchikey"].iloc[p]) for p in (split.train, split.valid, split.test)]
    assert not (parts[0] & parts[2]) and not (parts[0] & parts[1]) and not (parts[1] & parts[2])
    assert len(split.train) + len(split.valid) + len(split.test) == len(corpus)


def test_scaffold_split_shares_no_scaffold(corpus):
    from workbench.data.splits import murcko_scaffold

    split = retrieval_split(corpus, "scaffold")
    scaffolds = [{murcko_scaffold(s) for s in corpus.frame["smiles"].iloc[p]} for p in (split.train, split.test)]
    assert not scaffolds[0] & scaffolds[1]


def test_neighbour_table_is_most_similar_first_and_excludes_self(corpus):
    pool = np.arange(len(corpus))
    table = neighbour_table(corpus.fps, pool, 3)
    assert table.shape == (len(pool), 3)
    assert all(i not in row for i, row in enumerate(table))
    # the toluene-like arenes are each other's nearest neighbours
    toluene = int(np.flatnonzero(corpus.frame["smiles"] == "Cc1ccccc1")[0])
    assert corpus.frame["smiles"].iloc[table[toluene, 0]] in {"c1ccccc1", "CCc1ccccc1", "Cc1ccncc1"}


@pytest.mark.parametrize("p", [0.0, 0.3, 1.0])
def test_augmentation_sampler_respects_p_and_k(p):
    pool = np.arange(100, 300)
    neighbours = np.stack([np.roll(pool, -(j + 1)) for j in range(50)], axis=1)  # row r: pool[r+1..r+50]
    sampler = AugmentationSampler(pool, neighbours, p=p, k=5, seed=1)
    batch = np.repeat(pool, 20)
    fed = sampler(batch)
    replaced = fed != batch
    assert abs(replaced.mean() - p) < 0.03
    rows = {int(c): r for r, c in enumerate(pool)}
    allowed = [set(neighbours[rows[int(i)], :5]) for i in batch[replaced]]
    assert all(int(f) in a for f, a in zip(fed[replaced], allowed, strict=True))  # only the k most similar
    if p == 1.0:
        drawn = {int(f) for f in fed[batch == pool[0]]}
        assert drawn == set(neighbours[0, :5])  # all k are used
    with pytest.raises(ValueError):
        AugmentationSampler(pool, neighbours, p=1.5, k=5)
    with pytest.raises(ValueError):
        AugmentationSampler(pool, neighbours, p=0.5, k=51)


def test_metrics_on_perfect_and_reversed_embeddings():
    eye = np.eye(20, dtype=np.float32)
    perfect = retrieval_metrics(eye, eye)
    assert perfect["mol2text_mrr"] == perfect["text2mol_r1"] == perfect["mol2text_acc_T20"] == 1.0
    shuffled = retrieval_metrics(eye, eye[::-1].copy())
    assert shuffled["mol2text_r1"] == 0.0 and shuffled["text2mol_acc_T4"] == 0.0


def test_tiny_training_run_writes_a_valid_card(corpus, tmp_path):
    cfg = RetrievalConfig(name="tiny_retrieval", epochs=2, batch_size=8, k=3, num_layer=2, emb_dim=16, proj_dim=8)
    result = train_retrieval(cfg, models_dir=tmp_path / "models", runs_dir=tmp_path / "runs", corpus=corpus)
    card = load_card(tmp_path / "models" / "tiny_retrieval")
    assert card["architecture"]["type"] == "dual_encoder"
    assert card["architecture"]["config"]["text_backbone"] == {"kind": "hashing", "dim": 32}
    assert card["data"]["er_molecules"] == 2
    assert {"mol2text_mrr", "text2mol_r10"} <= set(card["metrics"]["test"])
    assert len(result["history"]["epochs"]) == 2
    assert result["history"]["epochs"][0]["er"] is not None
