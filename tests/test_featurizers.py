import numpy as np
import pytest
import torch
from rdkit import Chem

from workbench.featurizers import fingerprints
from workbench.featurizers import graph as featurize


def mol(smiles: str) -> Chem.Mol:
    return Chem.MolFromSmiles(smiles)


def test_graph_follows_pretrain_gnns_layout():
    graph = featurize.mol_to_graph(mol("C[C@H](N)C=O"))
    assert graph.x.dtype == torch.long and graph.x.shape == (5, 2)
    # atom type index = atomic number - 1; chirality tag in column 1
    assert graph.x[:, 0].tolist() == [5, 5, 6, 5, 7]
    assert graph.x[1, 1].item() in (1, 2)
    assert graph.x[0, 1].item() == 0
    # each bond twice, interleaved (i->j, j->i)
    assert graph.edge_index.shape == (2, 8)
    assert graph.edge_index[:, 0].tolist() == [0, 1] and graph.edge_index[:, 1].tolist() == [1, 0]
    assert graph.edge_attr.shape == (8, 2)
    double = [k for k in range(8) if graph.edge_attr[k, 0].item() == 1]
    assert len(double) == 2  # the C=O bond in both directions


def test_aromatic_and_directional_bonds_are_encoded():
    benzene = featurize.mol_to_graph(mol("c1ccccc1"))
    assert set(benzene.edge_attr[:, 0].tolist()) == {3}
    stilbene = featurize.mol_to_graph(mol("F/C=C/F"))
    assert set(stilbene.edge_attr[:, 1].tolist()) >= {1}


def test_single_atom_has_empty_edges():
    graph = featurize.mol_to_graph(mol("[Na+]"))
    assert graph.x.tolist() == [[10, 0]]
    assert graph.edge_index.shape == (2, 0) and graph.edge_attr.shape == (0, 2)


def test_dummy_atoms_and_dative_bonds_are_refused():
    with pytest.raises(featurize.FeaturizationError, match="dummy"):
        featurize.mol_to_graph(mol("C*"))
    dative = Chem.MolFromSmiles("[NH3]->[Cu]")
    with pytest.raises(featurize.FeaturizationError, match="dative"):
        featurize.mol_to_graph(dative)


def test_batch_featurization_reports_errors_per_row():
    graphs, errors = featurize.mols_to_graphs([mol("CCO"), None, Chem.MolFromSmiles("[NH3]->[Cu]")])
    assert graphs[0] is not None and graphs[1] is None and graphs[2] is None
    assert errors[0] == "" and errors[1] and "dative" in errors[2]


def test_process_pool_gives_the_same_graphs(monkeypatch):
    mols = [mol(s) for s in ["CCO", "c1ccccc1O", "CC(=O)N"] * 4]
    serial, _ = featurize.mols_to_graphs(mols)
    monkeypatch.setattr(featurize, "POOL_THRESHOLD", 2)
    pooled, errors = featurize.mols_to_graphs(mols, workers=2)
    assert all(e == "" for e in errors)
    for a, b in zip(serial, pooled, strict=True):
        assert torch.equal(a.x, b.x) and torch.equal(a.edge_index, b.edge_index)
        assert torch.equal(a.edge_attr, b.edge_attr)


def test_ecfp_bits_and_counts():
    bits = fingerprints.ecfp(mol("CCO"), n_bits=1024)
    counts = fingerprints.ecfp(mol("CCCCCC"), n_bits=1024, counts=True)
    assert bits.shape == (1024,) and bits.dtype == np.uint8 and set(np.unique(bits)) <= {0, 1}
    assert counts.dtype == np.uint16 and counts.max() > 1
    batch = fingerprints.ecfp_batch([mol("CCO"), None], n_bits=1024)
    assert batch.shape == (2, 1024)
    assert np.array_equal(batch[0], bits) and batch[1].sum() == 0


def test_featurizer_spec_records_version():
    spec = featurize.featurizer_spec("ecfp", n_bits=2048, radius=2)
    assert spec == {"name": "ecfp", "version": featurize.FEATURIZER_VERSION, "params": {"n_bits": 2048, "radius": 2}}
    with pytest.raises(ValueError):
        featurize.featurizer_spec("nonsense")
