"""What a benchmark report says about the machine it ran on: read while the benchmark runs, never assumed."""

from __future__ import annotations

import os
import platform

__all__ = ["describe_machine", "load_average"]


def load_average() -> float | None:
    """The 1-minute load average (runnable processes, ours included), or ``None`` where the OS has none."""
    try:
        return os.getloadavg()[0]
    except (AttributeError, OSError):
        return None


def describe_machine(load_at_start: float | None) -> str:
    """``host (N CPUs, Python x.y.z, arch); 1-minute load average a at the start and b at the end of the run``."""
    text = (
        f"{platform.node() or 'unknown host'} ({os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.processor() or platform.machine()})"
    )
    load_at_end = load_average()
    if load_at_start is not None and load_at_end is not None:
        text += (
            f"; 1-minute load average {load_at_start:.1f} at the start and {load_at_end:.1f} at the end of the run "
            "(a load above the CPU count means runnable processes waited for a CPU)"
        )
    return text


def run_machine(load: float | None, fitted: bool) -> str:
    """The machine line of a resumable benchmark's report: with its load when the command fitted cells, else a
    note that it only rewrote the report from the stored cells."""
    if fitted:
        return describe_machine(load)
    return describe_machine(None) + " (this command fitted no cell: it only rewrote the report from the stored cells)"
