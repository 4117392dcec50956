"""Mole-BERT-style pretraining: the family-split codebook, the two stages, exact resume, the hash, the CLI."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from tests.pretrain_helpers import build_tiny_corpus, loss_rows, run_pretrain
from workbench.cli import main
from workbench.models import find_checkpoints, load_state_dicts
from workbench.nn import GINPredictor
from workbench.nn.molebert import nt_xent, triplet_loss
from workbench.nn.vq_tokenizer import FamilyCodebook, VQTokenizer, atom_family
from workbench.train.pretrain import PretrainConfig, PretrainInterrupted
from workbench.train.pretrain.config import hashed_config
from workbench.train.pretrain.corpus_loader import pack_smiles
from workbench.train.pretrain.molebert import MoleBERT
from workbench.train.run_folder import ConfigMismatchError

SMILES = [
    f"{ring}{chain}"
    for ring in ("c1ccccc1", "C1CCNCC1", "c1ccncc1", "C1CCOC1", "c1ccsc1", "O=C1CCCN1")
    for chain in ("C", "CO", "CCN", "C(=O)O", "CCl", "OC(F)(F)F", "S(=O)(=O)N", "CC#N")
]  # 48 small molecules with C, N, O and "other" atoms (S, Cl, F)

SPLIT = (12, 6, 5, 4)  # a small codebook for the tiny runs


@pytest.fixture
def corpus(tmp_path):
    return build_tiny_corpus(tmp_path / "corpus", SMILES).path


def tiny(corpus, **kw):
    base = {
        "method": "molebert", "corpus": str(corpus), "epochs": 2, "tokenizer_epochs": 1, "batch_size": 16,
        "num_layer": 2, "emb_dim": 16, "threads": 1, "codebook_split": SPLIT,
    }  # fmt: skip
    return PretrainConfig(**(base | kw))


run = run_pretrain


def test_a_codebook_never_gives_an_atom_a_code_of_another_family():
    torch.manual_seed(0)
    book = FamilyCodebook(8, SPLIT)
    types = torch.tensor([5, 6, 7, 15, 16, 8, 0, 5, 6, 7] * 5)  # C N O S Cl F H ...
    z = torch.randn(len(types), 8)
    z[0] = book.embeddings.weight[book.family_range(1).start].detach()  # a carbon sitting on a nitrogen code
    codes = book.codes(types, z)
    families = atom_family(types)
    assert families[:5].tolist() == [0, 1, 2, 3, 3]
    for code, family in zip(codes.tolist(), families.tolist(), strict=True):
        assert code in book.family_range(family)
    assert codes[0].item() in book.family_range(0)
    quantized, same, loss = book(types, z.requires_grad_())
    assert torch.equal(same, codes) and torch.isfinite(loss)
    loss.backward()  # the straight-through estimator hands the gradient to the encoder output
    assert z.grad is not None and torch.allclose(quantized, book.embeddings(codes))


def test_the_contrastive_and_triplet_losses_prefer_the_lightly_masked_view():
    anchor = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    near, far = anchor + 0.1, anchor * -1.0
    assert triplet_loss(anchor, near, far, margin=0.0) == 0.0
    assert triplet_loss(anchor, far, near, margin=0.0) > 0.0
    assert nt_xent(anchor, anchor) < nt_xent(anchor, anchor.flip(0))
    assert nt_xent(anchor[:1], anchor[:1]) == 0.0  # one graph: no negative


def test_the_tokenizer_stage_trains_only_the_tokenizer_and_the_mam_stage_only_the_gin():
    method, cfg = MoleBERT(), PretrainConfig(method="molebert", num_layer=2, emb_dim=16, codebook_split=SPLIT)
    torch.manual_seed(0)
    model = method.build(cfg)
    batch = pack_smiles(SMILES[:8]).batch(torch.arange(8).numpy())
    generator = torch.Generator().manual_seed(0)
    for epoch, trained, frozen in ((0, "tokenizer.", "gnn."), (1, "gnn.", "tokenizer.")):
        model.zero_grad(set_to_none=True)
        method.start_epoch(model, epoch, PretrainConfig(tokenizer_epochs=1))
        loss, metrics = method.step(model, batch, generator, cfg)
        loss.backward()
        grads = {name: p.grad for name, p in model.named_parameters()}
        assert math.isfinite(float(loss.detach())) and metrics["stage"] == epoch
        assert all(g is None for k, g in grads.items() if k.startswith(frozen))
        assert any(g is not None and g.abs().sum() > 0 for k, g in grads.items() if k.startswith(trained))
    assert metrics["masked_atoms"] > 0 and 0.0 <= metrics["accuracy"] <= 1.0


def test_a_tiny_molebert_run_ships_the_gin_and_its_tokenizer_codes_respect_the_families(corpus, tmp_path):
    card = run(tiny(corpus), tmp_path)
    rows = loss_rows(tmp_path, "molebert-all-seed0")
    assert [r["stage"] for r in rows] == ["0"] * 3 + ["1"] * 6  # 1 tokenizer epoch, then 2 epochs of MAM + TMCL
    assert all(math.isfinite(float(r["loss"])) for r in rows)
    assert all(math.isfinite(float(r[k])) for r in rows[3:] for k in ("mam", "contrastive", "triplet"))
    assert card["training"]["recipe"]["codebook"] == {"carbon": 12, "nitrogen": 6, "oxygen": 5, "others": 4}
    assert card["training"]["epochs"] == 2 and card["training"]["steps"] == 9
    final = load_file(str(tmp_path / "runs" / "pretrain" / "molebert-all-seed0" / "best.safetensors"))
    tokenizer = VQTokenizer(2, 16, SPLIT)
    tokenizer.load_state_dict({k.removeprefix("tokenizer."): v for k, v in final.items() if k.startswith("tokenizer.")})
    tokenizer.eval()
    batch = pack_smiles(SMILES).batch(torch.arange(len(SMILES)).numpy())
    codes, families = tokenizer.encode(batch.x, batch.edge_index, batch.edge_attr), atom_family(batch.x[:, 0])
    starts = torch.tensor([0, 12, 18, 23, 27])
    assert ((codes >= starts[families]) & (codes < starts[families + 1])).all()
    assert len(set(families.tolist())) == 4  # the corpus has atoms of every family
    shipped = load_state_dicts(tmp_path / "enc" / "molebert-all-seed0")[0]
    assert shipped.keys() == {k for k in final if k.startswith("gnn.")}
    GINPredictor(1, num_layer=2, emb_dim=16).load_encoder(shipped)


@pytest.mark.slow
def test_an_interrupted_molebert_run_resumes_to_the_same_weights(corpus, tmp_path):
    run(tiny(corpus, name="whole"), tmp_path)
    parts = tiny(corpus, name="parts")
    with pytest.raises(PretrainInterrupted, match="step 2 of 9"):
        run(parts, tmp_path, stop_after=2)  # inside the tokenizer stage
    with pytest.raises(PretrainInterrupted, match="step 5 of 9"):
        run(parts, tmp_path, stop_after=5)  # inside the MAM + TMCL stage
    run(parts, tmp_path)
    a = load_file(str(tmp_path / "runs" / "pretrain" / "whole" / "best.safetensors"))
    b = load_file(str(tmp_path / "runs" / "pretrain" / "parts" / "best.safetensors"))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(k.startswith("tokenizer.codebook") for k in a) and any(k.startswith("mam_head") for k in a)
    assert [int(r["step"]) for r in loss_rows(tmp_path, "parts")] == list(range(1, 10))


def test_molebert_settings_enter_the_hash_only_for_molebert_runs():
    attrmask = hashed_config(PretrainConfig(mask_rate2=0.5, tokenizer_epochs=3), "sha")
    assert "molebert" not in attrmask and "tokenizer_epochs" not in json.dumps(attrmask)
    a = hashed_config(PretrainConfig(method="molebert"), "sha")
    b = hashed_config(PretrainConfig(method="molebert", mask_rate2=0.5), "sha")
    assert a["molebert"]["codebook_split"] == [377, 55, 54, 26] and a != b


def test_a_molebert_resume_with_another_second_mask_rate_is_refused(corpus, tmp_path):
    with pytest.raises(PretrainInterrupted):
        run(tiny(corpus, name="r"), tmp_path, stop_after=1)
    with pytest.raises(ConfigMismatchError, match=r"molebert.mask_rate2 \(0.3 -> 0.4\)"):
        run(tiny(corpus, name="r", mask_rate2=0.4), tmp_path)


def test_cli_pretrains_molebert_end_to_end(corpus, tmp_path, capsys):
    out = tmp_path / "models" / "encoders" / "molebert"
    args = ["train", "pretrain", "--method", "molebert", "--corpus", str(corpus), "--epochs", "1"]
    args += ["--tokenizer-epochs", "1", "--codebook-split", "8", "4", "4", "4", "--batch-size", "16"]
    args += ["--num-layer", "2", "--emb-dim", "16", "--threads", "1", "--runs-dir", str(tmp_path / "runs")]
    assert main([*args, "--out", str(out)]) == 0
    card = json.loads((out / "card.json").read_text())
    assert "--method molebert" in card["command"] and "--codebook-split 8 4 4 4" in card["command"]
    assert card["training"]["recipe"]["tokenizer_epochs"] == 1 and card["training"]["steps"] == 6
    found, problems = find_checkpoints([tmp_path / "models"])
    assert problems == [] and [c.name for c in found] == ["molebert"] and found[0].architecture == "gin_encoder"
    assert "molecules/s" in capsys.readouterr().out


def test_molebert_trains_under_bfloat16_autocast(corpus, tmp_path):
    card = run(tiny(corpus, epochs=1, amp=True, name="amp"), tmp_path)
    assert card["training"]["amp"] == [True]
    assert all(math.isfinite(row["loss"]) for row in card["training"]["history"])
