"""AttrMask pretraining: masking, packed batches, loss going down, exact resume, refused resume, the shipped card."""

import json

import numpy as np
import pytest
import torch
from rdkit import Chem
from safetensors.torch import load_file
from torch_geometric.data import Batch, Data

from tests.pretrain_helpers import build_tiny_corpus, loss_rows, run_pretrain
from workbench.cli import main
from workbench.featurizers import mol_to_graph
from workbench.models import find_checkpoints, load_state_dicts
from workbench.models.builders import can_predict
from workbench.nn import GINPredictor
from workbench.train.pretrain import PretrainConfig, PretrainInterrupted, pretrain
from workbench.train.pretrain.attrmask import AttrMask
from workbench.train.pretrain.corpus_loader import pack_smiles
from workbench.train.pretrain.masking import mask_atoms
from workbench.train.run_folder import ConfigMismatchError

SMILES = [
    f"{ring}{chain}"
    for ring in ("c1ccccc1", "C1CCNCC1", "c1ccncc1", "C1CCOC1", "c1ccsc1", "O=C1CCCN1")
    for chain in ("C", "CO", "CCN", "C(=O)O", "CCl", "OC(F)(F)F", "S(=O)(=O)N", "CC#N")
]  # 48 small molecules


@pytest.fixture
def corpus(tmp_path):
    return build_tiny_corpus(tmp_path / "corpus", SMILES).path


def tiny(corpus, **kw):
    base = {"corpus": str(corpus), "epochs": 3, "batch_size": 16, "num_layer": 2, "emb_dim": 32, "threads": 1}
    return PretrainConfig(**(base | kw))


run = run_pretrain


def logged_steps(tmp_path, name):
    return [int(r["step"]) for r in loss_rows(tmp_path, name)]


def final_weights(tmp_path, cfg):
    return load_file(str(tmp_path / "runs" / "pretrain" / cfg.run_name / "best.safetensors"))


def test_masking_masks_int_15_percent_plus_one_atoms_per_molecule_with_the_mask_token():
    sizes = [1, 6, 7, 20, 40]
    x = torch.stack([torch.randint(0, 118, (sum(sizes),)), torch.randint(0, 3, (sum(sizes),))], dim=1)
    ptr = torch.tensor(np.concatenate([[0], np.cumsum(sizes)]))
    masked = mask_atoms(x, ptr, 0.15, torch.Generator().manual_seed(0))
    per_molecule = torch.bucketize(masked.indices, ptr[1:], right=True).bincount(minlength=len(sizes))
    assert per_molecule.tolist() == [int(n * 0.15 + 1) for n in sizes] == [1, 1, 2, 4, 7]
    assert len(set(masked.indices.tolist())) == len(masked.indices)
    assert (masked.x[masked.indices] == torch.tensor([119, 0])).all()
    assert torch.equal(masked.labels, x[masked.indices, 0])
    untouched = torch.ones(len(x), dtype=torch.bool)
    untouched[masked.indices] = False
    assert torch.equal(masked.x[untouched], x[untouched])
    again = mask_atoms(x, ptr, 0.15, torch.Generator().manual_seed(0))
    other = mask_atoms(x, ptr, 0.15, torch.Generator().manual_seed(1))
    assert torch.equal(again.indices, masked.indices) and not torch.equal(other.indices, masked.indices)


def test_packed_batches_equal_pyg_batches_of_the_same_molecules():
    smiles = ["CCO", "c1ccccc1C(=O)O", "Cl", "C[C@H](N)C(=O)O"]
    packed = pack_smiles([*smiles, "C[NH2]->[Cu]"])
    assert packed.failed.tolist() == [4] and len(packed) == 4
    rows = np.array([3, 0, 2])
    batch = packed.batch(rows)
    graphs = [mol_to_graph(Chem.MolFromSmiles(smiles[i])) for i in rows]
    reference = Batch.from_data_list([Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr) for g in graphs])
    assert torch.equal(batch.x, reference.x) and torch.equal(batch.edge_index, reference.edge_index)
    assert torch.equal(batch.edge_attr, reference.edge_attr) and torch.equal(batch.ptr, reference.ptr)


def test_a_tiny_attrmask_run_lowers_the_loss(corpus, tmp_path):
    cfg = tiny(corpus, epochs=6, lr=3e-3)
    card = run(cfg, tmp_path)
    history = card["training"]["history"]
    assert len(history) == 6 and history[-1]["loss"] < 0.7 * history[0]["loss"]
    assert card["training"]["steps"] == 6 * 3 and card["training"]["molecule_epochs"] == 6.0


