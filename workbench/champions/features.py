"""A data set's feature matrices for the champion search: each set fitted on the training molecules, built once.

Descriptor normalization is fitted on the training split only (:func:`workbench.featurizers.fit_features`), and a
descriptor that cannot be computed for a molecule is imputed with the training median and counted (the report
prints how many rows had one). MiniMol embeddings come from the cache the MiniMol heads use
(:func:`workbench.train.minimol_heads.embed_dataset`): about 150 molecules/s here, so HIV or MUV take minutes
once. A molecule MiniMol cannot embed is not *usable* for that set: it is left out of training and predicted as
the training mean, so every feature set is scored on the same test molecules. RDKit 2D rows (about 25 ms a
molecule: HIV's 41,000 take about 17 minutes, MUV's 93,000 about 40) are kept in ``rows_cache`` (default: the
workbench cache's ``descriptor_rows`` folder, as for the approved-drug reference), so a resumed search does
not compute them again, and the training pass and the pass over all molecules compute each row once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from workbench.data.prepared import Prepared

__all__ = ["DatasetFeatures", "FeatureMatrix"]


@dataclass(frozen=True)
class FeatureMatrix:
    """One feature set over every molecule of a data set."""

    x: np.ndarray  # (n, width) float32
    usable: np.ndarray  # (n,) bool: False where the features could not be computed
    noted: int  # rows with a note (a descriptor imputed)


@dataclass
class DatasetFeatures:
    """The feature matrices of one prepared data set, computed on first use and kept."""

    prep: Prepared
    minimol_cache: Path | None = Path("runs/minimol")
    rows_cache: Path | None = None
    _built: dict[str, FeatureMatrix] = field(default_factory=dict, repr=False)

    def __call__(self, name: str) -> FeatureMatrix:
        """The matrix of feature set ``name`` (a name of ``FEATURE_SETS``)."""
        if name not in self._built:
            self._built[name] = self._build(name)
        return self._built[name]

    def _build(self, name: str) -> FeatureMatrix:
        if name.startswith("minimol"):
            return self._minimol(name)
        from workbench.data.paths import cache_dir
        from workbench.featurizers import fit_features
        from workbench.featurizers.descriptor_store import ROWS_FOLDER, descriptor_rows_on_disk

        train = [self.prep.mols[i] for i in self.prep.split.train]
        with descriptor_rows_on_disk(self.rows_cache or cache_dir() / ROWS_FOLDER):
            x, notes = fit_features(name, train).transform(self.prep.mols)
        return FeatureMatrix(x.astype(np.float32), np.ones(len(x), bool), sum(bool(n) for n in notes))

    def _minimol(self, name: str) -> FeatureMatrix:
        from workbench.train.minimol_heads import embed_dataset

        x, errors = embed_dataset(self.prep, self.minimol_cache)
        usable = np.array([not e for e in errors], bool)
        x = np.nan_to_num(np.asarray(x, np.float32))
        noted = 0
        if name != "minimol":  # minimol+rdkit2d: the embedding, then the descriptors
            descriptors = self(name.split("+", 1)[1])
            x, noted = np.concatenate([x, descriptors.x], axis=1), descriptors.noted
        return FeatureMatrix(x, usable, noted)

    def forget(self) -> None:
        """Drop the matrices (the next data set's can take their memory)."""
        self._built.clear()
