"""Bytes for a prepared chunk that one Ray stage hands the next, without pickle.

The featurization stage of a Ray screen (:class:`workbench.screen.ray_engine.FeaturizeActor`) prepares each chunk on
a CPU (:class:`~workbench.screen.engine.PreparedChunk`: parsed molecules, descriptors, each model's featurized
inputs) and the screening actors finish it. Between them the chunk travels as one safetensors buffer: every array,
tensor, molecule (RDKit's binary form) and table (Arrow IPC) is a tensor, and the structure around them is JSON in
the buffer's metadata. Decoding builds only plain values, arrays, tensors, molecules, tables and the dataclasses
named in :data:`STAGED_TYPES`; anything else is refused with :class:`StagingError`. Nothing is unpickled.
"""

from __future__ import annotations

import dataclasses
import json
import struct
from typing import Any

import numpy as np

from workbench.models.store import safetensors_header_problem

__all__ = ["STAGED_TYPES", "StagingError", "decode_staged", "encode_staged"]

#: Upper bound of the JSON header a staged buffer may declare (the structure, not the arrays).
MAX_HEADER_BYTES = 64 * 2**20


class StagingError(ValueError):
    """A staged buffer that is not one this module wrote, or an object it cannot encode."""


def _types() -> dict[str, type]:
    from workbench.featurizers.chemprop import ChempropBatch
    from workbench.featurizers.graph_batch import GraphBatch, MolGraph
    from workbench.models.builders.base import Featurized
    from workbench.screen.engine import PreparedChunk
    from workbench.screen.library import LibraryChunk

    return {t.__name__: t for t in (PreparedChunk, LibraryChunk, Featurized, GraphBatch, MolGraph, ChempropBatch)}


#: The dataclasses a staged buffer may hold, by name (filled on first use: the imports are heavy).
STAGED_TYPES: dict[str, type] = {}


def _allowed() -> dict[str, type]:
    if not STAGED_TYPES:
        STAGED_TYPES.update(_types())
    return STAGED_TYPES


class _Packer:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _put(self, array: np.ndarray) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = np.ascontiguousarray(array)
        return key

    def pack(self, obj: Any) -> Any:
        import pandas as pd
        import torch
        from rdkit import Chem

        if obj is None or isinstance(obj, bool | str):
            return obj
        if isinstance(obj, np.bool_):
            return bool(obj)
        if isinstance(obj, int | float | np.integer | np.floating):
            value = obj.item() if isinstance(obj, np.generic) else obj
            return {"int": value} if isinstance(value, int) else {"float": repr(float(value))}
        if isinstance(obj, list | tuple):
            return {"list" if isinstance(obj, list) else "tuple": [self.pack(v) for v in obj]}
        if isinstance(obj, dict):
            if not all(isinstance(k, str) for k in obj):
                raise StagingError("only dictionaries with text keys can be staged")
            return {"dict": {k: self.pack(v) for k, v in obj.items()}}
        if isinstance(obj, torch.Tensor):
            return {"tensor": self._put(obj.detach().cpu().numpy())}
        if isinstance(obj, np.ndarray):
            if obj.dtype.kind not in "biuf":
                raise StagingError(f"arrays of dtype {obj.dtype} cannot be staged")
            return {"array": self._put(obj)}
        if isinstance(obj, Chem.Mol):
            blob = obj.ToBinary(Chem.PropertyPickleOptions.AllProps)
            return {"mol": self._put(np.frombuffer(blob, dtype=np.uint8))}
        if isinstance(obj, pd.DataFrame):
            return {"frame": self._put(_frame_bytes(obj))}
        name = type(obj).__name__
        if dataclasses.is_dataclass(obj) and _allowed().get(name) is type(obj):
            fields = {f.name: self.pack(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
            return {"dataclass": name, "fields": fields}
        raise StagingError(f"{type(obj).__module__}.{type(obj).__qualname__} cannot be staged")


def _frame_bytes(frame) -> np.ndarray:
    import pyarrow as pa

    if frame.attrs:
        raise StagingError("a table with attrs cannot be staged (they would be lost)")
    table = pa.Table.from_pandas(frame, preserve_index=True)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return np.frombuffer(sink.getvalue().to_pybytes(), dtype=np.uint8)


def _frame_from(array: np.ndarray):
    import pyarrow as pa

    with pa.ipc.open_stream(pa.py_buffer(array.tobytes())) as reader:
        return reader.read_all().to_pandas()


class _Unpacker:
    def __init__(self, arrays: dict[str, np.ndarray]) -> None:
        self.arrays = arrays

    def _get(self, key: Any) -> np.ndarray:
        if not isinstance(key, str) or key not in self.arrays:
            raise StagingError(f"the staged buffer names an array it does not hold: {key!r}")
        return self.arrays[key]

    def unpack(self, node: Any) -> Any:
        if node is None or isinstance(node, bool | str):
            return node
        if not isinstance(node, dict) or not node:
            raise StagingError("the staged buffer's structure is not one this workbench writes")
        kind = next(iter(node))
        value = node[kind]
        if kind == "int" and isinstance(value, int):
            return value
        if kind == "float" and isinstance(value, str):
            return float(value)
        if kind in ("list", "tuple") and isinstance(value, list):
            items = [self.unpack(v) for v in value]
            return items if kind == "list" else tuple(items)
        if kind == "dict" and isinstance(value, dict):
            return {k: self.unpack(v) for k, v in value.items()}
        if kind == "array":
            return self._get(value).copy()
        if kind == "tensor":
            import torch

            return torch.from_numpy(self._get(value).copy())
        if kind == "mol":
            from rdkit import Chem

            return Chem.Mol(self._get(value).tobytes())
        if kind == "frame":
            return _frame_from(self._get(value))
        if kind == "dataclass" and isinstance(value, str):
            cls = _allowed().get(value)
            fields = node.get("fields")
            if cls is None or not isinstance(fields, dict):
                raise StagingError(f"the staged buffer holds a {value!r}, which is not a staged type")
            names = {f.name for f in dataclasses.fields(cls)}
            if set(fields) != names:
                raise StagingError(f"the staged {value} has fields {sorted(fields)}, not {sorted(names)}")
            return cls(**{k: self.unpack(v) for k, v in fields.items()})
        raise StagingError(f"the staged buffer holds an entry of unknown kind {kind!r}")


def encode_staged(obj: Any) -> bytes:
    """``obj`` (a :class:`~workbench.screen.engine.PreparedChunk`, featurized inputs, ...) as safetensors bytes."""
    from safetensors.numpy import save

    packer = _Packer()
    tree = packer.pack(obj)
    return save(packer.arrays, metadata={"workbench_staged": json.dumps(tree, separators=(",", ":"))})


def decode_staged(data: bytes) -> Any:
    """The object :func:`encode_staged` wrote; :class:`StagingError` for anything else."""
    from safetensors import SafetensorError
    from safetensors.numpy import load

    if problem := safetensors_header_problem(data[:8], len(data), MAX_HEADER_BYTES):
        raise StagingError(f"the staged buffer {problem}")
    (size,) = struct.unpack("<Q", data[:8])
    try:
        header = json.loads(data[8 : 8 + size])
        tree = json.loads(header["__metadata__"]["workbench_staged"])
        arrays = load(data)
    except (ValueError, KeyError, TypeError, SafetensorError) as exc:
        raise StagingError(f"the staged buffer cannot be read: {exc}") from None
    return _Unpacker(arrays).unpack(tree)
