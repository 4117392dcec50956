"""Shared retrieval test helpers (not a test module): a ChEBI-20-like table and a tiny trained dual encoder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench import retrieval
from workbench.nn.text_backbone import HashingBackbone
from workbench.train.retrieval import RetrievalConfig, prepare_corpus, retrieval_split, train_dual_encoder
from workbench.train.retrieval import save_retrieval_checkpoint as save_checkpoint

NAME = "tiny_retrieval"
SMILES = [
    "CCO", "CCCO", "CCCCO", "CCCCCO", "c1ccccc1", "Cc1ccccc1", "CCc1ccccc1", "c1ccncc1", "Cc1ccncc1",
    "CC(=O)O", "CCC(=O)O", "CCCC(=O)O", "C1CCCCC1", "CC1CCCCC1", "OC1CCCCC1", "NCCO", "NCCCO", "CCN",
    "CCCN", "c1ccc2ccccc2c1",
]  # fmt: skip


def pairs_frame() -> pd.DataFrame:
    """22 ChEBI-20-like rows (cid, smiles, description): 20 molecules, a salt of ethanol and an unparsable row."""
    words = ["alcohol", "alcohol", "alcohol", "alcohol", "arene", "arene", "arene", "pyridine", "pyridine",
             "acid", "acid", "acid", "cycloalkane", "cycloalkane", "cycloalkanol", "aminoalcohol",
             "aminoalcohol", "amine", "amine", "naphthalene"]  # fmt: skip
    rows = [{"cid": i + 1, "smiles": s, "description": f"The molecule is a {w} number {i}."} for i, (s, w) in
            enumerate(zip(SMILES, words, strict=True))]  # fmt: skip
    # the same molecule under a second CID (a salt): standardises to ethanol, a second description
    rows.append({"cid": 99, "smiles": "CC[O-].[Na+]", "description": "The molecule is an alkoxide salt."})
    rows.append({"cid": 100, "smiles": "C1CC(", "description": "broken"})
    return pd.DataFrame(rows)


def build_tiny_retrieval(models_dir, name: str = NAME):
    """A tiny dual encoder over-fitted on 21 synthetic pairs (hashing text backbone), saved in ``models_dir``."""
    corpus = prepare_corpus(pairs_frame(), HashingBackbone(64), cache_dir=None, log=lambda _m: None)
    split = retrieval_split(corpus, "cid")
    everything = np.arange(len(corpus))
    split = type(split)(everything, split.valid, split.test, "cid", 0)  # train on all pairs: a memorised corpus
    cfg = RetrievalConfig(
        name=name, epochs=60, batch_size=32, lr=3e-3, k=3, num_layer=2, emb_dim=32, proj_dim=16, drop_ratio=0.0,
        augment=False, er=False, s2p=False,
    )  # fmt: skip
    model, _ = train_dual_encoder(corpus, split, cfg, log=lambda _m: None)
    metrics = {"test": {"text2mol_mrr": 1.0, "text2mol_r1": 1.0, "text2mol_r10": 1.0}}
    save_checkpoint(model, corpus, split, cfg, metrics, models_dir=models_dir)
    return corpus


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    """The tiny model registered in a private models folder, with a private cache folder."""
    root = tmp_path_factory.mktemp("retrieval")
    corpus = build_tiny_retrieval(root / "models")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("WORKBENCH_MODELS_DIR", str(root / "models"))
        mp.setenv("WORKBENCH_CACHE_DIR", str(root / "cache"))
        retrieval.clear_cache()
        yield retrieval.load_retriever(NAME), corpus
        retrieval.clear_cache()
