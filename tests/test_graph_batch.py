"""The workbench's own graph batch stacks graphs exactly as PyTorch Geometric does, and GIN inference needs no PyG."""

from __future__ import annotations

import pytest
import torch
from rdkit import Chem
from torch_geometric.data import Batch, Data
from torch_geometric.utils import scatter

from tests.subprocess_helpers import python_json
from workbench.featurizers import GraphBatch, MolGraph, mol_to_graph, segment_mean

SMILES = ("CCO", "c1ccccc1O", "[Na+]", "CC(=O)Oc1ccccc1C(=O)O")


def _graphs() -> list[MolGraph]:
    return [mol_to_graph(Chem.MolFromSmiles(s)) for s in SMILES]


def test_stacking_matches_pyg_batch_from_data_list_field_by_field():
    graphs = _graphs()
    ours = GraphBatch.from_graphs(graphs)
    theirs = Batch.from_data_list([Data(x=g.x, edge_index=g.edge_index, edge_attr=g.edge_attr) for g in graphs])
    for field in ("x", "edge_index", "edge_attr", "batch", "ptr"):
        assert torch.equal(getattr(ours, field), getattr(theirs, field)), field
    assert ours.num_graphs == theirs.num_graphs == len(SMILES)


def test_a_graph_without_bonds_keeps_its_node_and_shifts_later_edges():
    ours = GraphBatch.from_graphs(_graphs()[2:])  # [Na+] (one atom, no bonds), then aspirin
    assert ours.ptr.tolist() == [0, 1, 14]
    assert int(ours.edge_index.min()) == 1


def test_an_empty_batch_is_refused():
    with pytest.raises(ValueError, match="at least one graph"):
        GraphBatch.from_graphs([])


def test_segment_mean_matches_pyg_scatter_mean_and_gives_zeros_for_an_empty_graph():
    torch.manual_seed(0)
    h = torch.randn(9, 5)
    batch = torch.tensor([0, 0, 0, 2, 2, 3, 3, 3, 3])  # graph 1 has no rows
    expected = scatter(h, batch, dim=0, dim_size=4, reduce="mean")
    got = segment_mean(h, batch, 4)
    torch.testing.assert_close(got, expected, rtol=0, atol=1e-6)
    assert torch.equal(got[1], torch.zeros(5))


@pytest.mark.slow
def test_loading_and_running_a_shipped_gin_imports_no_pytorch_geometric():
    code = (
        "import json, sys\n"
        "from workbench.predict.inference import load_model\n"
        "from rdkit import Chem\n"
        "model = load_model('bace_gin')\n"
        "values, errors = model.predictor.predict([Chem.MolFromSmiles('CCO')])\n"
        "print(json.dumps({'pyg': 'torch_geometric' in sys.modules, 'shape': list(values.shape)}))\n"
    )
    report = python_json(code)
    assert report["pyg"] is False and report["shape"][1] == 1
