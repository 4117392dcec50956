"""What a pretraining run writes as it goes: the per-step loss log, the progress file and the cost ledger.

* ``loss.csv`` — one row per optimizer step (step, epoch, loss, the method's metrics, molecules,
  seconds of training so far); on resume, rows after the restored step are dropped, so the file
  always matches the weights;
* ``progress.json`` — rewritten every few seconds: status, step, epoch, molecules/s, ETA, recent loss;
* ``cost.json`` — one segment per process that worked on the run (device, threads, AMP, steps,
  training and wall seconds), the basis of the cost recorded in the encoder card.
"""

from __future__ import annotations

import csv
import json
import os
import time
from collections import deque
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["CostLedger", "LossLog", "ProgressFile"]


def _write_json(path: Path, data: object) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n")
    tmp.replace(path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class LossLog:
    """``loss.csv``: appended every step, cut back to the restored step on resume."""

    def __init__(self, path: Path, metrics: Sequence[str], keep_until: int) -> None:
        self.path = path
        self.columns = ["step", "epoch", "loss", *metrics, "molecules", "train_seconds"]
        rows: list[dict[str, str]] = []
        if path.is_file() and keep_until > 0:
            with open(path, newline="") as handle:
                reader = csv.DictReader(handle)
                if reader.fieldnames == self.columns:
                    rows = [r for r in reader if int(r["step"]) <= keep_until]
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "w", newline="") as handle:
            writer = csv.DictWriter(handle, self.columns, lineterminator="\n")
            writer.writeheader()
            writer.writerows(rows)
        tmp.replace(path)
        self.rows = rows
        self._handle = open(path, "a", newline="")  # noqa: SIM115 - kept open for the run, closed in close()
        self._writer = csv.DictWriter(self._handle, self.columns, lineterminator="\n")

    def append(self, row: dict[str, float | int]) -> None:
        text = {k: (f"{v:.6g}" if isinstance(v, float) else str(v)) for k, v in row.items()}
        self._writer.writerow(text)
        self._handle.flush()
        self.rows.append(text)

    def epoch_means(self, epoch: int, keys: Sequence[str]) -> dict[str, float]:
        """Mean of ``keys`` over the logged steps of ``epoch``."""
        rows = [r for r in self.rows if int(r["epoch"]) == epoch]
        return {k: sum(float(r[k]) for r in rows) / len(rows) for k in keys} if rows else {}

    def close(self) -> None:
        self._handle.close()


class ProgressFile:
    """``progress.json``: where the run stands, for a person or a page to read while it runs."""

    def __init__(self, path: Path, method: str, total_steps: int, steps_per_epoch: int, every_s: float = 5.0) -> None:
        self.path, self.method, self.total, self.per_epoch, self.every_s = (
            path,
            method,
            total_steps,
            steps_per_epoch,
            every_s,
        )
        self.window: deque[tuple[float, int, float]] = deque(maxlen=50)  # (time, molecules, loss)
        self.last_write = 0.0

    def step(self, step: int, molecules: int, loss: float, extra: dict[str, float]) -> None:
        self.window.append((time.perf_counter(), molecules, loss))
        if time.perf_counter() - self.last_write >= self.every_s:
            self.write("running", step, extra)

    def rate(self) -> tuple[float | None, float | None]:
        """Molecules per second and seconds per step over the recent window."""
        if len(self.window) < 2:
            return None, None
        span = self.window[-1][0] - self.window[0][0]
        molecules = sum(m for _, m, _ in list(self.window)[1:])
        return (molecules / span, span / (len(self.window) - 1)) if span > 0 else (None, None)

    def write(self, status: str, step: int, extra: dict[str, float] | None = None) -> None:
        per_s, step_s = self.rate()
        epoch, in_epoch = divmod(step, self.per_epoch) if self.per_epoch else (0, 0)
        losses = [loss for _, _, loss in self.window]
        state = {
            "method": self.method,
            "status": status,
            "step": step,
            "total_steps": self.total,
            "epoch": epoch,
            "step_in_epoch": in_epoch,
            "steps_per_epoch": self.per_epoch,
            "molecules_per_s": round(per_s, 1) if per_s else None,
            "eta_s": round((self.total - step) * step_s) if step_s else None,
            "recent_loss": round(sum(losses) / len(losses), 5) if losses else None,
            **(extra or {}),
            "pid": os.getpid(),
            "updated": _now(),
        }
        _write_json(self.path, state)
        self.last_write = time.perf_counter()


class CostLedger:
    """``cost.json``: one segment per process; :meth:`update` rewrites the current one."""

    def __init__(self, path: Path, start_step: int, started: float | None = None, **segment: object) -> None:
        """``started``: ``time.perf_counter()`` when the process began this segment (default: now)."""
        self.path = path
        self.segments: list[dict] = json.loads(path.read_text())["segments"] if path.is_file() else []
        self.current = {"started": _now(), "start_step": start_step, "end_step": start_step, **segment}
        self.segments.append(self.current)
        self.started = started if started is not None else time.perf_counter()
        self.train_s = 0.0

    def update(self, step: int, train_seconds: float) -> None:
        self.train_s = train_seconds
        self.current.update(
            end_step=step,
            train_time_s=round(train_seconds, 1),
            wall_time_s=round(time.perf_counter() - self.started, 1),
        )
        _write_json(self.path, {"segments": self.segments})

    def totals(self) -> dict[str, float]:
        """Training and wall seconds summed over every segment (steps redone after a crash count twice)."""
        return {
            "train_time_s": round(sum(s.get("train_time_s", 0.0) for s in self.segments), 1),
            "wall_time_s": round(sum(s.get("wall_time_s", 0.0) for s in self.segments), 1),
        }
