"""The local screening engine: library chunks through a pool of worker processes into one Parquet file.

Each worker loads the plan's models once (through the shared inference module,
:mod:`workbench.predict.inference`), then per chunk parses and standardizes the SMILES exactly as
``workbench predict`` does (one row per input row, in order; an ``error`` for a bad row, never a dropped
one), predicts, computes the descriptors the filter names, scores the text prompt, and writes the chunk to
the chunks folder (temporary file, then rename). The main process reads the library, hands out at most
two chunks per worker at a time (bounded memory), records finished chunks in the manifest
(:mod:`workbench.screen.manifest`), and at the end combines the chunks into the output
(:mod:`workbench.screen.output`). A killed run loses at most the chunks in flight; ``resume=True``
continues it. With one worker everything runs in the calling thread (no start-up cost), with its own
:class:`ScreenWorker`, so two runs in two threads of one process (the app server) do not mix. The Ray engine
(:mod:`workbench.screen.ray_engine`) screens through the same :class:`ScreenWorker` and :func:`combine`.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from workbench.screen.descriptors import compute_descriptors
from workbench.screen.library import LibraryChunk, iter_library
from workbench.screen.manifest import Manifest, chunks_folder
from workbench.screen.plan import PROMPT_COLUMN, ScreenPlan
from workbench.screen.tracking import ChunkEvent, RunTracker, ScreenSummary, combine, tracking

if TYPE_CHECKING:
    import pyarrow as pa

__all__ = [
    "ChunkEvent",
    "PreparedChunk",
    "RunTracker",
    "ScreenSummary",
    "ScreenWorker",
    "chunk_errors",
    "combine",
    "default_workers",
    "init_worker",
    "prepare_chunk",
    "run_screen",
    "screen_chunk",
    "screen_frame",
    "tracking",
]

#: Chunks handed to each worker ahead of the one it is working on (bounds the main process's memory).
AHEAD_PER_WORKER = 2


def default_workers() -> int:
    """``min(2, CPU count)``."""
    return max(1, min(2, os.cpu_count() or 1))


@dataclass
class ScreenWorker:
    """The plan's models (and the retrieval model with the prompt's embedding) loaded in one process or actor.

    A failure to load is kept in ``error`` and raised by each :meth:`table`, so it reaches the caller with its
    message. Both engines screen through it: the local engine's worker processes (or the calling thread with one
    worker) and the Ray engine's actors.
    """

    plan: ScreenPlan
    models: list[Any] = field(default_factory=list)
    prompt: dict[str, Any] = field(default_factory=dict)
    error: Exception | None = None

    @classmethod
    def load(
        cls, plan: ScreenPlan, threads: int | None = None, *, device: str | None = None, featurizer: bool = False
    ) -> ScreenWorker:
        """Load the models once (:func:`workbench.predict.inference.load_model` caches them per process).

        ``device``: where the models run (default: the inference module's choice). ``featurizer``: a worker that
        only prepares chunks (:meth:`prepare`; a Ray screen's CPU stage): no retrieval model.
        """
        worker = cls(plan)
        try:
            import torch

            from workbench.predict.inference import load_model

            if threads:
                torch.set_num_threads(threads)
            worker.models = [load_model(m, device=device, precision=plan.precision) for m in plan.models]
            if plan.prompt and not featurizer:
                from workbench.retrieval.model import load_retriever

                retriever = load_retriever()
                worker.prompt = {"retriever": retriever, "query": retriever.embed_texts([plan.prompt])[0]}
        except Exception as exc:
            worker.error = exc
        return worker

    def _check(self) -> None:
        if self.error is not None:
            raise RuntimeError(f"the screening worker could not load its models: {self.error}")

    def prepare(self, chunk: LibraryChunk) -> PreparedChunk:
        """The chunk parsed, its descriptors computed and its molecules featurized for the models (CPU work)."""
        self._check()
        return prepare_chunk(chunk, self.plan, self.models, featurize=True)

    def table(self, chunk: LibraryChunk | PreparedChunk) -> pa.Table:
        """One chunk's (or prepared chunk's) output rows as an Arrow table with the plan's schema."""
        import pyarrow as pa

        self._check()
        frame = screen_frame(chunk, self.plan, self.models, **self.prompt)
        return pa.Table.from_pandas(frame, schema=self.plan.schema(), preserve_index=False)

    def write(self, chunk: LibraryChunk, path: str | Path) -> tuple[int, int]:
        """Screen one chunk and write it to ``path`` atomically; returns (rows, rows with an error)."""
        import pyarrow.parquet as pq

        table = self.table(chunk)
        target = Path(path)
        temporary = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        pq.write_table(table, temporary)
        os.replace(temporary, target)
        return table.num_rows, chunk_errors(table)


def chunk_errors(table: pa.Table) -> int:
    """Rows of a chunk's table with an error."""
    import pyarrow.compute as pc

    return int(pc.sum(pc.not_equal(table.column("error"), "")).as_py() or 0)


_WORKER: ScreenWorker | None = None  # a worker process's models (the local engine's pool)


def init_worker(plan: ScreenPlan, threads: int | None = None, child: bool = False) -> None:
    """Load the plan's models once in this worker process (the pool's initializer)."""
    global _WORKER
    if child:  # Ctrl-C is the main process's to handle: it stops the workers
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = ScreenWorker.load(plan, threads)


def _prompt_scores(retriever: Any, query: np.ndarray, smiles: list[str], errors: list[str]) -> np.ndarray:
    """Cosine of each molecule with the prompt (NaN for error rows); notes embedding failures in ``errors``."""
    scores = np.full(len(smiles), np.nan)
    rows = [i for i, e in enumerate(errors) if not e]
    if not rows:
        return scores
    vectors, parsed = retriever.embed_molecules([smiles[i] for i in rows])
    for k, i in enumerate(rows):
        problem = str(parsed["error"].iloc[k])
        if problem:
            errors[i] = f"{PROMPT_COLUMN}: {problem}"
        else:
            scores[i] = float(vectors[k] @ query)
    return scores


@dataclass
class PreparedChunk:
    """A chunk's CPU half of a screen: parsed and standardized, its descriptors computed and, for a Ray screen with a
    featurization stage, each model's inputs featurized (:func:`workbench.predict.inference.featurize_parsed`).

    Picklable (a Ray stage hands it to the next); :func:`screen_frame` finishes it with the models' networks.
    """

    chunk: LibraryChunk
    parsed: pd.DataFrame  # :func:`workbench.chem.parse`'s frame, its molecules in ``mols``
    mols: list[Any]
    descriptors: dict[str, np.ndarray]
    featurized: dict[str, object] = field(default_factory=dict)


def prepare_chunk(
    chunk: LibraryChunk, plan: ScreenPlan, models: list[Any], *, featurize: bool = False
) -> PreparedChunk:
    """Parse and standardize the chunk as ``workbench predict`` does, compute the plan's descriptors, and with
    ``featurize`` make the inputs of every model that featurizes apart (CPU work only)."""
    from workbench import chem
    from workbench.predict.inference import featurize_parsed

    parsed = chem.parse(chunk.smiles, inchikey=False).drop(columns=["inchikey"])  # as `workbench predict`
    mols = list(parsed.attrs["mols"])
    failed = [bool(r or e) for r, e in zip(chunk.read_errors, parsed["error"].tolist(), strict=True)]
    descriptors = compute_descriptors([None if f else m for m, f in zip(mols, failed, strict=True)], plan.descriptors)
    featurized = featurize_parsed(parsed, models, batch_size=plan.batch_size) if featurize and models else {}
    parsed.attrs = {}
    return PreparedChunk(chunk, parsed, mols, descriptors, featurized)


def screen_frame(
    chunk: LibraryChunk | PreparedChunk, plan: ScreenPlan, models: list[Any], **prompt: Any
) -> pd.DataFrame:
    """One chunk's output rows: one per input row, in order, with exactly ``plan.columns``.

    ``chunk`` is a library chunk or one already prepared (:func:`prepare_chunk`: the same rows either way);
    ``models`` are loaded models (:func:`workbench.predict.inference.load_model`); ``prompt`` holds ``retriever``
    and ``query`` when the plan has a prompt (the retrieval model featurizes its molecules itself).
    """
    from workbench.predict.inference import predict_parsed

    prepared = chunk if isinstance(chunk, PreparedChunk) else prepare_chunk(chunk, plan, models)
    chunk, parsed = prepared.chunk, prepared.parsed
    parsed.attrs["mols"] = prepared.mols
    result = (
        predict_parsed(parsed, models, batch_size=plan.batch_size, featurized=prepared.featurized) if models else parsed
    )
    errors = [r or str(e) for r, e in zip(chunk.read_errors, result["error"].tolist(), strict=True)]
    columns: dict[str, Any] = {
        "source": [chunk.source] * len(chunk),
        "row": np.arange(chunk.first_row, chunk.first_row + len(chunk), dtype=np.int64),
        "smiles": chunk.smiles,
        "canonical_smiles": result["smiles"].fillna("").astype(str).to_numpy(),
    }
    for column in plan.score_columns:
        columns[column] = result[column].to_numpy(dtype=np.float64) if column in result else np.nan
    failed = np.array([bool(e) for e in errors], dtype=bool)
    for name, values in prepared.descriptors.items():  # a row a model failed on has no descriptors either
        columns[name] = np.where(failed, np.nan, values)
    if plan.prompt:
        canonical = [str(s) for s in columns["canonical_smiles"]]
        columns[PROMPT_COLUMN] = _prompt_scores(prompt["retriever"], prompt["query"], canonical, errors)
    columns["error"] = errors
    columns["warnings"] = result["warnings"].fillna("").astype(str).to_numpy()
    return pd.DataFrame(columns, columns=plan.columns)


def screen_chunk(chunk: LibraryChunk, path: str) -> tuple[int, int]:
    """Screen one chunk in this worker process and write it to ``path`` atomically; returns (rows, error rows)."""
    if _WORKER is None:
        raise RuntimeError("the screening worker was not initialised (init_worker)")
    return _WORKER.write(chunk, path)


Submit = Callable[[LibraryChunk, str], Future]


@contextmanager
def _pool(plan: ScreenPlan, workers: int) -> Iterator[Submit]:
    """``submit(chunk, path)`` on the worker pool; on an error or interrupt its processes are stopped at once.

    With one worker the chunk is screened in the calling thread when it is submitted (its own
    :class:`ScreenWorker`, so two runs in two threads of one process, as on the app server, do not mix).
    """
    if workers == 1:
        worker = ScreenWorker.load(plan)

        def inline(chunk: LibraryChunk, path: str) -> Future:
            future: Future = Future()
            future.set_result(worker.write(chunk, path))
            return future

        yield inline
        return
    threads = max(1, (os.cpu_count() or 1) // workers)
    executor = ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("spawn"),  # no fork of a process holding torch threads
        initializer=init_worker,
        initargs=(plan, threads, True),
    )
    try:
        yield lambda chunk, path: executor.submit(screen_chunk, chunk, path)
    except BaseException:
        for process in list((getattr(executor, "_processes", None) or {}).values()):
            process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)
        raise
    executor.shutdown(wait=True)


