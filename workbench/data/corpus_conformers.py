"""3D conformers for a pretraining corpus file (``workbench data conformers``): resumable shards, an index, a report.

For every molecule of a corpus file (usually a seeded subset, e.g. ``corpus-20000-seed0.csv``) up
to ``conformers`` ETKDG conformers are made through the conformers module's batch API
(:func:`~workbench.conformers.batch.generate_conformers_batch`, MMFF94s-optimized by default),
from the corpus SMILES parsed as they are featurized, so conformer atom ``i`` is graph atom ``i``.

The folder ``<corpus stem>.conformers-<corpus sha256[:16]>-n<conformers>/`` beside the corpus holds

* ``shard-00000.npz`` ...: one per ``shard_size`` corpus rows, plain arrays (no pickle): ``rows``,
  ``n_atoms``, ``n_conformers``, ``positions`` (float16 heavy-atom coordinates in Å, each conformer
  centred on its centroid, molecule by molecule, conformer by conformer), ``energies`` (float32,
  kcal/mol relative to each molecule's lowest), ``failed_rows`` and ``failed_errors``; written atomically;
* ``index.json``: the settings and each finished shard's sha256, rewritten atomically after every shard:
  a re-run skips the shards that match and regenerates missing, truncated or altered ones;
* ``failures.csv`` (row, smiles, error) and ``report.json`` (counts, failure reasons, rate, the
  cache's own sha256: of its settings and every shard's sha256).
"""

from __future__ import annotations

import csv
import json
import os
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import rdkit
from rdkit import Chem, RDLogger

from workbench.conformers.batch import generate_conformers_batch
from workbench.conformers.ensemble import ConformerEnsemble
from workbench.data.corpus_files import CorpusInfo, read_corpus_smiles
from workbench.hashing import sha256_bytes, sha256_file

__all__ = ["CorpusConformers", "build_corpus_conformers", "conformer_folder", "load_corpus_conformers"]

INDEX_FILE = "index.json"
REPORT_FILE = "report.json"
FAILURES_FILE = "failures.csv"
_SHARD_ARRAYS = ("rows", "n_atoms", "n_conformers", "positions", "energies", "failed_rows", "failed_errors")


@dataclass(frozen=True)
class CorpusConformers:
    """A finished conformer cache: molecule ``j`` (corpus row ``rows[j]``) owns ``positions[offsets[j]:offsets[j+1]]``.

    That block holds its ``n_conformers[j]`` conformers one after the other, ``n_atoms[j]`` rows each.
    """

    folder: Path
    sha256: str
    rows: np.ndarray  # int64, corpus rows with at least one conformer, ascending
    n_atoms: np.ndarray  # int64
    n_conformers: np.ndarray  # int64
    offsets: np.ndarray  # int64 [len(rows) + 1]
    positions: np.ndarray  # float16 [total, 3]
    failed_rows: np.ndarray  # int64
    report: dict

    def __len__(self) -> int:
        return len(self.rows)


def conformer_folder(corpus: CorpusInfo, conformers: int) -> Path:
    """Where the conformer cache of ``corpus`` with up to ``conformers`` per molecule lives."""
    return corpus.path.with_name(f"{corpus.path.stem}.conformers-{corpus.sha256[:16]}-n{conformers}")


def _settings(corpus: CorpusInfo, conformers: int, optimize: str | None, seed: int, prune_rms: float,
              max_seconds: float, shard_size: int) -> dict[str, object]:  # fmt: skip
    return {
        "corpus_file": corpus.path.name,
        "corpus_sha256": corpus.sha256,
        "molecules": corpus.molecules,
        "conformers": conformers,
        "method": "ETKDGv3",
        "optimize": optimize or "none",
        "seed": seed,
        "prune_rms": prune_rms,
        "max_seconds": max_seconds,
        "shard_size": shard_size,
        "atoms": "heavy atoms, in the order of Chem.MolFromSmiles(corpus smiles) (the graph featurizer's)",
        "positions": "float16 Å, each conformer centred on its heavy-atom centroid",
        "rdkit": rdkit.__version__,
    }


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n")
    os.replace(tmp, path)


