"""A fitted binary random forest as flat arrays, walked for all trees at once with numpy.

scikit-learn's ``predict_proba`` visits the trees one after another (a Python call and input checks per
tree): about 45 ms for one molecule through a 200-tree forest here, most of the Property prediction page's
model time for one molecule. Walking every tree in lock-step over concatenated node arrays takes about
a millisecond for a few molecules; for large batches scikit-learn's per-tree Cython loop is faster, so
:meth:`FlatForest.predict_positive` is meant for small batches (the caller chooses).

Same decisions as scikit-learn: inputs as float32, ``x[feature] <= threshold`` goes left, a leaf's class
fractions normalized to sum 1, the forest's probability the mean over trees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["FlatForest"]


@dataclass(frozen=True)
class FlatForest:
    """Concatenated nodes of every tree; a leaf points to itself, so extra steps leave it in place."""

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    positive: np.ndarray  # per node: the normalized fraction of the positive class (meaningful at leaves)
    roots: np.ndarray
    depth: int

    @classmethod
    def from_forest(cls, forest: object) -> FlatForest | None:
        """The flat form of a fitted binary, single-output forest classifier; ``None`` for anything else."""
        classes = getattr(forest, "classes_", None)
        trees = getattr(forest, "estimators_", None)
        if classes is None or trees is None or len(classes) != 2 or getattr(forest, "n_outputs_", 1) != 1:
            return None
        left, right, feature, threshold, positive, roots = [], [], [], [], [], []
        offset = 0
        for estimator in trees:
            tree = estimator.tree_
            n = tree.node_count
            nodes = np.arange(n)
            leaf = tree.children_left == -1
            left.append(np.where(leaf, nodes, tree.children_left) + offset)
            right.append(np.where(leaf, nodes, tree.children_right) + offset)
            feature.append(np.where(leaf, 0, tree.feature))
            threshold.append(np.where(leaf, np.inf, tree.threshold))
            value = tree.value[:, 0, :].astype(np.float64)
            total = value.sum(axis=1)
            total[total == 0.0] = 1.0
            positive.append(value[:, 1] / total)
            roots.append(offset)
            offset += n
        return cls(
            left=np.concatenate(left).astype(np.int64),
            right=np.concatenate(right).astype(np.int64),
            feature=np.concatenate(feature).astype(np.int64),
            threshold=np.concatenate(threshold).astype(np.float64),
            positive=np.concatenate(positive),
            roots=np.asarray(roots, dtype=np.int64),
            depth=max(int(e.tree_.max_depth) for e in trees),
        )

    def predict_positive(self, x: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of ``x`` (``forest.predict_proba(x)[:, 1]``)."""
        x = np.asarray(x, dtype=np.float32)
        rows = np.arange(len(x))[:, None]
        nodes = np.broadcast_to(self.roots, (len(x), len(self.roots))).copy()
        for _ in range(self.depth):
            goes_left = x[rows, self.feature[nodes]] <= self.threshold[nodes]
            nodes = np.where(goes_left, self.left[nodes], self.right[nodes])
        return self.positive[nodes].mean(axis=1)
