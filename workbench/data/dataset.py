"""The in-memory form every loader returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["MolDataset"]


@dataclass
class MolDataset:
    """A table of molecules with targets.

    Attributes:
        name: the data set's key (e.g. ``"bbbp"``).
        frame: one row per molecule: ``smiles``, one column per task, and any
            extra columns the source provides (e.g. ``split``, ``cliff_mol``).
        tasks: names of the target columns.
        task_type: ``"classification"`` or ``"regression"``.
        path: the file it was read from.
        sha256: digest of that file (recorded in checkpoint cards).
    """

    name: str
    frame: pd.DataFrame
    tasks: list[str]
    task_type: str
    path: Path
    sha256: str
    units: str = ""
    meta: dict[str, object] = field(default_factory=dict)

    @property
    def smiles(self) -> list[str]:
        return self.frame["smiles"].astype(str).tolist()

    @property
    def y(self) -> np.ndarray:
        """Targets as float32 ``(n, n_tasks)``; NaN marks a missing label."""
        return self.frame[self.tasks].to_numpy(dtype=np.float32, na_value=np.nan)

    def __len__(self) -> int:
        return len(self.frame)
