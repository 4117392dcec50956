"""IFM encoding values, frequencies, kernel, IFM-MLP and IFM-GIN shapes."""

import math

import pytest
import torch

from workbench.nn.ifm import IFMMLP, IFMEncoding, IFMGINPredictor, ifm_encode, ifm_frequencies, ifm_kernel


def test_frequencies_are_geometric():
    assert ifm_frequencies(16.0, 4).tolist() == pytest.approx([1.0, 2.0, 4.0, 8.0])
    with pytest.raises(ValueError):
        ifm_frequencies(2.0, 0)


def test_encoding_values_for_a_known_input():
    out = ifm_encode(torch.tensor([[0.25, 0.0]]), ifm_frequencies(4.0, 2))  # c = 1, 2
    expected = [math.cos(math.pi / 2), math.cos(math.pi), math.sin(math.pi / 2), math.sin(math.pi), 1, 1, 0, 0]
    assert out.shape == (1, 8)
    assert out[0].tolist() == pytest.approx(expected, abs=1e-6)


def test_kernel_is_one_at_zero_and_symmetric():
    f = ifm_frequencies(8.0, 4)
    k = ifm_kernel(torch.tensor([0.0, 0.3, -0.3]), f)
    assert k[0].item() == pytest.approx(1.0)
    assert k[1].item() == pytest.approx(k[2].item())


def test_learnable_frequencies_get_gradients():
    enc = IFMEncoding(4.0, 3, learnable=True)
    enc(torch.rand(5, 2)).sum().backward()
    assert enc.freqs.grad is not None and enc.out_dim(2) == 12


def test_ifm_mlp_and_gin_shapes():
    torch.manual_seed(0)
    mlp = IFMMLP(16, 2, sigma=4.0, d=3, hidden=8)
    assert mlp(torch.rand(4, 16)).shape == (4, 2)
    from rdkit import Chem

    from workbench.featurizers import GraphBatch, mol_to_graph

    batch = GraphBatch.from_graphs([mol_to_graph(Chem.MolFromSmiles(s)) for s in ("CCO", "c1ccccc1N")])
    for use_ifm in (True, False):
        net = IFMGINPredictor(1, num_layer=2, emb_dim=8, use_ifm=use_ifm)
        out = net(batch.x, batch.edge_index, batch.edge_attr, batch.batch, batch.num_graphs)
        assert out.shape == (2, 1)
