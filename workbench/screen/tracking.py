"""The bookkeeping of a screening run that both engines share: finished-chunk events, the run's summary and
progress bar, and combining the finished chunks into the output file."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workbench.screen.library import count_rows
from workbench.screen.manifest import Manifest
from workbench.screen.output import write_output
from workbench.screen.plan import ScreenPlan

__all__ = ["ChunkEvent", "RunTracker", "ScreenSummary", "combine", "tracking"]


@dataclass(frozen=True)
class ChunkEvent:
    """A chunk finished (computed now, or found finished by ``resume``)."""

    chunk_id: str
    source: str
    index: int
    rows: int
    errors: int
    resumed: bool


@dataclass
class ScreenSummary:
    """What a screen did: rows read and with an error, rows written, chunks computed and resumed, time."""

    output: Path
    rows: int = 0
    errors: int = 0
    written: int = 0
    chunks: int = 0
    resumed_chunks: int = 0
    resumed_rows: int = 0
    seconds: float = 0.0
    skipped: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        """Molecules computed per second (resumed chunks not counted)."""
        return (self.rows - self.resumed_rows) / self.seconds if self.seconds > 0 else 0.0


class RunTracker:
    """What the driver of a run (either engine) counts and reports: the summary, the progress bar, the callbacks."""

    def __init__(
        self,
        summary: ScreenSummary,
        bar: Any,
        on_chunk: Callable[[ChunkEvent], None] | None,
        on_skip: Callable[[str], None] | None,
    ) -> None:
        self.summary, self.bar, self.on_chunk, self.on_skip = summary, bar, on_chunk, on_skip

    def skipped(self, message: str) -> None:
        """A file of the library folder was skipped or cut short."""
        self.summary.skipped.append(message)
        if self.on_skip is not None:
            self.on_skip(message)
        else:
            import warnings

            from workbench.screen.library import UnreadableFileWarning

            warnings.warn(message, UnreadableFileWarning, stacklevel=2)

    def finished(self, event: ChunkEvent) -> None:
        """A chunk is finished (computed and recorded, or found by ``resume``)."""
        summary, bar = self.summary, self.bar
        summary.rows += event.rows
        summary.errors += event.errors
        summary.chunks += 1
        if event.resumed:
            summary.resumed_chunks += 1
            summary.resumed_rows += event.rows
            if bar.total:
                bar.total = max(0, bar.total - event.rows)
                bar.refresh()
        else:
            bar.update(event.rows)
        if self.on_chunk is not None:
            self.on_chunk(event)


@contextmanager
def tracking(
    library: str | Path,
    output: Path,
    *,
    progress: bool,
    on_chunk: Callable[[ChunkEvent], None] | None,
    on_skip: Callable[[str], None] | None,
) -> Iterator[RunTracker]:
    """A :class:`RunTracker` with its progress bar on stderr (molecules, molecules/s, ETA) when ``progress``."""
    from tqdm.auto import tqdm

    total = count_rows(library) if progress else None
    with tqdm(total=total, unit="mol", desc="screening", disable=not progress, file=sys.stderr, smoothing=0.1) as bar:
        yield RunTracker(ScreenSummary(output), bar, on_chunk, on_skip)


def combine(manifest: Manifest, order: list[str], output: Path, plan: ScreenPlan, keep_chunks: bool) -> int:
    """Write the output from the chunks in library ``order`` (filter, top N); remove the chunks folder unless kept."""
    written = write_output(
        [manifest.chunk_path(c) for c in order],
        output,
        plan.schema(),
        where=plan.where,
        top=plan.top,
        by=plan.by,
        ascending=plan.ascending,
    )
    if not keep_chunks:
        manifest.remove()
    return written
