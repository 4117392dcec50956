"""GraphMVP pretraining: SchNet, the 2D–3D losses, the corpus conformer cache (resume, heal) and the training run."""

import csv
import json

import numpy as np
import pytest
import torch
from rdkit import Chem
from safetensors.torch import load_file
from torch_geometric.nn.models import SchNet as PygSchNet

from tests.pretrain_helpers import build_tiny_corpus, run_pretrain
from workbench.cli import main
from workbench.data.corpus_conformers import build_corpus_conformers, conformer_folder, load_corpus_conformers
from workbench.data.corpus_files import load_corpus_info
from workbench.nn.gin import GIN
from workbench.nn.graphmvp import VariationalReconstruction, contrastive_loss
from workbench.nn.schnet import SchNet, radius_graph_per_molecule
from workbench.train.pretrain import PretrainConfig, PretrainInterrupted
from workbench.train.pretrain.graphmvp import ConformerBatch, choose_conformers

SMILES = [
    f"{ring}{chain}" for ring in ("c1ccccc1", "C1CCNCC1", "c1ccncc1") for chain in ("C", "CO", "CCN", "C(=O)O")
] + ["C[Sn](C)(C)C"]  # 12 small molecules and one ETKDG refuses (tin)
FAST = {"conformers": 2, "optimize": None, "shard_size": 5, "log": lambda _m: 0}


@pytest.fixture
def corpus(tmp_path):
    build_tiny_corpus(tmp_path / "corpus", SMILES)
    return load_corpus_info(tmp_path / "corpus")


@pytest.fixture
def cached(corpus):
    build_corpus_conformers(corpus, **FAST)
    return corpus


def tiny(corpus, **kw):
    base = {"method": "graphmvp", "corpus": str(corpus.path), "epochs": 2, "batch_size": 5, "num_layer": 2,
            "emb_dim": 16, "threads": 1, "conformers": 2}  # fmt: skip
    return PretrainConfig(**(base | kw))


run = run_pretrain


def test_the_radius_graph_joins_distinct_atoms_of_one_molecule_within_the_cutoff():
    pos = torch.tensor([[0.0, 0, 0], [1, 0, 0], [5, 0, 0], [0, 0, 0], [0, 2, 0]])
    edges, length = radius_graph_per_molecule(pos, torch.tensor([0, 3, 5]), cutoff=4.5)
    pairs = sorted(map(tuple, edges.T.tolist()))
    assert pairs == [(0, 1), (1, 0), (1, 2), (2, 1), (3, 4), (4, 3)]  # 0-2 is 5 Å; 2-3 are other molecules
    assert torch.allclose(length.sort().values, torch.tensor([1.0, 1, 2, 2, 4, 4]))


@pytest.mark.slow
def test_schnet_computes_what_pyg_schnet_computes_on_the_same_radius_graph():
    torch.manual_seed(0)
    ptr = torch.tensor([0, 4, 9])
    z, pos = torch.randint(1, 10, (9,)), torch.randn(9, 3) * 2
    ours = SchNet(32, 16, 2, 20, 5.0, "mean", num_atom_types=100)
    graph = lambda p, _batch: radius_graph_per_molecule(p, ptr, 5.0)  # noqa: E731
    pyg = PygSchNet(32, 16, 2, 20, 5.0, interaction_graph=graph, readout="mean")
    pyg.lin1, pyg.lin2 = ours.lin1, ours.lin2  # GraphMVP's SchNet keeps the width (PyG's ends in one energy)
    ours.load_state_dict({k: v for k, v in pyg.state_dict().items() if ".conv.nn." not in k})
    batch = torch.repeat_interleave(torch.arange(2), ptr[1:] - ptr[:-1])
    assert torch.allclose(ours(z, pos, ptr), pyg(z, pos, batch), atol=1e-5)


def test_the_contrastive_losses_reward_matching_views_and_count_hits():
    x = torch.tensor([[1.0, 0], [-1, 0], [1, 0.1], [-1, 0.1]])  # each molecule unlike the next (EBM's negative)
    for kind in ("ebm_nce", "infonce"):
        matched, accuracy = contrastive_loss(x, x + 0.01, kind, 0.1)
        shuffled, _ = contrastive_loss(x, x.roll(1, dims=0), kind, 0.1)
        assert matched < shuffled and accuracy == 1.0
    with pytest.raises(ValueError, match="unknown contrastive loss"):
        contrastive_loss(x, x, "triplet")


