"""Tree ensembles as flat arrays, walked with numpy: random forests and XGBoost boosters without their libraries.

Loading a forest with skops imports all of scikit-learn (its trusted-type scan lists every estimator), and
loading a booster imports XGBoost (which imports scikit-learn): seconds of a cold start that a prediction
does not need. A tree ensemble is only arrays: per node its two children, the feature it tests, the threshold
and (at a leaf) the value. :class:`FlatTrees` holds every tree's nodes concatenated and walks all (row, tree)
pairs together, dropping each pair as it reaches its leaf, so the work is the total path length.

Decisions are the libraries' own: inputs as float32, ``x[feature] <= threshold`` goes left. scikit-learn
compares a float32 input with a float64 threshold; XGBoost goes left when ``x < condition`` (float32). Both
are stored as one float32 threshold that gives the same decision for every float32 input (the largest float32
at or below scikit-learn's threshold; the float32 just below XGBoost's condition). A forest's prediction is the
mean of its trees' leaf values (a classifier's leaf value: the normalized positive-class fraction); a booster's
is the sum of its leaf values on the base margin (float32), through the objective's link.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import chain

import numpy as np

__all__ = ["CorruptTrees", "FlatBooster", "FlatTrees", "UnsupportedTrees", "best_iteration", "used_trees"]


_FULL_ARRAYS = {
    "left": (np.int32,),
    "right": (np.int32,),
    "feature": (np.int16, np.int32),
    "threshold": (np.float32,),
    "leaf_value": (np.float64,),
    "roots": (np.int64,),
}
_COMPACT_ARRAYS = {
    "nodes": (np.int64,),
    "leaf_mask": (np.uint8,),
    "inner_right": (np.int32,),
    "inner_feature": (np.int16, np.int32),
    "inner_threshold": (np.float32,),
    "leaf_value": (np.float64,),
    "roots": (np.int64,),
}


class UnsupportedTrees(ValueError):
    """The model holds something the flat form does not represent (the caller uses the library instead)."""


class CorruptTrees(UnsupportedTrees):
    """The arrays do not describe trees (an index out of range): no library could use them either."""


@dataclass(frozen=True)
class FlatTrees:
    """Concatenated nodes of every tree; ``left == -1`` marks a leaf."""

    left: np.ndarray  # int32
    right: np.ndarray  # int32
    feature: np.ndarray  # int32
    threshold: np.ndarray  # float32: go left when x <= threshold
    value: np.ndarray  # float64: the leaf's value (0 at internal nodes)
    roots: np.ndarray  # int64: each tree's first node

    @classmethod
    def from_sklearn(cls, forest: object) -> FlatTrees:
        """A fitted scikit-learn random forest: a binary classifier (positive-class fraction) or a regressor.

        Raises:
            UnsupportedTrees: for more than two classes or several outputs.
        """
        classes = getattr(forest, "classes_", None)
        if getattr(forest, "n_outputs_", 1) != 1 or (classes is not None and len(classes) != 2):
            raise UnsupportedTrees("only binary classifiers and single-output regressors are flattened")
        parts = []
        for estimator in forest.estimators_:
            tree = estimator.tree_
            leaf = tree.children_left == -1
            if classes is not None:
                counts = tree.value[:, 0, :].astype(np.float64)
                total = counts.sum(axis=1)
                total[total == 0.0] = 1.0
                value = counts[:, 1] / total
            else:
                value = tree.value[:, 0, 0].astype(np.float64)
            threshold = _at_or_below(np.where(leaf, 0.0, tree.threshold))
            parts.append((tree.children_left, tree.children_right, np.where(leaf, 0, tree.feature), threshold, value))
        return cls._concatenate(parts)

    @classmethod
    def _concatenate(cls, parts: list[tuple[np.ndarray, ...]]) -> FlatTrees:
        left, right, feature, threshold, value, roots = [], [], [], [], [], []
        offset = 0
        for lo, hi, feat, thr, val in parts:
            leaf = np.asarray(lo) == -1
            left.append(np.where(leaf, -1, np.asarray(lo) + offset))
            right.append(np.where(leaf, -1, np.asarray(hi) + offset))
            feature.append(np.asarray(feat))
            threshold.append(np.asarray(thr, dtype=np.float32))
            value.append(np.where(leaf, np.asarray(val, dtype=np.float64), 0.0))
            roots.append(offset)
            offset += len(lo)
        return cls(
            left=np.concatenate(left).astype(np.int32),
            right=np.concatenate(right).astype(np.int32),
            feature=np.concatenate(feature).astype(np.int32),
            threshold=np.concatenate(threshold),
            value=np.concatenate(value),
            roots=np.asarray(roots, dtype=np.int64),
        )

    def tensors(self) -> dict[str, np.ndarray]:
        """The arrays by name, for safetensors: leaf values only at leaves, feature indices as int16 when they fit.

        Trees in depth-first order (each internal node's left child right after it, as scikit-learn builds
        them) are stored compactly, about half the size: a packed leaf mask, and feature, threshold and right
        child for the internal nodes only (:meth:`from_tensors` reads either form).
        """
        small = self.feature.size == 0 or int(self.feature.max()) <= np.iinfo(np.int16).max
        feature_dtype = np.int16 if small else np.int32
        inner = np.flatnonzero(self.left >= 0)
        if np.array_equal(self.left[inner], inner + 1):
            return {
                "nodes": np.asarray([len(self.left)], dtype=np.int64),
                "leaf_mask": np.packbits(self.left == -1),
                "inner_right": np.ascontiguousarray(self.right[inner]),
                "inner_feature": self.feature[inner].astype(feature_dtype),
                "inner_threshold": np.ascontiguousarray(self.threshold[inner]),
                "leaf_value": np.ascontiguousarray(self.value[self.left == -1]),
                "roots": np.ascontiguousarray(self.roots),
            }
        return {
            "left": np.ascontiguousarray(self.left),
            "right": np.ascontiguousarray(self.right),
            "feature": self.feature.astype(feature_dtype),
            "threshold": np.ascontiguousarray(self.threshold),
            "leaf_value": np.ascontiguousarray(self.value[self.left == -1]),
            "roots": np.ascontiguousarray(self.roots),
        }

    @classmethod
    def from_tensors(cls, tensors: Mapping[str, np.ndarray]) -> FlatTrees:
        """The inverse of :meth:`tensors` (either form); checks that every array fits and every index is in range.

        Raises:
            UnsupportedTrees: for a missing array, a wrong dtype or an index out of range.
        """
        if "left" not in tensors and "leaf_mask" in tensors:
            return cls._from_compact(tensors)
        _check_arrays(tensors, _FULL_ARRAYS)
        left, right = np.asarray(tensors["left"]), np.asarray(tensors["right"])
        n = len(left)
        leaf = left == -1
        if not (len(right) == len(tensors["feature"]) == len(tensors["threshold"]) == n):
            raise UnsupportedTrees("the node arrays have different lengths")
        if len(tensors["leaf_value"]) != int(leaf.sum()):
            raise UnsupportedTrees("the number of leaf values is not the number of leaves")
        value = np.zeros(n, dtype=np.float64)
        value[leaf] = tensors["leaf_value"]
        feature = np.asarray(tensors["feature"]).astype(np.int32)
        return cls(
            left, right, feature, np.asarray(tensors["threshold"]), value, np.asarray(tensors["roots"])
        ).checked()

    @classmethod
    def _from_compact(cls, tensors: Mapping[str, np.ndarray]) -> FlatTrees:
        _check_arrays(tensors, _COMPACT_ARRAYS)
        if len(tensors["nodes"]) != 1 or not 0 <= int(tensors["nodes"][0]) <= 8 * len(tensors["leaf_mask"]):
            raise UnsupportedTrees("the node count does not fit the leaf mask")
        n = int(tensors["nodes"][0])
        leaf = np.unpackbits(np.asarray(tensors["leaf_mask"]), count=n).astype(bool)
        inner = np.flatnonzero(~leaf)
        if not (len(tensors["inner_right"]) == len(tensors["inner_feature"]) == len(tensors["inner_threshold"])
                == len(inner)):  # fmt: skip
            raise UnsupportedTrees("the internal-node arrays do not match the leaf mask")
        if len(tensors["leaf_value"]) != n - len(inner):
            raise UnsupportedTrees("the number of leaf values is not the number of leaves")
        left = np.full(n, -1, dtype=np.int32)
        right = np.full(n, -1, dtype=np.int32)
        feature = np.zeros(n, dtype=np.int32)
        threshold = np.zeros(n, dtype=np.float32)
        value = np.zeros(n, dtype=np.float64)
        left[inner] = inner + 1
        right[inner] = tensors["inner_right"]
        if (right[inner] <= left[inner]).any():  # depth first: the right subtree follows the left one
            raise CorruptTrees("a right child is stored before its parent's left subtree")
        feature[inner] = tensors["inner_feature"]
        threshold[inner] = tensors["inner_threshold"]
        value[leaf] = tensors["leaf_value"]
        return cls(left, right, feature, threshold, value, np.asarray(tensors["roots"])).checked()

    def checked(self) -> FlatTrees:
        """These trees, after checking that every child, root and feature index is in range.

        Raises:
            CorruptTrees: for an index out of range (a walk could read outside the arrays).
        """
        n, inner = len(self.left), self.left >= 0
        children = np.concatenate([self.left[inner], self.right[inner]])
        if (children < 0).any() or (children >= n).any() or (self.roots < 0).any() or (self.roots >= n).any():
            raise CorruptTrees("a child or root index is out of range")
        if (self.feature[inner] < 0).any():
            raise CorruptTrees("a feature index is negative")
        return self

    @property
    def n_features(self) -> int:
        """The smallest input width the trees can read."""
        inner = self.left >= 0
        return int(self.feature[inner].max()) + 1 if inner.any() else 0

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """The leaf each row of ``x`` reaches in each tree: ``(n_rows, n_trees)`` node indices."""
        x = np.ascontiguousarray(x, dtype=np.float32)
        n_rows, n_trees = len(x), len(self.roots)
        if x.ndim != 2 or x.shape[1] < self.n_features:
            raise ValueError(f"the trees read {self.n_features} features; the input has shape {x.shape}")
        nodes = np.tile(self.roots, n_rows)
        rows = np.repeat(np.arange(n_rows), n_trees)
        active = np.flatnonzero(self.left[nodes] >= 0)
        # a path visits each node of its tree at most once: more steps than the largest tree means a cycle
        for _ in range(self._largest_tree()):
            if not active.size:
                break
            at = nodes[active]
            goes_left = x[rows[active], self.feature[at]] <= self.threshold[at]
            at = np.where(goes_left, self.left[at], self.right[at])
            nodes[active] = at
            active = active[self.left[at] >= 0]
        if active.size:
            raise ValueError("the trees hold a cycle: a walk did not reach a leaf")
        return nodes.reshape(n_rows, n_trees)

    def _largest_tree(self) -> int:
        sizes = np.diff(np.append(self.roots, len(self.left)))
        return int(sizes.max()) if sizes.size else 0

    def mean(self, x: np.ndarray) -> np.ndarray:
        """A forest's prediction: the mean leaf value over trees, per row."""
        return self.value[self.leaves(x)].mean(axis=1)


