"""The pretraining corpus: ``workbench data corpus``.

Every source's SMILES (see :mod:`workbench.data.corpus_sources`) is standardized with
:func:`workbench.chem.parse_one` (largest organic fragment, neutralized, canonical SMILES,
InChIKey) and featurized with the pretrain-gnns graph featurizer, in chunks spread over a
small process pool; each finished chunk is written to disk, so an interrupted build
resumes where it stopped. A merge then drops failures, removes every molecule that is in
a downstream test split (by InChIKey) and keeps the first occurrence of each InChIKey.

Output (in ``<cache>/corpus/`` by default, never in the repository): ``corpus.csv``
(``smiles,inchikey,source``), ``corpus.json`` (size and provenance report with the
file's sha256), ``failures.csv`` (every input that could not be used, and why).
"""

from __future__ import annotations

import csv
import itertools
import json
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from workbench.chem import parse_one
from workbench.data.corpus_files import (
    CORPUS_FILE,
    REPORT_FILE,
    CorpusInfo,
    corpus_dir,
    corpus_subset,
    load_corpus_info,
    read_corpus_smiles,
)
from workbench.data.corpus_sources import BENCHMARK_SETS, Source, default_sources, split_test_inchikeys
from workbench.featurizers import GRAPH_FEATURIZER, featurizer_spec
from workbench.featurizers.graph import FeaturizationError, graph_arrays
from workbench.hashing import sha256_bytes, sha256_file

__all__ = [
    "CORPUS_FILE",
    "REPORT_FILE",
    "CorpusInfo",
    "build_corpus",
    "corpus_dir",
    "corpus_subset",
    "load_corpus_info",
    "process_smiles",
    "read_corpus_smiles",
]

FAILURES_FILE = "failures.csv"
CHUNK_SIZE = 20_000
STAGES = ("parse", "featurize", "inchikey")
STANDARDIZER = (
    "workbench.chem.parse_one(metal_complexes='strip'): largest organic fragment, neutralized, canonical SMILES, "
    "InChIKey (as workbench.data.prepared.prepare reads fine-tuning data)"
)


def process_smiles(smiles: Sequence[str]) -> list[tuple[str, str, str, str]]:
    """Standardize and featurize a chunk; never raises.

    Returns:
        One ``(smiles, inchikey, stage, error)`` per input: the canonical SMILES and ``stage`` empty on
        success; otherwise the input, the failing stage (``parse``, ``featurize``, ``inchikey``) and why.
    """
    out: list[tuple[str, str, str, str]] = []
    for text in smiles:
        try:
            parsed = parse_one(text, metal_complexes="strip")  # as prepare() reads fine-tuning data
            if not parsed.ok:
                out.append((text, "", "parse", parsed.error))
                continue
            graph_arrays(parsed.mol)  # raises FeaturizationError
            if parsed.inchikey:
                out.append((parsed.smiles, parsed.inchikey, "", ""))
            else:
                out.append((text, "", "inchikey", "RDKit could not compute an InChIKey"))
        except Exception as exc:  # a featurizer failure, or any RDKit surprise: counted, never fatal
            stage = "featurize" if isinstance(exc, FeaturizationError) else "parse"
            out.append((text, "", stage, " ".join(str(exc).split()) or type(exc).__name__))
    return out


def _chunks(items: Iterator[str], size: int) -> Iterator[list[str]]:
    while chunk := list(itertools.islice(items, size)):
        yield chunk