def _shard_arrays(mols: list[Chem.Mol | None], ensembles: list[ConformerEnsemble], start: int) -> dict[str, np.ndarray]:
    rows, n_atoms, n_confs, positions, energies, failed, errors = [], [], [], [], [], [], []
    for i, (mol, ens) in enumerate(zip(mols, ensembles, strict=True)):
        error = "unparsable SMILES" if mol is None else ens.error or ("" if ens.ok else "no conformer")
        if not error:
            heavy = mol.GetNumAtoms()
            kinds = [a.GetAtomicNum() for a in ens.mol.GetAtoms()][:heavy]
            if kinds != [a.GetAtomicNum() for a in mol.GetAtoms()]:
                error = "conformer atoms do not match the graph's atoms"
        if error:
            failed.append(start + i)
            errors.append(error)
            continue
        coords = np.stack([c.GetPositions()[:heavy] for c in ens.mol.GetConformers()])
        coords -= coords.mean(axis=1, keepdims=True)
        rows.append(start + i)
        n_atoms.append(heavy)
        n_confs.append(len(coords))
        positions.append(coords.reshape(-1, 3).astype(np.float16))
        energies.append(np.asarray(ens.energies, dtype=np.float32))
    return {
        "rows": np.asarray(rows, dtype=np.int64),
        "n_atoms": np.asarray(n_atoms, dtype=np.int32),
        "n_conformers": np.asarray(n_confs, dtype=np.int32),
        "positions": np.concatenate(positions) if positions else np.zeros((0, 3), np.float16),
        "energies": np.concatenate(energies) if energies else np.zeros(0, np.float32),
        "failed_rows": np.asarray(failed, dtype=np.int64),
        "failed_errors": np.asarray(errors, dtype=np.str_),
    }


