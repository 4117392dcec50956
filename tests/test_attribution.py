import copy

import numpy as np
import pytest
import torch

from tests.tiny_model import train_tiny_checkpoint
from workbench.chem import parse_one
from workbench.featurizers import GRAPH_FEATURIZER, GraphBatch, featurizer_spec, mol_to_graph
from workbench.models import save_torch_checkpoint
from workbench.nn import GINPredictor
from workbench.predict import inference
from workbench.predict.attribution import atom_attributions


def test_occlusion_credits_the_nitrogen_for_the_has_nitrogen_task(models_dir):
    train_tiny_checkpoint(models_dir, name="tiny_mlp")
    model = inference.load_model("tiny_mlp")
    mol = parse_one("CCCCN").mol
    result = atom_attributions(model, mol, task=0)
    assert result.method == "atom_occlusion" and result.weights.shape == (5,)
    nitrogen = next(a.GetIdx() for a in mol.GetAtoms() if a.GetSymbol() == "N")
    assert result.weights[nitrogen] == result.weights.max() and result.weights[nitrogen] > 0


def _save_tiny_gin(folder, seeds=(0, 1)) -> None:
    """A two-member GIN checkpoint with random weights (gradient × input needs no training)."""
    config = {"n_tasks": 2, "num_layer": 2, "emb_dim": 8, "drop_ratio": 0.0, "jk": "last"}
    states = []
    for seed in seeds:
        torch.manual_seed(seed)
        states.append(GINPredictor(**config).eval().state_dict())
    card = {
        "name": "tiny_gin",
        "architecture": {"type": "gin", "config": config},
        "featurizer": featurizer_spec(GRAPH_FEATURIZER),
        "tasks": [{"name": "y", "type": "classification"}, {"name": "z", "type": "classification"}],
        "data": {"dataset": "none", "sha256": "0" * 64},
        "split": {"kind": "none"},
        "seeds": list(seeds),
        "metrics": {},
        "command": "test",
    }
    save_torch_checkpoint(folder / "tiny_gin", card, states, list(seeds))


def test_gradient_x_input_is_the_derivative_of_the_output_along_each_atom_embedding(models_dir):
    """weight_i = d/da f(h_0 with atom i's embedding scaled by a) at a = 1, f the ensemble's mean raw output.

    So the weights sum to the first-order (linearized) change of f along all the input embeddings. Checked by
    central finite differences through each member's ordinary forward pass in float64.
    """
    _save_tiny_gin(models_dir)
    model = inference.load_model("tiny_gin")
    mol = parse_one("c1ccccc1O").mol
    task = 1
    result = atom_attributions(model, mol, task=task)
    assert result.method == "gradient_x_input" and result.weights.shape == (7,)

    batch = GraphBatch.from_graphs([mol_to_graph(mol)])
    nets = [copy.deepcopy(member.model).double().eval() for member in model.predictor.members]
    assert len(nets) == 2

    def output(scale: torch.Tensor) -> float:
        """The members' mean raw output for ``task`` with each atom's input embedding multiplied by ``scale``."""
        values = []
        for net in nets:
            embed = net.gnn.embed_atoms
            net.gnn.embed_atoms = lambda x, embed=embed: embed(x) * scale[:, None]
            with torch.no_grad():
                values.append(float(net(batch.x, batch.edge_index, batch.edge_attr, batch.batch, 1)[0, task]))
            net.gnn.embed_atoms = embed
        return float(np.mean(values))

    eps = 1e-4
    ones = torch.ones(mol.GetNumAtoms(), dtype=torch.float64)
    expected = []
    for atom in range(mol.GetNumAtoms()):
        step = torch.zeros_like(ones)
        step[atom] = eps
        expected.append((output(ones + step) - output(ones - step)) / (2 * eps))
    expected = np.array(expected)
    assert np.abs(expected).max() > 1e-3  # the output does depend on the atoms
    np.testing.assert_allclose(result.weights, expected, rtol=1e-3, atol=1e-5)
    linearized = (output(ones * (1 + eps)) - output(ones * (1 - eps))) / (2 * eps)
    assert result.weights.sum() == pytest.approx(linearized, rel=1e-3, abs=1e-5)


def test_unknown_architecture_is_refused():
    class Fake:
        class checkpoint:
            architecture = "mystery"

        predictor = None

    with pytest.raises(ValueError, match="no attribution method"):
        atom_attributions(Fake(), parse_one("C").mol)
