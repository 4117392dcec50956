"""ADMET-AI through workbench.predict.inference: same featurizer, same numbers as admet_ai.ADMETModel, no unpickling."""

import json
import logging
import warnings

import numpy as np
import pytest
import torch
from rdkit import Chem

from workbench.featurizers.chemprop import ATOM_DIM, BOND_DIM, chemprop_batch
from workbench.models import load_card
from workbench.models.importers.admet_ai import admet_ai_package_dir, import_admet_ai, read_chemprop_pt
from workbench.predict import inference

pytest.importorskip("admet_ai")

# neutral single-fragment drugs (standardization keeps them) plus stereo, charges, salts, odd elements
SMILES = [
    "CC(=O)Nc1ccc(O)cc1",
    "CN1C=NC2=C1C(=O)N(C(=O)N2C)C",
    "CCN(CC)C(=O)[C@H]1CN([C@@H]2Cc3c[nH]c4cccc(c34)C2=C1)C",
    "C/C=C/C(=O)O",
    "C[N+](C)(C)CC(=O)[O-]",
    "CC(C)Cc1ccc(cc1)[C@@H](C)C(=O)O.[Na+]",
    "O=S(=O)(O)c1ccc(I)cc1",
    "[Se]1C=CC=C1",
    "C",
    "FC(F)(F)c1ccc(Oc2ccccc2)cc1",
    "OC[C@H]1O[C@@H](O)[C@H](O)[C@@H](O)[C@@H]1O",
    "c1ccc2c(c1)[nH]c1ccccc12",
]


@pytest.fixture(scope="module")
def reference_model():
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    from admet_ai import ADMETModel

    return ADMETModel(include_physchem=False, drugbank_path=None, num_workers=0)


def test_featurizer_matches_chemprop_bit_for_bit():
    chemprop = pytest.importorskip("chemprop.featurizers")
    reference = chemprop.SimpleMoleculeMolGraphFeaturizer()
    mols = [Chem.MolFromSmiles(s) for s in SMILES]
    batch = chemprop_batch(mols)
    assert batch.V.shape[1] == ATOM_DIM == 72 and batch.E.shape[1] == BOND_DIM == 14
    a = e = 0
    for mol in mols:
        graph = reference(mol)
        n_a, n_e = len(graph.V), len(graph.E)
        assert np.array_equal(batch.V[a : a + n_a].numpy(), graph.V)
        assert np.array_equal(batch.E[e : e + n_e].numpy(), graph.E.astype(np.float32))
        assert np.array_equal(batch.edge_index[:, e : e + n_e].numpy() - a, graph.edge_index)
        assert np.array_equal(batch.rev_edge_index[e : e + n_e].numpy() - e, graph.rev_edge_index)
        a, e = a + n_a, e + n_e
    assert batch.num_graphs == len(mols) and int(batch.batch.max()) == len(mols) - 1


@pytest.mark.slow
def test_all_41_endpoints_equal_admet_ai(reference_model):
    """workbench.predict.inference on any input == ADMETModel on the standardized canonical SMILES, within 1e-4."""
    card = load_card(inference.load_model("admet_ai").checkpoint.path)
    tasks = card.task_names
    assert len(tasks) == 41 and card.group == "ADMET"
    ours = inference.predict([*SMILES, "not a smiles"], ["admet_ai"])
    assert ours.loc[len(SMILES), "error"] and ours.loc[: len(SMILES) - 1, "error"].eq("").all()
    ok = ours.iloc[: len(SMILES)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = reference_model.predict(ok["smiles"].tolist())
    got = ok[[f"admet_ai:{t}" for t in tasks]].to_numpy()
    expected = reference[tasks].to_numpy()
    assert np.abs(got - expected).max() <= 1e-4
    # members are the five models of each ensemble: the std is their spread
    assert (ok[[f"admet_ai:{t}:std" for t in tasks]].to_numpy() > 0).any()


def test_import_reproduces_the_shipped_checkpoint(tmp_path):
    """`workbench import admet-ai` writes the same weights (sha256) as the shipped models/admet_ai."""
    shipped = load_card(inference.load_model("admet_ai").checkpoint.path)
    card = import_admet_ai(tmp_path)
    assert [w.sha256 for w in card.weights] == [w.sha256 for w in shipped.weights]
    assert card.tasks == shipped.tasks
    assert card.source.files_sha256 == shipped.source.files_sha256
    assert card.command.startswith("workbench import admet-ai")


def test_reading_chemprop_files_runs_no_code_from_them():
    path = next((admet_ai_package_dir() / "resources" / "models" / "admet_regression").glob("*.pt"))
    data = read_chemprop_pt(path)
    hp = data["hyper_parameters"]
    # classes come back as inert placeholders that only carry their name
    assert hp["message_passing"]["cls"].qualified_name.endswith("BondMessagePassing")
    assert not isinstance(hp["message_passing"]["activation"], torch.nn.Module)
    assert set(data["state_dict"]) >= {"message_passing.W_i.weight", "predictor.output_transform.mean"}


def test_card_records_published_metrics_and_sources():
    card = load_card(inference.load_model("admet_ai").checkpoint.path)
    assert card.architecture.type == "chemprop_mpnn"
    assert card.source.package == "admet-ai" and len(card.source.files_sha256) == 10
    assert "roc_auc" in card.metrics["published:AMES"] and "mae" in card.metrics["published:LD50_Zhu"]
    assert json.loads(json.dumps(card.to_dict())) == card.to_dict()  # plain JSON