def test_the_reconstruction_target_gets_no_gradient_and_the_kl_term_is_weighted_by_beta():
    torch.manual_seed(0)
    x, target = torch.randn(6, 8, requires_grad=True), torch.randn(6, 8, requires_grad=True)
    noise = torch.zeros(6, 8)
    head = VariationalReconstruction(8, beta=0.0)
    head(x, target, noise).backward()
    assert target.grad is None and x.grad is not None
    heavy = VariationalReconstruction(8, beta=5.0)
    heavy.load_state_dict(head.state_dict())
    assert heavy(x, target, noise) > head(x, target, noise)


def test_one_conformer_per_molecule_is_drawn_from_its_own_block():
    # molecule 0: 2 atoms × 3 conformers (x = 0, 1, 2); molecule 1: 1 atom × 2 conformers (x = 10, 11)
    positions = torch.tensor(
        [[0.0, 0, 0], [0, 1, 0], [1, 0, 0], [1, 1, 0], [2, 0, 0], [2, 1, 0], [10, 0, 0], [11, 0, 0]]
    )
    batch = ConformerBatch(torch.zeros(3, 2, dtype=torch.long), torch.zeros(2, 0, dtype=torch.long),
                           torch.zeros(0, 2, dtype=torch.long), torch.tensor([0, 2, 3]), 2, positions,
                           torch.tensor([3, 2]))  # fmt: skip
    generator, seen = torch.Generator().manual_seed(0), set()
    for _ in range(40):
        pos = choose_conformers(batch, generator)
        assert pos[0, 0] == pos[1, 0] and pos[0, 1] == 0 and pos[1, 1] == 1  # both atoms of one conformer
        seen.add((int(pos[0, 0]), int(pos[2, 0])))
    assert {a for a, _ in seen} == {0, 1, 2} and {b for _, b in seen} == {10, 11}


def test_the_conformer_cache_matches_the_graph_atoms_and_lists_its_failures(cached):
    cache = load_corpus_conformers(cached, 2)
    report = cache.report
    assert report["molecules"] == 13 and report["with_conformers"] == 12 and report["failures"] == 1
    assert report["failure_reasons"] == {"metal complex or unsupported element for 3D (Sn)": 1}
    assert len(report["sha256"]) == 64 and cache.positions.dtype == np.float16
    with open(cached.path) as corpus_file, open(cache.folder / "failures.csv") as failures_file:
        smiles = [r["smiles"] for r in csv.DictReader(corpus_file)]
        failures = list(csv.DictReader(failures_file))
    assert len(failures) == 1 and failures[0]["smiles"] == smiles[int(failures[0]["row"])]
    assert "Sn" in failures[0]["smiles"]
    for j, row in enumerate(cache.rows):
        assert cache.n_atoms[j] == Chem.MolFromSmiles(smiles[row]).GetNumAtoms()
        assert 1 <= cache.n_conformers[j] <= 2
    block = cache.positions[cache.offsets[0] : cache.offsets[0] + cache.n_atoms[0]].astype(float)
    assert np.abs(block.mean(axis=0)).max() < 1e-2  # centred
    bonded = np.linalg.norm(block[0] - block[1])
    assert 1.2 < bonded < 1.6  # a C-C or C:C bond, in Å