def _write_rows(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """Write a CSV atomically (temporary file, then rename)."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    tmp.replace(path)


def _read_chunk(path: Path) -> list[list[str]]:
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        return list(reader)


class _Progress:
    """``progress.json`` in the output folder, rewritten after each chunk."""

    def __init__(self, path: Path, total: int, log: Callable[[str], None]) -> None:
        self.path, self.total, self.log = path, total, log
        self.started, self.done, self.new = time.perf_counter(), 0, 0

    def update(self, stage: str, molecules: int, computed: bool, source: str = "") -> None:
        self.done += molecules
        self.new += molecules if computed else 0
        elapsed = time.perf_counter() - self.started
        rate = self.new / elapsed if elapsed > 0 else 0.0
        left = max(self.total - self.done, 0)
        state = {
            "stage": stage,
            "source": source,
            "molecules_done": self.done,
            "molecules_total": self.total,
            "molecules_per_s": round(rate, 1),
            "eta_s": round(left / rate) if rate > 0 else None,
            "elapsed_s": round(elapsed, 1),
            "updated": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        tmp.replace(self.path)
        if computed and stage == "standardize":
            self.log(f"{self.done:,}/{self.total:,} molecules, {rate:,.0f}/s, {source}")


def _code_sha256() -> str:
    """sha256 of the standardizer's and featurizer's source: finished chunks are reused only under the same code."""
    from workbench.chem import molecule, standardize
    from workbench.featurizers import graph

    return sha256_bytes(b"".join(Path(m.__file__).read_bytes() for m in (molecule, standardize, graph)))


def _manifest(sources: Sequence[Source], chunk_size: int) -> dict:
    return {
        "chunk_size": chunk_size,
        "standardizer": STANDARDIZER,
        "code_sha256": _code_sha256(),
        "sources": [s.provenance() for s in sources],
    }


def _standardize_all(
    sources: Sequence[Source], out: Path, workers: int, chunk_size: int, log: Callable[[str], None]
) -> dict[str, int]:
    """Write one chunk file per ``chunk_size`` inputs of each source (skipping those on disk); rows per source."""
    chunk_root = out / "chunks"
    manifest = _manifest(sources, chunk_size)
    manifest_file = chunk_root / "manifest.json"
    if chunk_root.exists() and (not manifest_file.is_file() or json.loads(manifest_file.read_text()) != manifest):
        log(f"{chunk_root}: the sources or chunk size changed since these chunks were made; starting over")
        shutil.rmtree(chunk_root)
    chunk_root.mkdir(parents=True, exist_ok=True)
    manifest_file.write_text(json.dumps(manifest, indent=2) + "\n")
    rows = {s.name: sum(1 for _ in s.read()) for s in sources}
    progress = _Progress(out / "progress.json", sum(rows.values()), log)
    pool = ProcessPoolExecutor(max_workers=workers) if workers > 1 else None
    pending: deque[tuple[Path, int, Future | list, str]] = deque()

    def finish_one() -> None:
        path, n, job, name = pending.popleft()
        result = job.result() if isinstance(job, Future) else job
        _write_rows(path, ("smiles", "inchikey", "stage", "error"), result)
        progress.update("standardize", n, True, name)

    try:
        for source in sources:
            folder = chunk_root / source.name
            folder.mkdir(exist_ok=True)
            for index, chunk in enumerate(_chunks(iter(source.read()), chunk_size)):
                path = folder / f"{index:05d}.csv"
                if path.is_file():
                    progress.update("standardize", len(chunk), False, source.name)
                    continue
                job = pool.submit(process_smiles, chunk) if pool else process_smiles(chunk)
                pending.append((path, len(chunk), job, source.name))
                while len(pending) > (2 * workers if pool else 0):
                    finish_one()
        while pending:
            finish_one()
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    return rows


def _load_test_keys(out: Path, test_sets: Sequence[str], log: Callable[[str], None]) -> dict:
    """InChIKeys of every downstream test split, cached in ``test_keys.json`` for resumed builds."""
    path = out / "test_keys.json"
    if path.is_file():
        cached = json.loads(path.read_text())
        if cached.get("requested") == list(test_sets):
            return cached
    log(f"test splits of {', '.join(test_sets)} (scaffold 80/10/10) ...")
    keys, missing = split_test_inchikeys(test_sets)
    cached = {"requested": list(test_sets), "keys": keys, "missing": missing}
    path.write_text(json.dumps(cached) + "\n")
    return cached


def _merge(sources: Sequence[Source], out: Path, test: dict, rows: dict[str, int]) -> tuple[Path, list[dict], dict]:
    """Drop failures and test molecules, keep each InChIKey's first occurrence; write corpus and failures."""
    chunk_root = out / "chunks"
    files = {s.name: sorted((chunk_root / s.name).glob("*.csv")) for s in sources}
    keys: list[np.ndarray] = []
    for source in sources:
        for path in files[source.name]:
            keys.append(np.array([r[1] for r in _read_chunk(path) if not r[2]], dtype="S27"))
    all_keys = np.concatenate(keys) if keys else np.empty(0, dtype="S27")
    test_keys = np.array(sorted({k for ks in test["keys"].values() for k in ks}), dtype="S27")
    is_test = np.isin(all_keys, test_keys)
    first = np.zeros(len(all_keys), dtype=bool)
    candidates = np.flatnonzero(~is_test)
    first[candidates[np.unique(all_keys[candidates], return_index=True)[1]]] = True
    stats: list[dict] = []
    position = 0
    corpus_tmp = out / (CORPUS_FILE + ".tmp")
    with (
        open(corpus_tmp, "w", newline="") as corpus_handle,
        open(out / FAILURES_FILE, "w", newline="") as fail_handle,
    ):
        corpus_writer = csv.writer(corpus_handle, lineterminator="\n")
        fail_writer = csv.writer(fail_handle, lineterminator="\n")
        corpus_writer.writerow(("smiles", "inchikey", "source"))
        fail_writer.writerow(("source", "row", "input", "stage", "error"))
        for source in sources:
            counts = dict.fromkeys(("rows", *(f"{s}_failures" for s in STAGES), "test_removed", "duplicates"), 0)
            counts["kept"] = 0
            row = 0
            for path in files[source.name]:
                for smiles, key, stage, error in _read_chunk(path):
                    counts["rows"] += 1
                    if stage:
                        counts[f"{stage}_failures"] += 1
                        fail_writer.writerow((source.name, row, smiles, stage, error))
                    else:
                        if is_test[position]:
                            counts["test_removed"] += 1
                        elif first[position]:
                            counts["kept"] += 1
                            corpus_writer.writerow((smiles, key, source.name))
                        else:
                            counts["duplicates"] += 1
                        position += 1
                    row += 1
            if counts["rows"] != rows[source.name]:
                raise RuntimeError(f"{source.name}: {counts['rows']} rows in chunks, {rows[source.name]} in the source")
            stats.append({**source.provenance(), **counts})
    corpus_tmp.replace(out / CORPUS_FILE)
    in_corpus = set(all_keys[is_test].tolist())
    per_set = {
        name: {"test_molecules": len(ks), "in_sources": sum(k.encode() in in_corpus for k in ks)}
        for name, ks in test["keys"].items()
    }
    removed = {"rows": int(is_test.sum()), "molecules": len(in_corpus), "per_dataset": per_set}
    return out / CORPUS_FILE, stats, removed


def build_corpus(
    out_dir: str | Path | None = None,
    *,
    sources: Sequence[Source] | None = None,
    test_sets: Sequence[str] = BENCHMARK_SETS,
    workers: int = 2,
    chunk_size: int = CHUNK_SIZE,
    force: bool = False,
    log: Callable[[str], None] = print,
) -> CorpusInfo:
    """Build (or resume, or reuse) the deduplicated pretraining corpus; see the module docstring.

    Args:
        out_dir: output folder (default :func:`corpus_dir`).
        sources: SMILES streams (default: MOSES, MoleculeNet, MoleculeACE, ChEBI-20, approved drugs).
        test_sets: MoleculeNet sets whose scaffold-split test molecules are removed.
        workers: processes for standardization (1 = this process).
        chunk_size: molecules per resumable chunk.
        force: rebuild even when a finished corpus is there.
    """
    out = Path(out_dir) if out_dir is not None else corpus_dir()
    out.mkdir(parents=True, exist_ok=True)
    if not force and (out / REPORT_FILE).is_file() and (out / CORPUS_FILE).is_file():
        log(f"{out / CORPUS_FILE} is already built (use --force to rebuild)")
        return load_corpus_info(out)
    started = time.perf_counter()
    unavailable: list[str] = []
    if sources is None:
        sources, unavailable = default_sources()
    for message in unavailable:
        log(f"unavailable: {message}")
    segments_file = out / "segments.json"
    segments = json.loads(segments_file.read_text()) if segments_file.is_file() else []
    try:
        rows = _standardize_all(sources, out, workers, chunk_size, log)
        test = _load_test_keys(out, test_sets, log)
        path, stats, removed = _merge(sources, out, test, rows)
    except BaseException:  # interrupted or failed: keep this segment's wall time for the report
        segments.append({"wall_time_s": round(time.perf_counter() - started, 1), "workers": workers})
        segments_file.write_text(json.dumps(segments) + "\n")
        raise
    digest = sha256_file(path)
    segments.append({"wall_time_s": round(time.perf_counter() - started, 1), "workers": workers, "finished": True})
    total = {k: sum(s[k] for s in stats) for k in stats[0] if isinstance(stats[0][k], int)} if stats else {}
    report = {
        "corpus": {"file": CORPUS_FILE, "sha256": digest, "molecules": total.get("kept", 0)},
        "columns": ["smiles", "inchikey", "source"],
        "standardizer": STANDARDIZER,
        "featurizer": featurizer_spec(GRAPH_FEATURIZER),
        "deduplication": "InChIKey; the first occurrence in source order is kept",
        "sources": stats,
        "unavailable": unavailable,
        "totals": total,
        "removed_test_molecules": {
            "split": "scaffold 80/10/10 as workbench.data.prepared.prepare makes it (seed-independent)",
            "datasets": list(test_sets),
            "missing_datasets": test["missing"],
            **removed,
        },
        "failures_file": FAILURES_FILE,
        "workers": workers,
        "chunk_size": chunk_size,
        "wall_time_s": round(sum(s["wall_time_s"] for s in segments), 1),
        "segments": segments,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (out / REPORT_FILE).write_text(json.dumps(report, indent=2) + "\n")
    segments_file.unlink(missing_ok=True)
    shutil.rmtree(out / "chunks", ignore_errors=True)
    (out / "test_keys.json").unlink(missing_ok=True)
    _Progress(out / "progress.json", total.get("rows", 0), log).update("done", total.get("rows", 0), False)
    return CorpusInfo(path, digest, report["corpus"]["molecules"], report)