@dataclass(frozen=True)
class FlatBooster:
    """An XGBoost ``gbtree`` booster with one output: its trees, base margin and objective."""

    trees: FlatTrees
    base_margin: np.float32
    objective: str

    LINKS = ("binary:logistic", "reg:squarederror")

    @classmethod
    def from_json(cls, document: Mapping) -> FlatBooster:
        """A booster from XGBoost's JSON model (``Booster.save_raw(raw_format="json")``), cut at its best iteration.

        A booster trained with early stopping keeps the trees grown after its best iteration; XGBoost's
        scikit-learn interface (and so the training run's metrics) predicts with the trees up to
        ``best_iteration`` only, and so does this (:func:`used_trees`).

        Raises:
            UnsupportedTrees: for anything but a single-output ``gbtree`` with numerical splits and one of
                :attr:`LINKS` as objective.
        """
        try:
            learner = document["learner"]
            params = learner["learner_model_param"]
            objective = learner["objective"]["name"]
            booster = learner["gradient_booster"]
            model = booster["model"]
            raw_trees = model["trees"][: used_trees(document)]
            base = float(str(params["base_score"]).strip("[]"))
            single = params.get("num_class", "0") in ("0", "1") and params.get("num_target", "1") == "1"
            parallel = model["gbtree_model_param"].get("num_parallel_tree", "1") == "1"
        except (KeyError, TypeError, ValueError) as exc:
            raise UnsupportedTrees(f"not an XGBoost JSON model ({exc})") from exc
        if booster.get("name") != "gbtree" or not single or not parallel or objective not in cls.LINKS:
            raise UnsupportedTrees(f"only single-output gbtree boosters with {', '.join(cls.LINKS)} are flattened")
        if not raw_trees:
            raise UnsupportedTrees("the booster has no trees")
        if any(chain.from_iterable(tree.get("split_type", ()) for tree in raw_trees)):
            raise UnsupportedTrees("categorical splits are not flattened")
        trees = _booster_trees(raw_trees)
        if objective == "binary:logistic":
            if not 0.0 < base < 1.0:
                raise UnsupportedTrees(f"base_score {base} is not a probability")
            margin = np.float32(np.log(np.float32(base) / (np.float32(1.0) - np.float32(base))))
        else:
            margin = np.float32(base)
        return cls(trees, margin, objective)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The booster's output per row: a probability (``binary:logistic``) or a value."""
        leaf_values = self.trees.value[self.trees.leaves(x)].astype(np.float32)
        margin = self.base_margin + leaf_values.sum(axis=1, dtype=np.float32)
        if self.objective == "binary:logistic":
            return (np.float32(1.0) / (np.float32(1.0) + np.exp(-margin))).astype(np.float64)
        return margin.astype(np.float64)