def run_screen(
    library: str | Path,
    output: str | Path,
    plan: ScreenPlan,
    *,
    chunk_size: int = 5_000,
    workers: int | None = None,
    resume: bool = False,
    overwrite: bool = False,
    keep_chunks: bool = False,
    progress: bool = False,
    on_chunk: Callable[[ChunkEvent], None] | None = None,
    on_skip: Callable[[str], None] | None = None,
) -> ScreenSummary:
    """Screen a library file or folder and write the output Parquet file.

    Args:
        library: a molecule file or folder (:func:`workbench.screen.library.iter_library`).
        output: the output ``.parquet`` file, written only when the run finishes.
        plan: models, descriptors, filter and ranking (:func:`workbench.screen.plan.plan_screen`).
        workers: processes (default :func:`default_workers`); 1 runs in this process.
        resume: skip the chunks an earlier run with the same settings finished.
        overwrite: delete an earlier run's chunks folder instead of refusing it.
        keep_chunks: keep the chunks folder after the output is written (to filter again with ``resume``).
        progress: a progress bar on stderr (molecules, molecules/s, ETA).
        on_chunk: called after each finished chunk; an exception raised there stops the run like a kill.
        on_skip: told about each unreadable file of a folder (default: a warning).

    Raises:
        ResumeError: a chunks folder of another run exists (see ``resume`` and ``overwrite``).
        LibraryError: the library (a single file) cannot be read.
    """
    start = time.perf_counter()
    output = Path(output)
    workers = workers or default_workers()
    if workers < 1:
        raise ValueError(f"workers must be at least 1, not {workers}")
    manifest = Manifest.open(chunks_folder(output), plan.settings(), resume=resume, overwrite=overwrite)
    order: list[str] = []
    with (
        tracking(library, output, progress=progress, on_chunk=on_chunk, on_skip=on_skip) as track,
        _pool(plan, workers) as submit,
    ):
        pending: dict[Future, tuple[LibraryChunk, str]] = {}

        def collect(limit: int) -> None:
            """Record every finished chunk; wait while more than ``limit`` are in flight."""
            while pending:
                done = {f for f in pending if f.done()}
                if not done:
                    if len(pending) <= limit:
                        return
                    done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
                for future in done:
                    chunk, digest = pending.pop(future)
                    rows, errors = future.result()
                    manifest.record(chunk.chunk_id, digest, rows, errors)
                    track.finished(ChunkEvent(chunk.chunk_id, chunk.source, chunk.index, rows, errors, False))

        chunks = iter_library(library, chunk_size=chunk_size, smiles_column=plan.smiles_column, on_skip=track.skipped)
        for chunk in chunks:
            order.append(chunk.chunk_id)
            digest = chunk.digest()
            if manifest.is_done(chunk.chunk_id, digest):
                entry = manifest.chunks[chunk.chunk_id]
                track.finished(ChunkEvent(chunk.chunk_id, chunk.source, chunk.index, len(chunk), entry["errors"], True))
                continue
            collect(AHEAD_PER_WORKER * workers - 1)
            pending[submit(chunk, str(manifest.chunk_path(chunk.chunk_id)))] = (chunk, digest)
        collect(0)
    summary = track.summary
    summary.written = combine(manifest, order, output, plan, keep_chunks)
    summary.seconds = time.perf_counter() - start
    return summary