def test_an_interrupted_run_resumes_to_the_same_weights_as_an_uninterrupted_one(corpus, tmp_path):
    whole = tiny(corpus, name="whole")
    run(whole, tmp_path)
    parts = tiny(corpus, name="parts")
    with pytest.raises(PretrainInterrupted, match="step 4 of 9"):
        run(parts, tmp_path, stop_after=4)  # mid-epoch (3 steps per epoch)
    card = run(parts, tmp_path)
    a, b = final_weights(tmp_path, whole), final_weights(tmp_path, parts)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    assert any(k.startswith("atom_head.") for k in a)
    assert logged_steps(tmp_path, "parts") == list(range(1, 10))
    segments = card["training"]["segments"]
    assert [(s["start_step"], s["end_step"]) for s in segments] == [(0, 4), (4, 9)]


def test_a_crash_resumes_from_the_last_saved_state_to_the_same_weights(corpus, tmp_path, monkeypatch):
    whole = tiny(corpus, name="whole")
    run(whole, tmp_path)
    crashed = tiny(corpus, name="crashed")
    real, calls = AttrMask.step, []

    def crashes_at_step_5(self, *args):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("killed")
        return real(self, *args)

    monkeypatch.setattr(AttrMask, "step", crashes_at_step_5)
    with pytest.raises(RuntimeError, match="killed"):
        run(crashed, tmp_path)  # the last save was at the end of epoch 1 (step 3)
    monkeypatch.setattr(AttrMask, "step", real)
    run(crashed, tmp_path)
    a, b = final_weights(tmp_path, whole), final_weights(tmp_path, crashed)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert logged_steps(tmp_path, "crashed") == list(
        range(1, 10)
    )  # the rows of steps 4 (done, never saved) were dropped and redone


def test_a_resume_with_another_configuration_is_refused(corpus, tmp_path):
    with pytest.raises(PretrainInterrupted):
        run(tiny(corpus, name="r"), tmp_path, stop_after=2)
    with pytest.raises(ConfigMismatchError, match=r"mask_rate \(0.15 -> 0.3\)"):
        run(tiny(corpus, name="r", mask_rate=0.3), tmp_path)
    progress = json.loads((tmp_path / "runs" / "pretrain" / "r" / "progress.json").read_text())
    assert progress["status"] == "interrupted" and progress["step"] == 2 and progress["total_steps"] == 9


def test_the_shipped_encoder_is_registered_as_a_non_predictor_and_initializes_a_gin(corpus, tmp_path):
    root = tmp_path / "models"
    card = pretrain(
        tiny(corpus, epochs=1), runs_dir=tmp_path / "runs", out_dir=root / "encoders" / "attrmask", log=lambda _m: 0
    )
    assert card["data"]["sha256"] == json.loads(corpus.with_suffix(".json").read_text())["corpus"]["sha256"]
    assert card["data"]["molecules"] == len(SMILES) and card["training"]["devices"] == ["cpu"]
    found, problems = find_checkpoints([root])
    assert problems == [] and [c.name for c in found] == ["attrmask"]
    assert found[0].architecture == "gin_encoder" and not can_predict(found[0])
    state = load_state_dicts(found[0].path)[0]
    assert all(k.startswith("gnn.") for k in state) and state["gnn.x_embedding1.weight"].dtype == torch.float16
    model = GINPredictor(1, num_layer=2, emb_dim=32)
    model.load_encoder(state)
    assert torch.allclose(model.gnn.x_embedding1.weight, state["gnn.x_embedding1.weight"].float())


def test_cli_pretrains_and_records_the_command(corpus, tmp_path, capsys):
    out = tmp_path / "enc"
    args = ["train", "pretrain", "--corpus", str(corpus), "--epochs", "1", "--batch-size", "16", "--num-layer", "2"]
    args += ["--emb-dim", "16", "--threads", "1", "--runs-dir", str(tmp_path / "runs"), "--out", str(out)]
    assert main(args) == 0
    card = json.loads((out / "card.json").read_text())
    assert card["command"].startswith("workbench train pretrain") and "--emb-dim 16" in card["command"]
    assert "molecules/s" in capsys.readouterr().out


def test_amp_trains_under_bfloat16_autocast(corpus, tmp_path):
    card = run(tiny(corpus, epochs=2, amp=True, name="amp"), tmp_path)
    assert card["training"]["amp"] == [True]
    assert all(np.isfinite(row["loss"]) for row in card["training"]["history"])
