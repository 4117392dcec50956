import numpy as np
import pytest
import torch

from tests.tiny_model import train_tiny_checkpoint
from workbench.chem import parse_one
from workbench.featurizers import GRAPH_FEATURIZER, featurizer_spec
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


def test_gradient_x_input_sums_to_a_linearization_of_the_output(models_dir):
    torch.manual_seed(0)
    net = GINPredictor(n_tasks=1, num_layer=2, emb_dim=8, drop_ratio=0.0).eval()
    card = {
        "name": "tiny_gin",
        "architecture": {
            "type": "gin",
            "config": {"n_tasks": 1, "num_layer": 2, "emb_dim": 8, "drop_ratio": 0.0, "jk": "last"},
        },
        "featurizer": featurizer_spec(GRAPH_FEATURIZER),
        "tasks": [{"name": "y", "type": "classification"}],
        "data": {"dataset": "none", "sha256": "0" * 64},
        "split": {"kind": "none"},
        "seeds": [0],
        "metrics": {},
        "command": "test",
    }
    save_torch_checkpoint(models_dir / "tiny_gin", card, [net.state_dict()], [0])
    result = atom_attributions(inference.load_model("tiny_gin"), parse_one("c1ccccc1O").mol, task=0)
    assert result.method == "gradient_x_input" and result.weights.shape == (7,)
    assert np.isfinite(result.weights).all() and np.abs(result.weights).sum() > 0


def test_unknown_architecture_is_refused():
    class Fake:
        class checkpoint:
            architecture = "mystery"

        predictor = None

    with pytest.raises(ValueError, match="no attribution method"):
        atom_attributions(Fake(), parse_one("C").mol)
