"""Conformer ensembles in files: the SDF round trip and a compact binary format.

:meth:`~workbench.conformers.ensemble.ConformerEnsemble.to_sdf` writes one SDF record per
conformer; :func:`read_sdf_ensembles` reads such files (or any multi-conformer SDF) back.
:func:`ensemble_to_bytes` / :func:`ensemble_from_bytes` are the compact, versioned binary form
the :class:`~workbench.conformers.cache.ConformerCache` stores.
"""

from __future__ import annotations

import io
import json
import math
import struct
import zlib
from pathlib import Path

import numpy as np
from rdkit import Chem, rdBase
from rdkit.Geometry import Point3D

from workbench.conformers.ensemble import ConformerEnsemble

__all__ = ["ensemble_from_bytes", "ensemble_to_bytes", "read_sdf_ensembles"]

_FORMAT_MAGIC = b"WBCE"
_FORMAT_VERSION = 1


def read_sdf_ensembles(source: str | bytes | Path) -> list[ConformerEnsemble]:
    """Read an SDF written by :meth:`ConformerEnsemble.to_sdf` (or any multi-conformer SDF) back into ensembles.

    Consecutive records of the same molecule (same ``smiles`` property, or same canonical
    SMILES) become one ensemble; energies come from ``energy_abs_kcal_mol`` (or
    ``energy_kcal_mol``), NaN when absent.
    """
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and Path(source).is_file()):
        data = Path(source).read_bytes()
    else:
        data = source.encode() if isinstance(source, str) else source
    groups: list[tuple[str, list[Chem.Mol]]] = []
    with rdBase.BlockLogs():
        for mol in Chem.ForwardSDMolSupplier(io.BytesIO(data), removeHs=False):
            if mol is None:
                continue
            key = mol.GetProp("smiles") if mol.HasProp("smiles") else Chem.MolToSmiles(Chem.RemoveHs(mol))
            if groups and groups[-1][0] == key and groups[-1][1][0].GetNumAtoms() == mol.GetNumAtoms():
                groups[-1][1].append(mol)
            else:
                groups.append((key, [mol]))
    return [_ensemble_from_records(key, records) for key, records in groups]


def _ensemble_from_records(smiles: str, records: list[Chem.Mol]) -> ConformerEnsemble:
    mol = Chem.Mol(records[0])
    mol.RemoveAllConformers()
    for name in list(mol.GetPropNames()):
        mol.ClearProp(name)
    energies, converged = [], []
    for i, record in enumerate(records):
        conf = Chem.Conformer(record.GetConformer())
        conf.SetId(i)
        mol.AddConformer(conf, assignId=False)
        prop = "energy_abs_kcal_mol" if record.HasProp("energy_abs_kcal_mol") else "energy_kcal_mol"
        energies.append(float(record.GetProp(prop)) if record.HasProp(prop) else math.nan)
        converged.append(record.HasProp("converged") and record.GetProp("converged") == "1")
    first = records[0]
    settings = json.loads(first.GetProp("settings")) if first.HasProp("settings") else {}
    return ConformerEnsemble(
        input=first.GetProp("_Name") if first.HasProp("_Name") else smiles,
        smiles=smiles,
        mol=mol,
        absolute_energies=np.array(energies, dtype=float),
        converged=np.array(converged, dtype=bool),
        force_field=first.GetProp("force_field") if first.HasProp("force_field") else "none",
        optimized=first.HasProp("optimized") and first.GetProp("optimized") == "1",
        settings=settings,
    )


def ensemble_to_bytes(ensemble: ConformerEnsemble) -> bytes:
    """Serialize an ensemble compactly: JSON header, RDKit binary topology, float32 coordinates; zlib-compressed."""
    header = {
        "input": ensemble.input,
        "smiles": ensemble.smiles,
        "force_field": ensemble.force_field,
        "optimized": ensemble.optimized,
        "notes": list(ensemble.notes),
        "error": ensemble.error,
        "settings": ensemble.settings,
        "seconds": round(ensemble.seconds, 4),
    }
    topology, coords = b"", np.zeros((0, 0, 3), dtype=np.float32)
    if ensemble.mol is not None:
        bare = Chem.Mol(ensemble.mol)
        bare.RemoveAllConformers()
        topology = bare.ToBinary()
        coords = np.stack([c.GetPositions() for c in ensemble.mol.GetConformers()]).astype(np.float32)
    header["shape"] = list(coords.shape)
    head = json.dumps(header, separators=(",", ":")).encode()
    energies = np.asarray(ensemble.absolute_energies, dtype=np.float64).tobytes()
    converged = np.asarray(ensemble.converged, dtype=np.uint8).tobytes()
    parts = [head, topology, coords.tobytes(), energies, converged]
    body = struct.pack("<5I", *map(len, parts)) + b"".join(parts)
    return _FORMAT_MAGIC + struct.pack("<H", _FORMAT_VERSION) + zlib.compress(body, 6)


def ensemble_from_bytes(data: bytes) -> ConformerEnsemble:
    """Inverse of :func:`ensemble_to_bytes`.

    Raises:
        ValueError: the bytes are not an ensemble in a format version this code reads.
    """
    if data[:4] != _FORMAT_MAGIC:
        raise ValueError("not a workbench conformer ensemble (bad magic bytes)")
    (version,) = struct.unpack("<H", data[4:6])
    if version != _FORMAT_VERSION:
        raise ValueError(f"conformer format version {version} is not supported (this code reads {_FORMAT_VERSION})")
    body = zlib.decompress(data[6:])
    lengths = struct.unpack("<5I", body[:20])
    parts, offset = [], 20
    for length in lengths:
        parts.append(body[offset : offset + length])
        offset += length
    head, topology, coords_raw, energies_raw, converged_raw = parts
    header = json.loads(head)
    mol = None
    if topology:
        mol = Chem.Mol(topology)
        coords = np.frombuffer(coords_raw, dtype=np.float32).reshape(header["shape"]).astype(float)
        for i, xyz in enumerate(coords):
            conf = Chem.Conformer(mol.GetNumAtoms())
            for atom, (x, y, z) in enumerate(xyz):
                conf.SetAtomPosition(atom, Point3D(x, y, z))
            conf.Set3D(True)
            conf.SetId(i)
            mol.AddConformer(conf, assignId=False)
    return ConformerEnsemble(
        input=header["input"],
        smiles=header["smiles"],
        mol=mol,
        absolute_energies=np.frombuffer(energies_raw, dtype=np.float64).copy(),
        converged=np.frombuffer(converged_raw, dtype=np.uint8).astype(bool),
        force_field=header["force_field"],
        optimized=header["optimized"],
        notes=tuple(header["notes"]),
        error=header["error"],
        settings=header["settings"],
        seconds=header["seconds"],
    )