def _check_arrays(tensors: Mapping[str, np.ndarray], expected: Mapping[str, tuple[type, ...]]) -> None:
    """Every expected array is present, one-dimensional and of an allowed dtype."""
    for name, dtypes in expected.items():
        array = tensors.get(name)
        if array is None or array.dtype not in dtypes or array.ndim != 1:
            raise UnsupportedTrees(f"'{name}' is missing or not a one-dimensional {np.dtype(dtypes[0]).name} array")


def _booster_trees(raw_trees: list) -> FlatTrees:
    """Every tree's node lists concatenated at once (one numpy conversion per field, not per tree)."""
    sizes = np.fromiter((len(tree["left_children"]) for tree in raw_trees), dtype=np.int64, count=len(raw_trees))
    total = int(sizes.sum())
    roots = np.zeros(len(raw_trees), dtype=np.int64)
    np.cumsum(sizes[:-1], out=roots[1:])

    def field(name: str, dtype: type) -> np.ndarray:
        return np.fromiter(chain.from_iterable(tree[name] for tree in raw_trees), dtype=dtype, count=total)

    left, right = field("left_children", np.int64), field("right_children", np.int64)
    condition = field("split_conditions", np.float32)
    leaf = left == -1
    shift = np.repeat(roots, sizes)
    # XGBoost goes left when x < condition: for float32 x that is x <= the float32 just below it
    below = np.nextafter(condition, np.float32(-np.inf), dtype=np.float32)
    trees = FlatTrees(
        left=np.where(leaf, -1, left + shift).astype(np.int32),
        right=np.where(leaf, -1, right + shift).astype(np.int32),
        feature=np.where(leaf, 0, field("split_indices", np.int64)).astype(np.int32),
        threshold=np.where(leaf, np.float32(0.0), below),
        value=np.where(leaf, condition.astype(np.float64), 0.0),  # a leaf's condition holds its value
        roots=roots,
    )
    return trees.checked()


def best_iteration(document: Mapping) -> int | None:
    """The ``best_iteration`` an early-stopped booster's JSON records (``None`` when it records none)."""
    try:
        return int(document["learner"]["attributes"]["best_iteration"])
    except (KeyError, TypeError, ValueError):
        return None


def used_trees(document: Mapping) -> int | None:
    """How many of the booster's trees its predictions use: those up to its best iteration (``None``: all)."""
    best = best_iteration(document)
    if best is None:
        return None
    try:
        indptr = document["learner"]["gradient_booster"]["model"]["iteration_indptr"]
        return int(indptr[best + 1])
    except (KeyError, TypeError, IndexError, ValueError):
        return best + 1


def _at_or_below(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 at or below each float64 threshold (same ``<=`` decision for every float32 input)."""
    rounded = threshold.astype(np.float32)
    above = rounded.astype(np.float64) > threshold
    rounded[above] = np.nextafter(rounded[above], np.float32(-np.inf), dtype=np.float32)
    return rounded