def _load_shard(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {name: data[name] for name in _SHARD_ARRAYS}


def _shard_ok(folder: Path, entry: dict | None) -> bool:
    if entry is None or not (folder / entry["file"]).is_file():
        return False
    return sha256_file(folder / entry["file"]) == entry["sha256"]


def _cache_sha256(settings: dict, shards: list[dict]) -> str:
    return sha256_bytes(json.dumps([settings, [s["sha256"] for s in shards]], sort_keys=True).encode())


def build_corpus_conformers(
    corpus: CorpusInfo,
    *,
    conformers: int = 5,
    optimize: str | None = "MMFF94s",
    seed: int = 42,
    prune_rms: float = 0.5,
    max_seconds: float = 30.0,
    shard_size: int = 1000,
    workers: int = 1,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> CorpusConformers:
    """Make (or finish, or heal) the conformer cache of ``corpus`` and return it loaded.

    Args:
        conformers: ETKDG conformers embedded per molecule (RMSD pruning may leave fewer).
        optimize: force field (``MMFF94s``, ``MMFF94``, ``UFF``) or ``None`` for embedded geometries.
        seed: ETKDG random seed (the same for every molecule).
        prune_rms: heavy-atom RMSD (Å) under which two conformers count as one.
        max_seconds: a molecule that takes longer fails with "timed out".
        shard_size: corpus rows per shard (the unit of resumption).
        workers: conformer processes.
        force: discard an existing cache made with other settings instead of refusing.

    Raises:
        ValueError: the folder holds a cache made with other settings (and ``force`` is off).
    """
    RDLogger.DisableLog("rdApp.*")
    started = time.perf_counter()
    folder = conformer_folder(corpus, conformers)
    folder.mkdir(parents=True, exist_ok=True)
    settings = _settings(corpus, conformers, optimize, seed, prune_rms, max_seconds, shard_size)
    index_path = folder / INDEX_FILE
    index = json.loads(index_path.read_text()) if index_path.is_file() else None
    if index is not None and index["settings"] != settings:
        if not force:
            changed = sorted(k for k in settings if index["settings"].get(k) != settings[k])
            raise ValueError(f"{folder} holds conformers made with other settings ({', '.join(changed)}); "
                             "use --force to remake them")  # fmt: skip
        index = None
    if index is None:
        index = {"settings": settings, "shards": {}, "status": "building"}
    smiles = read_corpus_smiles(corpus.path)
    n_shards = (len(smiles) + shard_size - 1) // shard_size
    for k in range(n_shards):
        name = f"shard-{k:05d}.npz"
        entry = index["shards"].get(name)
        if _shard_ok(folder, entry):
            continue
        if entry is not None:
            log(f"{name} is missing or does not match its sha256; making it again")
        start, stop = k * shard_size, min((k + 1) * shard_size, len(smiles))
        t0 = time.perf_counter()
        mols = [Chem.MolFromSmiles(s) for s in smiles[start:stop]]
        frame = generate_conformers_batch(
            mols, n_jobs=workers, n=conformers, seed=seed, optimize=optimize, prune_rms=prune_rms,
            max_seconds=max_seconds,
        )  # fmt: skip
        arrays = _shard_arrays(mols, frame.attrs["ensembles"], start)
        tmp = folder / f"{name}.tmp.npz"
        np.savez(tmp, **arrays)
        os.replace(tmp, folder / name)
        seconds = time.perf_counter() - t0
        index["shards"][name] = {
            "file": name, "sha256": sha256_file(folder / name), "start": start, "stop": stop,
            "molecules": len(arrays["rows"]), "conformers": int(arrays["n_conformers"].sum()),
            "failures": len(arrays["failed_rows"]), "seconds": round(seconds, 3),
        }  # fmt: skip
        _write_json(index_path, index)
        done = sum(s["stop"] - s["start"] for s in index["shards"].values())
        log(f"{name}: {stop - start} molecules in {seconds:.1f} s ({done:,}/{len(smiles):,} done)")
    shards = [index["shards"][f"shard-{k:05d}.npz"] for k in range(n_shards)]
    index["status"] = "finished"
    _write_json(index_path, index)
    _write_report(folder, corpus, settings, shards, smiles, time.perf_counter() - started)
    return load_corpus_conformers(corpus, conformers)


def _write_report(folder: Path, corpus: CorpusInfo, settings: dict, shards: list[dict], smiles: list[str],
                  wall_s: float) -> None:  # fmt: skip
    reasons: Counter[str] = Counter()
    tmp = folder / (FAILURES_FILE + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "smiles", "error"])
        for entry in shards:
            data = _load_shard(folder / entry["file"])
            for row, error in zip(data["failed_rows"].tolist(), data["failed_errors"].tolist(), strict=True):
                writer.writerow([row, smiles[row], error])
                reasons[error.split(":")[0]] += 1
    os.replace(tmp, folder / FAILURES_FILE)
    with_conformers = sum(s["molecules"] for s in shards)
    total_conformers = sum(s["conformers"] for s in shards)
    generation_s = sum(s["seconds"] for s in shards)
    report = {
        "sha256": _cache_sha256(settings, shards),
        "status": "finished",
        "settings": settings,
        "molecules": corpus.molecules,
        "with_conformers": with_conformers,
        "failures": sum(s["failures"] for s in shards),
        "failure_reasons": dict(reasons.most_common()),
        "conformers": total_conformers,
        "conformers_per_molecule": round(total_conformers / with_conformers, 3) if with_conformers else 0.0,
        "shards": len(shards),
        "bytes": sum((folder / s["file"]).stat().st_size for s in shards),
        "generation_seconds": round(generation_s, 1),
        "molecules_per_s": round(corpus.molecules / generation_s, 2) if generation_s else None,
        "last_call_wall_seconds": round(wall_s, 1),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    _write_json(folder / REPORT_FILE, report)


def load_corpus_conformers(corpus: CorpusInfo, conformers: int = 5) -> CorpusConformers:
    """The finished conformer cache of ``corpus``, every shard checked against its sha256.

    Raises:
        FileNotFoundError: no finished cache (make it with ``workbench data conformers``).
        ValueError: a shard no longer matches its sha256 (run the same command again: it heals it).
    """
    folder = conformer_folder(corpus, conformers)
    command = f"workbench data conformers --corpus {corpus.path} --conformers {conformers}"
    if not (folder / REPORT_FILE).is_file() or not (folder / INDEX_FILE).is_file():
        raise FileNotFoundError(f"no finished conformer cache for {corpus.path.name} in {folder}; make it with: "
                                f"{command}")  # fmt: skip
    report = json.loads((folder / REPORT_FILE).read_text())
    index = json.loads((folder / INDEX_FILE).read_text())
    shards = sorted(index["shards"].values(), key=lambda s: s["start"])
    if index.get("status") != "finished" or report["sha256"] != _cache_sha256(index["settings"], shards):
        raise FileNotFoundError(f"the conformer cache in {folder} is unfinished; finish it with: {command}")
    parts = []
    for entry in shards:
        try:
            if not _shard_ok(folder, entry):
                raise ValueError
            parts.append(_load_shard(folder / entry["file"]))
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            raise ValueError(f"{folder / entry['file']} is damaged; run again to heal it: {command}") from None
    cat = lambda name, empty: np.concatenate([p[name] for p in parts]) if parts else empty  # noqa: E731
    n_atoms = cat("n_atoms", np.zeros(0, np.int32)).astype(np.int64)
    n_confs = cat("n_conformers", np.zeros(0, np.int32)).astype(np.int64)
    return CorpusConformers(
        folder=folder,
        sha256=report["sha256"],
        rows=cat("rows", np.zeros(0, np.int64)),
        n_atoms=n_atoms,
        n_conformers=n_confs,
        offsets=np.concatenate([[0], np.cumsum(n_atoms * n_confs)]).astype(np.int64),
        positions=cat("positions", np.zeros((0, 3), np.float16)),
        failed_rows=cat("failed_rows", np.zeros(0, np.int64)),
        report=report,
    )
