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

Not built: on GPU clusters, featurization (RDKit, Python) as its own CPU stage (``map_batches`` of CPU tasks feeding
the GPU actors tensors) would keep the GPUs busier than featurizing inside the GPU actor as now; it would be a
switch of :func:`run_ray_screen`, off on CPU-only machines where the stage would only add copies.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from workbench.screen.engine import ChunkEvent, ScreenSummary, ScreenWorker, chunk_errors, combine, tracking
from workbench.screen.library import LibraryChunk, LibraryError, file_chunks, library_files
from workbench.screen.manifest import Manifest, chunks_folder
from workbench.screen.plan import ScreenPlan
from workbench.screen.ray_sizing import READ_CPUS, ActorSizing, actor_sizing

if TYPE_CHECKING:
    import pandas as pd
    import pyarrow as pa

__all__ = [
    "READ_CPUS",
    "ActorSizing",
    "ScreenActor",
    "actor_sizing",
    "cluster_sizing",
    "connect",
    "library_datasource",
    "read_file",
    "run_ray_screen",
]

# --- the read stage -----------------------------------------------------------------------------------------------

#: Row kinds of the stream: a chunk to screen, a chunk finished earlier, a file skipped, a library that cannot be read,
#: a chunk that failed in its actor (the message is the exception's: Ray's own errors keep only its traceback text).
CHUNK, RESUMED, SKIP, FATAL, FAILED = "chunk", "resumed", "skip", "fatal", "failed"


def _chunk_schema() -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            ("kind", pa.string()),
            ("source", pa.string()),
            ("index", pa.int64()),
            ("first_row", pa.int64()),
            ("chunk_id", pa.string()),
            ("digest", pa.string()),
            ("smiles", pa.list_(pa.string())),
            ("read_errors", pa.list_(pa.string())),
            ("message", pa.string()),
        ]
    )


def _row(kind: str, chunk: LibraryChunk | None = None, digest: str = "", message: str = "", data: bool = True) -> dict:
    return {
        "kind": kind,
        "source": chunk.source if chunk else "",
        "index": chunk.index if chunk else -1,
        "first_row": chunk.first_row if chunk else 0,
        "chunk_id": chunk.chunk_id if chunk else "",
        "digest": digest,
        "smiles": list(chunk.smiles) if chunk and data else [],
        "read_errors": list(chunk.read_errors) if chunk and data else [],
        "message": message,
    }


def read_file(
    file: Path, source: str, chunk_size: int, smiles_column: str | None, single: bool, done: dict[str, str]
) -> Iterator[pa.Table]:
    """A read task: one block per chunk of one file (``done``: chunk id -> input hash of finished chunks)."""
    import pyarrow as pa

    schema = _chunk_schema()
    skipped: list[str] = []
    try:
        for chunk in file_chunks(
            file, source, chunk_size=chunk_size, smiles_column=smiles_column, single=single, on_skip=skipped.append
        ):
            digest = chunk.digest()
            finished = done.get(chunk.chunk_id) == digest
            yield pa.Table.from_pylist([_row(RESUMED if finished else CHUNK, chunk, digest, data=not finished)], schema)
    except LibraryError as exc:
        yield pa.Table.from_pylist([_row(FATAL, message=str(exc))], schema)
    for message in skipped:
        yield pa.Table.from_pylist([_row(SKIP, message=message)], schema)


def library_datasource(
    files: list[tuple[Path, str]], chunk_size: int, smiles_column: str | None, single: bool, done: dict[str, str]
) -> Any:
    """A Ray Data datasource with one read task per library file, run on the driver's node (made on first use: its
    base class is Ray's)."""
    from functools import partial

    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    class _LibraryDatasource(Datasource):
        @property
        def supports_distributed_reads(self) -> bool:
            return False  # the read tasks run where the driver is: the library need not be on the other nodes

        def get_name(self) -> str:
            return "ScreeningLibrary"

        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(self, parallelism: int, **_: Any) -> list[ReadTask]:
            return [
                ReadTask(
                    partial(read_file, file, source, chunk_size, smiles_column, single, done),
                    BlockMetadata(num_rows=None, size_bytes=None, input_files=[str(file)], exec_stats=None),
                )
                for file, source in files
            ]

    return _LibraryDatasource()


# --- the screening stage ------------------------------------------------------------------------------------------


class ScreenActor:
    """``map_batches``' callable class: the models loaded once per actor, then one chunk per call.

    Each output row is its input row's chunk with ``rows``, ``errors`` and ``payload`` (the chunk's Parquet file as
    bytes, the same table the local engine writes); rows of another kind pass through with an empty payload. A chunk
    that fails (the models could not be loaded, ...) comes back as a ``failed`` row with the exception's message,
    which the driver raises.
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
                smiles = [str(s) for s in row["smiles"]]
                errors = [str(e) for e in row["read_errors"]]
                chunk = LibraryChunk(row["source"], int(row["index"]), int(row["first_row"]), smiles, errors)
                try:
                    table = self.worker.table(chunk)
                except Exception as exc:
                    message = str(exc) if isinstance(exc, RuntimeError) else f"{type(exc).__name__}: {exc}"
                    result.update(kind=FAILED, message=message)
                    out.append(result)
                    continue
                sink = pa.BufferOutputStream()
                pq.write_table(table, sink)
                result.update(rows=table.num_rows, errors=chunk_errors(table), payload=sink.getvalue().to_pybytes())
            out.append(result)
        return pd.DataFrame(out)


# --- the driver ---------------------------------------------------------------------------------------------------


def _quiet_ray_data() -> None:
    """No Ray Data progress bars or execution logs: the run has its own progress bar."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.enable_operator_progress_bars = False
    context.print_on_execution_start = False
    context.enable_auto_log_stats = False
    context.execution_options.preserve_order = False  # chunks are put back in library order at the end
    logging.getLogger("ray").setLevel(logging.WARNING)
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)  # its errors reach the caller as exceptions
    warnings.filterwarnings(  # one read task per file: a single-file library is one input, streamed in chunks
        "ignore", message="The minimum number of concurrent actors", category=UserWarning
    )


