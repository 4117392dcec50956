"""Dual encoder and AMOLE losses on hand-made batches."""

from __future__ import annotations

import pytest
import torch
from torch.nn import functional as F

from workbench.nn.dual_encoder import (
    DualEncoder,
    expertise_reconstruction_loss,
    info_nce,
    s2p_loss,
    tanimoto_matrix,
)
from workbench.nn.heads import mean_pool


def _batch(n: int = 6, d: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return F.normalize(torch.randn(n, d, generator=g), dim=-1), F.normalize(torch.randn(n, d, generator=g), dim=-1)


def test_info_nce_is_low_for_matched_pairs_and_symmetric():
    mol, text = _batch()
    assert info_nce(mol, mol, 0.1) < info_nce(mol, text, 0.1)
    assert torch.isclose(info_nce(mol, text), info_nce(text, mol))
    # a hand-computed case: two orthogonal pairs, tau 1 -> each row is softmax([1, 0])
    eye = torch.eye(2)
    expected = -torch.log(torch.tensor(torch.e / (torch.e + 1)))
    assert torch.isclose(info_nce(eye, eye, 1.0), expected)


def test_s2p_with_identity_similarity_approaches_info_nce_as_tau1_goes_to_zero():
    mol, text = _batch()
    identity = torch.eye(len(mol))
    target = info_nce(mol, text, 0.1)
    gaps = [abs(float(s2p_loss(mol, text, identity, tau1, 0.1) - target)) for tau1 in (1.0, 0.3, 0.1, 0.01)]
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-6


def test_s2p_soft_targets_reward_similar_molecules():
    mol = text = torch.eye(4)
    # molecules 0 and 1 are near-identical structures: predicting text 1 for molecule 0 costs less under S2P
    sim = torch.eye(4)
    sim[0, 1] = sim[1, 0] = 0.9
    swapped = text[[1, 0, 2, 3]]
    hard = info_nce(mol, swapped) - info_nce(mol, text)
    soft = s2p_loss(mol, swapped, sim) - s2p_loss(mol, text, sim)
    assert soft < hard


def test_tanimoto_matrix_on_bit_vectors():
    a = torch.tensor([[1, 1, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]], dtype=torch.uint8)
    sim = tanimoto_matrix(a, a)
    assert torch.allclose(sim[0], torch.tensor([1.0, 1 / 3, 0.0]))
    assert sim[2, 2] == 0.0  # empty fingerprints are not similar to anything


def test_er_loss_masks_rows_without_a_partner():
    pred, target = _batch(3)
    assert torch.isclose(expertise_reconstruction_loss(target, target), torch.tensor(0.0), atol=1e-6)
    none = expertise_reconstruction_loss(pred, target, torch.zeros(3, dtype=torch.bool))
    assert float(none) == 0.0


def _tiny_graphs() -> tuple[torch.Tensor, ...]:
    # ethanol-like chain (3 atoms) and a 2-atom molecule
    x = torch.tensor([[5, 0], [5, 0], [7, 0], [5, 0], [6, 0]])
    edge_index = torch.tensor([[0, 1, 1, 2, 3, 4], [1, 0, 2, 1, 4, 3]])
    edge_attr = torch.zeros(6, 2, dtype=torch.long)
    batch = torch.tensor([0, 0, 0, 1, 1])
    return x, edge_index, edge_attr, batch


def test_gradients_flow_to_both_encoders():
    torch.manual_seed(0)
    model = DualEncoder(text_dim=16, proj_dim=8, num_layer=2, emb_dim=16, drop_ratio=0.0)
    x, edge_index, edge_attr, batch = _tiny_graphs()
    mol = model.encode_molecules(x, edge_index, edge_attr, batch, 2)
    text = model.encode_texts(torch.randn(2, 16))
    assert mol.shape == text.shape == (2, 8)
    assert torch.allclose(mol.norm(dim=1), torch.ones(2), atol=1e-5)
    loss = s2p_loss(mol, text, torch.eye(2)) + expertise_reconstruction_loss(text, torch.randn(2, 8))
    loss.backward()
    assert model.gnn.x_embedding1.weight.grad.abs().sum() > 0
    assert model.mol_proj[0].weight.grad.abs().sum() > 0
    assert model.text_proj[0].weight.grad.abs().sum() > 0


def test_load_encoder_accepts_gnn_prefixed_keys():
    a = DualEncoder(text_dim=16, proj_dim=8, num_layer=2, emb_dim=16)
    b = DualEncoder(text_dim=16, proj_dim=8, num_layer=2, emb_dim=16)
    state = {f"gnn.{k}": v for k, v in a.gnn.state_dict().items()}
    state["graph_pred_linear.weight"] = torch.zeros(1, 16)
    b.load_encoder(state)
    assert torch.equal(a.gnn.x_embedding1.weight, b.gnn.x_embedding1.weight)


def test_a_feature_tower_needs_no_graph_and_its_width_is_declared():
    torch.manual_seed(0)
    model = DualEncoder(text_dim=16, proj_dim=8, towers=("minimol",), feature_dims={"minimol": 12}, hidden=10)
    assert model.gnn is None and model.out_dim == 8
    mol = model.encode_molecules(features={"minimol": torch.randn(3, 12)})
    assert mol.shape == (3, 8) and torch.allclose(mol.norm(dim=1), torch.ones(3), atol=1e-5)
    with pytest.raises(ValueError, match="feature vectors"):
        model.encode_molecules()
    with pytest.raises(ValueError, match="feature_dims"):
        DualEncoder(towers=("ecfp4+rdkit2d",))
    with pytest.raises(ValueError, match="one or two distinct"):
        DualEncoder(towers=("gin", "gin"))
    with pytest.raises(ValueError, match="no GIN tower"):
        model.load_encoder({})


def test_late_fusion_scores_are_the_mean_of_the_branch_cosines():
    torch.manual_seed(0)
    model = DualEncoder(
        text_dim=16, proj_dim=8, num_layer=2, emb_dim=16, drop_ratio=0.0, towers=("gin", "ecfp4+rdkit2d"),
        feature_dims={"ecfp4+rdkit2d": 6}, hidden=10,
    )  # fmt: skip
    model.eval()
    x, edge_index, edge_attr, batch = _tiny_graphs()
    features = {"ecfp4+rdkit2d": torch.randn(2, 6)}
    text_features = torch.randn(2, 16)
    mol = model.encode_molecules(x, edge_index, edge_attr, batch, 2, features=features)
    text = model.encode_texts(text_features)
    assert mol.shape == text.shape == (2, 16) and model.out_dim == 16
    assert torch.allclose(mol.norm(dim=1), torch.ones(2), atol=1e-5)
    gin = F.normalize(model.mol_proj(mean_pool(model.gnn(x, edge_index, edge_attr), batch, 2)), dim=-1)
    feat = F.normalize(model.feature_towers["ecfp4_rdkit2d"](features["ecfp4+rdkit2d"]), dim=-1)
    t1 = F.normalize(model.text_proj(text_features), dim=-1)
    t2 = F.normalize(model.text_proj_2(text_features), dim=-1)
    assert torch.allclose(mol @ text.T, 0.5 * (gin @ t1.T + feat @ t2.T), atol=1e-5)


def test_a_single_gin_tower_keeps_the_parameter_names_of_the_shipped_checkpoint():
    torch.manual_seed(0)
    model = DualEncoder(text_dim=16, proj_dim=8, num_layer=2, emb_dim=16)
    assert {k.split(".")[0] for k in model.state_dict()} == {"gnn", "mol_proj", "text_proj"}
    torch.manual_seed(0)
    again = DualEncoder(text_dim=16, proj_dim=8, num_layer=2, emb_dim=16, towers=["gin"])
    pairs = zip(model.state_dict().values(), again.state_dict().values(), strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)
