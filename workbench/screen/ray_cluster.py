"""Ray plumbing for the Ray screening engine: joining or starting Ray, sizing the actors on the cluster, quiet logs,
and the exception a task or actor really raised. Ray is imported inside the functions only."""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from typing import Any

from workbench.screen.ray_sizing import ActorSizing, StageSizing, actor_sizing, staged_sizing

__all__ = ["cluster_gpus", "cluster_sizing", "connect", "quiet_ray_data", "staged_cluster_sizing", "user_error"]


def quiet_ray_data() -> None:
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


def cluster_gpus() -> float:
    """The connected cluster's GPUs to use (none when ``WORKBENCH_DEVICE`` says CPU)."""
    import ray

    if os.environ.get("WORKBENCH_DEVICE", "").strip().lower().startswith("cpu"):
        return 0.0
    return float(ray.cluster_resources().get("GPU", 0.0))


def cluster_sizing(actors: int | None = None) -> ActorSizing:
    """:func:`actor_sizing` for the connected Ray cluster (no GPU actors when ``WORKBENCH_DEVICE`` says CPU)."""
    import ray

    return actor_sizing(ray.cluster_resources().get("CPU", 0.0), cluster_gpus(), actors)


def staged_cluster_sizing(actors: int | None = None) -> StageSizing:
    """:func:`staged_sizing` (a featurization stage before the screening actors) for the connected Ray cluster."""
    import ray

    return staged_sizing(ray.cluster_resources().get("CPU", 0.0), cluster_gpus(), actors)


def user_error(exc: BaseException) -> BaseException | None:
    """The first exception of the chain that Ray did not raise (what went wrong in a task or actor)."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if not type(current).__module__.startswith("ray"):
            return current
        current = getattr(current, "cause", None) or current.__cause__
    return None
