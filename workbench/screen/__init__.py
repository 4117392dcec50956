"""Virtual screening at scale: a library file or folder, streamed in chunks through the shared predictors.

:func:`plan_screen` checks what a run will compute (models, descriptors, ``--where`` filter, ``--top``
ranking) before any molecule is read; :func:`run_screen` runs it with the local engine (a process pool,
resumable chunk files, one output Parquet file written atomically), :func:`run_ray_screen` with Ray Data on a
local Ray or a cluster (the same output file). Importing this package imports neither torch nor Ray: the
workers load the models, and the Ray engine imports Ray when it runs.
"""

from workbench.screen.descriptors import SCREEN_DESCRIPTORS, compute_descriptors
from workbench.screen.engine import ChunkEvent, ScreenSummary, default_workers, run_screen, screen_frame
from workbench.screen.library import (
    LibraryChunk,
    LibraryError,
    UnreadableFileWarning,
    count_rows,
    iter_library,
    moses_path,
    resolve_library,
)
from workbench.screen.manifest import Manifest, ResumeError, chunks_folder
from workbench.screen.output import top_rows, write_output
from workbench.screen.plan import ScreenPlan, model_columns, plan_screen
from workbench.screen.ray_engine import ActorSizing, actor_sizing, run_ray_screen
from workbench.screen.where import WhereError, WhereExpression, parse_where

__all__ = [
    "SCREEN_DESCRIPTORS",
    "ActorSizing",
    "ChunkEvent",
    "LibraryChunk",
    "LibraryError",
    "Manifest",
    "ResumeError",
    "ScreenPlan",
    "ScreenSummary",
    "UnreadableFileWarning",
    "WhereError",
    "WhereExpression",
    "actor_sizing",
    "chunks_folder",
    "compute_descriptors",
    "count_rows",
    "default_workers",
    "iter_library",
    "model_columns",
    "moses_path",
    "parse_where",
    "plan_screen",
    "resolve_library",
    "run_ray_screen",
    "run_screen",
    "screen_frame",
    "top_rows",
    "write_output",
]
