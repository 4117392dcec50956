"""What a screen will compute and write, checked before any molecule is read.

A :class:`ScreenPlan` fixes the models, the descriptors (only those ``--where`` or ``--by`` name), the
optional text prompt, and from them the output columns in order: ``source``, ``row``, ``smiles`` (the
input), ``canonical_smiles``, each model's ``MODEL:TASK`` and ``MODEL:TASK:std`` (and ``:lo`` /
``:hi`` for models with conformal intervals), the descriptors, ``prompt_score``, ``error`` and
``warnings``. Every chunk is written with exactly these columns and types, so chunks combine into one file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workbench.screen.descriptors import SCREEN_DESCRIPTORS
from workbench.screen.where import WhereError, WhereExpression, parse_where, unknown_column_message

if TYPE_CHECKING:
    import pyarrow as pa

    from workbench.models import Checkpoint

__all__ = ["BASE_COLUMNS", "PROMPT_COLUMN", "TEXT_COLUMNS", "ScreenPlan", "model_columns", "plan_screen"]

#: Columns every screen writes first, and last.
BASE_COLUMNS = ("source", "row", "smiles", "canonical_smiles")
TAIL_COLUMNS = ("error", "warnings")
TEXT_COLUMNS = ("source", "smiles", "canonical_smiles", "error", "warnings")
PROMPT_COLUMN = "prompt_score"


def model_columns(checkpoint: Checkpoint) -> list[str]:
    """The columns :func:`workbench.predict.inference.predict_parsed` adds for one checkpoint, in its order."""
    from workbench.predict.calibration import interval_halfwidths

    if checkpoint.architecture == "tabular":  # a user model: its conformal half-widths are in its config
        config = checkpoint.card.architecture.config or {}
        widths = (config.get("conformal") or {}).get("halfwidth") or []
    else:  # a shipped checkpoint: from its card's calibration block, if any
        calibrated = interval_halfwidths(checkpoint.card)
        widths = [] if calibrated is None else calibrated.tolist()
    columns = []
    for t, task in enumerate(checkpoint.tasks):
        columns += [f"{checkpoint.name}:{task}", f"{checkpoint.name}:{task}:std"]
        if t < len(widths) and widths[t] is not None and math.isfinite(float(widths[t])):
            columns += [f"{checkpoint.name}:{task}:lo", f"{checkpoint.name}:{task}:hi"]
    return columns


@dataclass(frozen=True)
class ScreenPlan:
    """The models, descriptors and prompt of a screen, its output columns, and its filter and ranking."""

    models: tuple[Checkpoint, ...]
    descriptors: tuple[str, ...]
    prompt: str | None
    where: WhereExpression | None
    top: int | None
    by: str | None
    ascending: bool = False
    smiles_column: str | None = None
    batch_size: int = 256
    precision: str | None = None

    @property
    def score_columns(self) -> list[str]:
        """Every model column, in model order."""
        return [c for m in self.models for c in model_columns(m)]

    @property
    def columns(self) -> list[str]:
        """The output columns, in order."""
        prompt = [PROMPT_COLUMN] if self.prompt else []
        return [*BASE_COLUMNS, *self.score_columns, *self.descriptors, *prompt, *TAIL_COLUMNS]

    def schema(self) -> pa.Schema:
        """The Arrow schema of every chunk and of the output (text, ``row`` int64, the rest float64)."""
        import pyarrow as pa

        def kind(column: str) -> pa.DataType:
            if column in TEXT_COLUMNS:
                return pa.string()
            return pa.int64() if column == "row" else pa.float64()

        return pa.schema([(c, kind(c)) for c in self.columns])

    def settings(self) -> dict[str, Any]:
        """What decides the content of a chunk (recorded in the manifest; ``--resume`` needs the same)."""
        return {
            "models": [{"name": m.name, "weights": [w.sha256 for w in m.card.weights]} for m in self.models],
            "descriptors": list(self.descriptors),
            "prompt": self.prompt,
            "smiles_column": self.smiles_column,
            "precision": self.precision,
            "columns": self.columns,
        }


def _hints(chosen: Sequence[Checkpoint], registered: Sequence[Checkpoint]) -> dict[str, str]:
    """Advice for a column of a registered model the run does not use, and for ``prompt_score``."""
    names = {m.name for m in chosen}
    hints = {}
    for checkpoint in registered:
        if checkpoint.name not in names:
            for column in model_columns(checkpoint):
                hints[column] = f"it comes from the model '{checkpoint.name}': add it to --models"
    hints[PROMPT_COLUMN] = "it is only computed with --prompt TEXT"
    return hints


def plan_screen(
    models: Sequence[Checkpoint],
    *,
    where: str | None = None,
    top: int | None = None,
    by: str | None = None,
    ascending: bool = False,
    prompt: str | None = None,
    registered: Sequence[Checkpoint] = (),
    smiles_column: str | None = None,
    batch_size: int = 256,
    precision: str | None = None,
) -> ScreenPlan:
    """Check the filter and ranking against the columns the run will produce, and fix those columns.

    Args:
        models: the checkpoints to predict with (none: parse, descriptors and prompt only).
        where: a filter expression (:func:`workbench.screen.where.parse_where`).
        top, by: keep the ``top`` rows with the largest ``by`` (smallest with ``ascending``).
        registered: every registered checkpoint, to advise when a column belongs to one not chosen.

    Raises:
        WhereError: the expression is refused, or names a column the run will not produce; ``--top`` and
            ``--by`` given without each other or with a bad value.
    """
    expression = parse_where(where) if where is not None else None
    if (top is None) != (by is None):
        raise WhereError("--top N and --by COLUMN go together")
    if top is not None and top < 1:
        raise WhereError(f"--top must be at least 1, not {top}")
    if prompt is not None and not prompt.strip():
        raise WhereError("the --prompt text is empty")
    wanted = [*(expression.columns if expression else []), *([by] if by else [])]
    descriptors = tuple(d for d in SCREEN_DESCRIPTORS if d in wanted)
    plan = ScreenPlan(
        tuple(models),
        descriptors,
        prompt.strip() if prompt else None,
        expression,
        top,
        by,
        ascending,
        smiles_column,
        batch_size,
        precision,
    )
    available = set(plan.columns) | set(SCREEN_DESCRIPTORS)
    hints = _hints(models, registered)
    if expression is not None:
        expression.check_columns(available, hints)
    if by is not None and by not in available:
        raise WhereError(unknown_column_message(by, available, hints).replace("in --where", "in --by"))
    return plan