def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Join the Ray cluster at ``address`` (``auto``: the one this machine belongs to), or start a local Ray.

    A local Ray gets ``num_cpus`` CPUs (default: the machine's). Nothing is done when Ray is running in this process
    already (a notebook, a test). Returns whether Ray was started here (and is to be shut down by the caller).
    """
    import ray

    if ray.is_initialized():
        return False
    options: dict[str, Any] = {
        "include_dashboard": False,
        "log_to_driver": False,  # the actors' warnings stay in Ray's logs; errors come back as exceptions
        "logging_level": logging.WARNING,
    }
    try:
        if address:
            ray.init(address=address, **options)
        else:
            ray.init(num_cpus=num_cpus or os.cpu_count() or 1, **options)
    except Exception as exc:  # Ray raises bare Exceptions (e.g. a node that times out starting on a busy machine)
        with contextlib.suppress(Exception):
            ray.shutdown()
        where = f"join the Ray cluster at {address}" if address else "start a local Ray"
        raise RuntimeError(
            f"could not {where}: {exc} (on a busy machine Ray's processes can time out starting; "
            "try again when the load is lower, or use --engine local)"
        ) from exc
    return True


def cluster_sizing(actors: int | None = None) -> ActorSizing:
    """:func:`actor_sizing` for the connected Ray cluster (no GPU actors when ``WORKBENCH_DEVICE`` says CPU)."""
    import ray

    resources = ray.cluster_resources()
    gpus = resources.get("GPU", 0.0)
    if os.environ.get("WORKBENCH_DEVICE", "").strip().lower().startswith("cpu"):
        gpus = 0.0
    return actor_sizing(resources.get("CPU", 0.0), gpus, actors)


def _user_error(exc: BaseException) -> BaseException | None:
    """The first exception of the chain that Ray did not raise (what went wrong in a task or actor)."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if not type(current).__module__.startswith("ray"):
            return current
        current = getattr(current, "cause", None) or current.__cause__
    return None


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
    on_sizing: Callable[[ActorSizing], None] | None = None,
) -> ScreenSummary:
    """Screen a library with Ray Data and write the output Parquet file: :func:`~workbench.screen.run_screen`'s output.

    Args:
        library, output, plan, chunk_size, resume, overwrite, keep_chunks, progress, on_chunk, on_skip: as
            :func:`workbench.screen.engine.run_screen`.
        actors: screening actors (default: :func:`actor_sizing`'s rule).
        address: a Ray cluster (``auto``, ``ray://host:10001``); default a local Ray, unless one runs in this process.
        num_cpus: the local Ray's CPUs (default: the machine's).
        on_sizing: told the actors' sizing once Ray is up.

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
                _stream(files, plan, chunk_size, single, done, manifest, track, place, position, actors, on_sizing)
    finally:
        if started:
            import ray

            ray.shutdown()
    summary = track.summary
    summary.written = combine(manifest, sorted(place, key=place.__getitem__), output, plan, keep_chunks)
    summary.seconds = time.perf_counter() - start
    return summary


def _stream(
    files: list[tuple[Path, str]],
    plan: ScreenPlan,
    chunk_size: int,
    single: bool,
    done: dict[str, str],
    manifest: Manifest,
    track: Any,
    place: dict[str, tuple[int, int]],
    position: dict[str, int],
    actors: int | None,
    on_sizing: Callable[[ActorSizing], None] | None,
) -> None:
    """Run the dataset and record every chunk as it comes back (in any order)."""
    import ray.data

    _quiet_ray_data()
    sizing = cluster_sizing(actors)
    if on_sizing is not None:
        on_sizing(sizing)
    source = library_datasource(files, chunk_size, plan.smiles_column, single, done)
    dataset = ray.data.read_datasource(source, num_cpus=sizing.read_cpus).map_batches(
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
                _record(row, manifest, track, place, position)
    except (LibraryError, KeyboardInterrupt, SystemExit):
        raise
    except Exception as exc:
        cause = _user_error(exc)
        if cause is exc or cause is None:
            if type(exc).__module__.startswith("ray"):
                raise RuntimeError(f"the Ray screen failed: {str(exc).strip().splitlines()[-1]}") from exc
            raise
        raise RuntimeError(str(cause)) from exc
    finally:
        close = getattr(batches, "close", None)
        if close is not None:
            close()


def _record(
    row: dict, manifest: Manifest, track: Any, place: dict[str, tuple[int, int]], position: dict[str, int]
) -> None:
    kind = row["kind"]
    if kind == FATAL:
        raise LibraryError(row["message"])
    if kind == FAILED:
        raise RuntimeError(row["message"])
    if kind == SKIP:
        track.skipped(row["message"])
        return
    chunk_id, index = str(row["chunk_id"]), int(row["index"])
    place[chunk_id] = (position[row["source"]], index)
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
