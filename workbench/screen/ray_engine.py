"""The Ray engine: the same screen on a laptop (a local Ray) or on a cluster (``--ray-address auto``), with Ray Data.

The pipeline, one Ray Data dataset streamed end to end:

1. **Read**: one read task per library file (:func:`library_datasource`), pinned to the driver's node (the library
   needs to be there only), streams the file in the local engine's chunks
   (:func:`workbench.screen.library.file_chunks`: the same chunk ids, row numbers and read errors), one row per
   chunk; a chunk an earlier run finished with the same input rows (``resume``) is passed on as a marker only.
2. **Screen**: ``map_batches`` with :class:`ScreenActor`, a callable class holding a
   :class:`~workbench.screen.engine.ScreenWorker` (the local engine's worker: models loaded once per actor, then
   parse, predict, descriptors, prompt per chunk), ``batch_format="pandas"``, one chunk per call, the chunk
   returned as the bytes of its Parquet file. Actors get ``num_gpus=1`` each when the cluster has GPUs (the
   inference module then puts the models on CUDA with autocast); the rule for their CPUs is :func:`actor_sizing`.
3. **Write**: the driver consumes the stream, writes each chunk into the chunks folder and records it in the
   manifest (so ``resume`` continues a run of either engine), then combines the chunks in library order with
   the local engine's :func:`~workbench.screen.engine.combine`: the same rows, ids, errors, filter and top N,
   the same output file.

Ray is imported only here, inside the functions that need it (``import workbench.screen`` does not load it).
On a cluster every node needs the same installation (the ``workbench`` package and the models folder at the same
path: one container image or a shared file system); the output is written by the driver only.

**Featurization stage** (on by default when the actors have GPUs, ``featurize_stage``): between 1 and 2, a pool of
CPU actors (:class:`FeaturizeActor`, models loaded on the CPU) parses each chunk, computes its descriptors and
featurizes it for every model that can featurize apart (graph batches, fingerprints:
:func:`workbench.predict.inference.featurize_parsed`), and hands the screening actors the
:class:`~workbench.screen.engine.PreparedChunk` as safetensors bytes (:mod:`workbench.screen.staging`; no pickle),
so the GPU actors run networks only. The output is the same (tested on CPUs with the stage forced on). Off on
CPU-only machines, where it would only add copies. The retrieval model (``--prompt``) still featurizes its
molecules inside the screening actor. Sizing: :func:`staged_sizing`.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.screen.engine import (
    ChunkEvent,
    PreparedChunk,
    ScreenSummary,
    ScreenWorker,
    chunk_errors,
    combine,
    tracking,
)
from workbench.screen.library import LibraryChunk, LibraryError, library_files
from workbench.screen.manifest import Manifest, chunks_folder
from workbench.screen.plan import ScreenPlan
from workbench.screen.ray_cluster import (
    cluster_gpus,
    cluster_sizing,
    connect,
    quiet_ray_data,
    staged_cluster_sizing,
    user_error,
)
from workbench.screen.ray_read import CHUNK, FAILED, FATAL, RESUMED, SKIP, library_datasource, read_file
from workbench.screen.ray_sizing import READ_CPUS, ActorSizing, StageSizing, actor_sizing, staged_sizing
from workbench.screen.staging import decode_staged, encode_staged

if TYPE_CHECKING:
    import pandas as pd

__all__ = [
    "READ_CPUS",
    "ActorSizing",
    "FeaturizeActor",
    "ScreenActor",
    "StageSizing",
    "actor_sizing",
    "cluster_sizing",
    "connect",
    "library_datasource",
    "read_file",
    "run_ray_screen",
    "staged_sizing",
]

# --- the screening stage ------------------------------------------------------------------------------------------


def _chunk_of(row: dict) -> LibraryChunk:
    smiles = [str(x) for x in row["smiles"]]
    errors = [str(e) for e in row["read_errors"]]
    return LibraryChunk(row["source"], int(row["index"]), int(row["first_row"]), smiles, errors)


def _failure(exc: Exception) -> str:
    return str(exc) if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}"


class FeaturizeActor:
    """The featurization stage's callable class: models loaded once on the CPU, each chunk prepared
    (:meth:`ScreenWorker.prepare`) and passed on in ``prepared`` as :func:`~workbench.screen.staging.encode_staged`
    bytes (its SMILES dropped from the row)."""

    def __init__(self, plan: ScreenPlan, threads: int | None = 1) -> None:
        self.worker = ScreenWorker.load(plan, threads, device="cpu", featurizer=True)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        out = []
        for row in batch.to_dict("records"):
            result = dict(row, prepared=b"")
            if row["kind"] == CHUNK:
                try:
                    prepared = self.worker.prepare(_chunk_of(row))
                except Exception as exc:
                    result.update(kind=FAILED, message=_failure(exc))
                else:  # safetensors bytes: arrays, molecules, tables and named dataclasses only (no pickle)
                    result.update(prepared=encode_staged(prepared), smiles=[], read_errors=[])
            out.append(result)
        return pd.DataFrame(out)


class ScreenActor:
    """``map_batches``' callable class: the models loaded once per actor, then one chunk per call.

    Each output row is its input row's chunk with ``rows``, ``errors`` and ``payload`` (the chunk's Parquet file as
    bytes, the same table the local engine writes); rows of another kind pass through with an empty payload. A chunk
    that fails (the models could not be loaded, ...) comes back as a ``failed`` row with the exception's message,
    which the driver raises. A row from the featurization stage brings its chunk prepared (``prepared``).
    """

    def __init__(self, plan: ScreenPlan, threads: int | None = None) -> None:
        self.worker = ScreenWorker.load(plan, threads)

    def __call__(self, batch: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq

        out = []
        for row in batch.to_dict("records"):
            result = {k: row[k] for k in ("kind", "source", "index", "chunk_id", "digest", "message")}
            result.update(rows=0, errors=0, payload=b"")
            if row["kind"] == CHUNK:
                staged = row.get("prepared")
                try:
                    chunk: LibraryChunk | PreparedChunk = decode_staged(staged) if staged else _chunk_of(row)
                    table = self.worker.table(chunk)
                except Exception as exc:
                    result.update(kind=FAILED, message=_failure(exc))
                    out.append(result)
                    continue
                sink = pa.BufferOutputStream()
                pq.write_table(table, sink)
                n_errors = chunk_errors(table)
                result.update(rows=table.num_rows, errors=n_errors, payload=sink.getvalue().to_pybytes())
            out.append(result)
        return pd.DataFrame(out)


# --- the driver ---------------------------------------------------------------------------------------------------


def run_ray_screen(
    library: str | Path,
    output: str | Path,
    plan: ScreenPlan,
    *,
    chunk_size: int = 5_000,
    actors: int | None = None,
    address: str | None = None,
    num_cpus: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    keep_chunks: bool = False,
    progress: bool = False,
    on_chunk: Callable[[ChunkEvent], None] | None = None,
    on_skip: Callable[[str], None] | None = None,
    on_sizing: Callable[[ActorSizing, StageSizing | None], None] | None = None,
    featurize_stage: bool | None = None,
) -> ScreenSummary:
    """Screen a library with Ray Data and write the output Parquet file: :func:`~workbench.screen.run_screen`'s output.

    Args:
        library, output, plan, chunk_size, resume, overwrite, keep_chunks, progress, on_chunk, on_skip: as
            :func:`workbench.screen.engine.run_screen`.
        actors: screening actors (default: :func:`actor_sizing`'s rule).
        address: a Ray cluster (``auto``, ``ray://host:10001``); default a local Ray, unless one runs in this process.
        num_cpus: the local Ray's CPUs (default: the machine's).
        on_sizing: told the screening actors' sizing (and the stages' when there is a featurization stage) once Ray
            is up.
        featurize_stage: featurize in CPU actors before the screening actors (default: when the actors get GPUs).

    Raises:
        ResumeError: a chunks folder of another run exists.
        LibraryError: the library (a single file) cannot be read.
        RuntimeError: a chunk failed in an actor (the message is the actor's).
    """
    start = time.perf_counter()
    output = Path(output)
    root = Path(library)
    files = library_files(root)
    single = root.is_file()
    manifest = Manifest.open(chunks_folder(output), plan.settings(), resume=resume, overwrite=overwrite)
    done = {cid: e["sha256"] for cid, e in manifest.chunks.items() if manifest.is_done(cid, e.get("sha256", ""))}
    position = {source: k for k, (_, source) in enumerate(files)}
    place: dict[str, tuple[int, int]] = {}  # chunk id -> (file, chunk index): the library order
    started = connect(address, num_cpus) if files else False
    try:
        with tracking(library, output, progress=progress, on_chunk=on_chunk, on_skip=on_skip) as track:
            if files:
                stream = _Stream(manifest, track, place, position)
                _stream(files, plan, chunk_size, single, done, stream, actors, on_sizing, featurize_stage)
    finally:
        if started:
            import ray

            ray.shutdown()
    summary = track.summary
    summary.written = combine(manifest, sorted(place, key=place.__getitem__), output, plan, keep_chunks)
    summary.seconds = time.perf_counter() - start
    return summary


@dataclass
class _Stream:
    """Where the driver records the chunks that come back."""

    manifest: Manifest
    track: Any
    place: dict[str, tuple[int, int]]
    position: dict[str, int]


def _stream(
    files: list[tuple[Path, str]],
    plan: ScreenPlan,
    chunk_size: int,
    single: bool,
    done: dict[str, str],
    stream: _Stream,
    actors: int | None,
    on_sizing: Callable[[ActorSizing, StageSizing | None], None] | None,
    featurize_stage: bool | None,
) -> None:
    """Run the dataset and record every chunk as it comes back (in any order)."""
    import ray.data

    quiet_ray_data()
    staged = featurize_stage if featurize_stage is not None else cluster_gpus() >= 1
    stages = staged_cluster_sizing(actors) if staged else None
    sizing = stages.screen if stages else cluster_sizing(actors)
    if on_sizing is not None:
        on_sizing(sizing, stages)
    source = library_datasource(files, chunk_size, plan.smiles_column, single, done)
    dataset = ray.data.read_datasource(source, num_cpus=sizing.read_cpus)
    if stages is not None:
        dataset = dataset.map_batches(
            FeaturizeActor,
            fn_constructor_args=(plan, 1),
            batch_size=1,
            batch_format="pandas",
            compute=ray.data.ActorPoolStrategy(size=stages.featurizers),
            num_cpus=stages.cpus_per_featurizer,
        )
    dataset = dataset.map_batches(
        ScreenActor,
        fn_constructor_args=(plan, sizing.threads),
        batch_size=1,
        batch_format="pandas",
        compute=ray.data.ActorPoolStrategy(size=sizing.actors),
        num_cpus=sizing.cpus_per_actor,
        num_gpus=sizing.gpus_per_actor or None,
    )
    batches = dataset.iter_batches(batch_size=None, batch_format="pandas", prefetch_batches=0)
    try:
        for batch in batches:
            for row in batch.to_dict("records"):
                _record(row, stream)
    except (LibraryError, KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        cause = user_error(exc)
        if cause is exc or cause is None:
            if type(exc).__module__.startswith("ray"):
                raise RuntimeError(f"the Ray screen failed: {str(exc).strip().splitlines()[-1]}") from exc
            raise
        raise RuntimeError(str(cause)) from exc
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()


def _record(row: dict, stream: _Stream) -> None:
    manifest, track = stream.manifest, stream.track
    kind = row["kind"]
    if kind == FATAL:
        raise LibraryError(row["message"])
    if kind == FAILED:
        raise RuntimeError(row["message"])
    if kind == SKIP:
        track.skipped(row["message"])
        return
    chunk_id, index = str(row["chunk_id"]), int(row["index"])
    stream.place[chunk_id] = (stream.position[row["source"]], index)
    if kind == RESUMED:
        entry = manifest.chunks[chunk_id]
        track.finished(ChunkEvent(chunk_id, row["source"], index, int(entry["rows"]), int(entry["errors"]), True))
        return
    target = manifest.chunk_path(chunk_id)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    temporary.write_bytes(row["payload"])
    os.replace(temporary, target)
    rows, errors = int(row["rows"]), int(row["errors"])
    manifest.record(chunk_id, row["digest"], rows, errors)
    track.finished(ChunkEvent(chunk_id, row["source"], index, rows, errors, False))
