"""MiniMol embeddings from the worker process equal the in-process ones, and this process never imports PyG."""

from __future__ import annotations

import io

import numpy as np
import pytest

from tests.subprocess_helpers import python_json
from workbench.featurizers import minimol_worker
from workbench.featurizers.minimol_worker import MinimolWorker

SMILES = ["CCO", "not a molecule", "c1ccccc1O", "CC(=O)Oc1ccccc1C(=O)O"]


def test_the_worker_is_on_only_where_the_variable_says_so(monkeypatch):
    for value, on in (("1", True), ("true", True), ("0", False), ("", False), ("off", False)):
        monkeypatch.setenv("WORKBENCH_MINIMOL_WORKER", value)
        assert minimol_worker.worker_enabled() is on
    monkeypatch.delenv("WORKBENCH_MINIMOL_WORKER")
    assert not minimol_worker.worker_enabled()


def test_messages_round_trip_and_a_cut_stream_reads_as_the_end():
    stream = io.BytesIO()
    minimol_worker._write(stream, b"hello")
    minimol_worker._write(stream, b"")
    stream.seek(0)
    assert minimol_worker._read(stream) == b"hello" and minimol_worker._read(stream) == b""
    assert minimol_worker._read(stream) is None
    assert minimol_worker._read(io.BytesIO(stream.getvalue()[:10])) is None


@pytest.mark.slow
def test_worker_embeddings_equal_the_in_process_embedder_and_a_stopped_worker_restarts():
    from workbench.featurizers.minimol import MinimolEmbedder

    worker = MinimolWorker()
    try:
        x, errors = worker.embed_smiles(SMILES)
        local = MinimolEmbedder()
        expected, expected_errors = local.embed_smiles(SMILES)
        assert errors == expected_errors and errors[1] and not errors[0]
        assert np.array_equal(np.isnan(x), np.isnan(expected))
        assert np.array_equal(np.nan_to_num(x), np.nan_to_num(expected))
        assert worker.spec() == local.spec()
        worker._process.kill()
        worker._process.wait()
        again, _ = worker.embed_smiles(SMILES[:1])
        assert np.array_equal(again[0], x[0])
    finally:
        worker.close()


@pytest.mark.slow
def test_with_the_worker_on_a_minimol_head_predicts_without_importing_pytorch_geometric_here(monkeypatch):
    monkeypatch.setenv("WORKBENCH_MINIMOL_WORKER", "1")  # as the app server sets it
    code = (
        "import json, sys\n"
        "from rdkit import Chem\n"
        "from workbench.predict.inference import load_model\n"
        "values, errors = load_model('minimol_bbbp').predictor.predict([Chem.MolFromSmiles('CCO')])\n"
        "print(json.dumps({'pyg': 'torch_geometric' in sys.modules, 'finite': bool((values == values).all())}))\n"
    )
    assert python_json(code) == {"pyg": False, "finite": True}