def test_the_conformer_cache_resumes_after_an_interruption_and_heals_a_truncated_shard(corpus, monkeypatch):
    import workbench.data.corpus_conformers as module

    real, calls, interrupt = module.generate_conformers_batch, [], [True]

    def interrupted_on_the_second_shard(mols, **kw):
        calls.append(len(mols))
        if len(calls) == 2 and interrupt:
            interrupt.clear()
            raise KeyboardInterrupt
        return real(mols, **kw)

    monkeypatch.setattr(module, "generate_conformers_batch", interrupted_on_the_second_shard)
    with pytest.raises(KeyboardInterrupt):
        build_corpus_conformers(corpus, **FAST)
    with pytest.raises(FileNotFoundError, match="finish"):
        load_corpus_conformers(corpus, 2)
    calls.clear()
    first = build_corpus_conformers(corpus, **FAST)
    assert calls == [5, 3]  # shards 1 and 2 only
    shard = conformer_folder(corpus, 2) / "shard-00001.npz"
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(ValueError, match="damaged"):
        load_corpus_conformers(corpus, 2)
    messages, calls[:] = [], []
    healed = build_corpus_conformers(corpus, **(FAST | {"log": messages.append}))
    assert calls == [5] and any("shard-00001.npz" in m and "again" in m for m in messages)
    assert healed.sha256 == first.sha256 and np.array_equal(healed.positions, first.positions)
    with pytest.raises(ValueError, match="other settings"):
        build_corpus_conformers(corpus, **(FAST | {"shard_size": 4}))


def test_graphmvp_without_a_conformer_cache_says_how_to_make_one(corpus, tmp_path):
    with pytest.raises(FileNotFoundError, match="workbench data conformers"):
        run(tiny(corpus), tmp_path)


def test_a_tiny_graphmvp_run_trains_on_the_molecules_with_conformers_and_ships_a_gin(cached, tmp_path):
    card = run(tiny(cached, epochs=3), tmp_path)
    training = card["training"]
    assert training["recipe"]["with_conformers"] == 12 and training["recipe"]["without_conformers"] == 1
    assert card["data"]["molecules"] == 12 and training["steps"] == 3 * 3
    assert all(np.isfinite(h["loss"]) for h in training["history"])
    with open(tmp_path / "runs" / "pretrain" / "graphmvp-all-seed0" / "loss.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 9 and all(np.isfinite(float(r["contrastive"])) for r in rows)
    weights = load_file(str(tmp_path / "enc" / "graphmvp-all-seed0" / "encoder.safetensors"))
    assert weights and all(k.startswith("gnn.") for k in weights)
    gin = GIN(2, 16, 0.0)
    gin.load_state_dict({k.removeprefix("gnn."): v.float() for k, v in weights.items()})


@pytest.mark.slow
def test_an_interrupted_graphmvp_run_resumes_to_the_same_weights_as_an_uninterrupted_one(cached, tmp_path):
    run(tiny(cached, name="whole"), tmp_path)
    parts = tiny(cached, name="parts")
    with pytest.raises(PretrainInterrupted, match="step 4 of 6"):
        run(parts, tmp_path, stop_after=4)  # mid-epoch (3 steps per epoch)
    run(parts, tmp_path)
    a, b = (load_file(str(tmp_path / "runs" / "pretrain" / n / "best.safetensors")) for n in ("whole", "parts"))
    assert a.keys() == b.keys() and any(k.startswith("schnet.") for k in a)
    assert all(torch.equal(a[k], b[k]) for k in a)
    other = tiny(cached, name="parts", alpha_2=0.1)
    with pytest.raises(Exception, match="alpha_2"):
        run(other, tmp_path)


def test_the_cli_makes_conformers_and_pretrains_graphmvp_end_to_end(corpus, tmp_path, capsys):
    args = ["data", "conformers", "--corpus", str(corpus.path), "--conformers", "2", "--optimize", "none"]
    assert main(args) == 0
    assert "12 of 13 molecules" in capsys.readouterr().out
    assert main(args) == 0  # a finished cache is reused
    out = tmp_path / "enc"
    assert main(["train", "pretrain", "--method", "graphmvp", "--corpus", str(corpus.path), "--conformers", "2",
                 "--epochs", "1", "--batch-size", "6", "--num-layer", "2", "--emb-dim", "16", "--threads", "1",
                 "--runs-dir", str(tmp_path / "runs"), "--out", str(out), "--cl-loss", "infonce"]) == 0  # fmt: skip
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["method"] == "graphmvp" and card["training"]["recipe"]["contrastive"] == "infonce"
    assert card["training"]["recipe"]["conformer_cache_sha256"] == load_corpus_conformers(corpus, 2).sha256
