"""An RBF support-vector regressor as arrays: its prediction with numpy, without scikit-learn.

``f(x) = sum_i dual_i * exp(-gamma * |x - sv_i|^2) + intercept``, with ``|x - sv|^2`` expanded as
``x.x + sv.sv - 2 x.sv`` as libsvm does. The support vectors are stored sparse (row offsets, column indices,
values: fingerprints set a few dozen of 2,048 bits) and made dense once when loaded, or dense (``support``) where
that takes fewer bytes (embeddings and descriptors, where nearly every entry is set). The SVMs of a multi-task
checkpoint (one per task, on the same molecules) can share one matrix of support vectors: :func:`share_support`
stores each distinct row once and each task's file holds ``rows`` into it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from workbench.models.builders.flat_trees import UnsupportedTrees

__all__ = ["FlatSVR", "share_support"]


@dataclass(frozen=True)
class FlatSVR:
    """Support vectors (dense float32 rows), dual coefficients, intercept and the RBF ``gamma``.

    Products are taken in float32, exact for fingerprint bits and counts; for other inputs they round at
    float32 precision.
    """

    support: np.ndarray  # (n_sv, n_features) float32
    dual: np.ndarray  # (n_sv,) float64
    intercept: float
    gamma: float

    @classmethod
    def from_sklearn(cls, model: object) -> FlatSVR:
        """A fitted ``sklearn.svm.SVR``, or a binary ``SVC`` (its :meth:`predict` is then the decision function),
        with the RBF kernel.

        Raises:
            UnsupportedTrees: for another kernel or estimator, or an SVC of more than two classes.
        """
        if getattr(model, "kernel", None) != "rbf" or not hasattr(model, "dual_coef_"):
            raise UnsupportedTrees("only fitted RBF support-vector machines are stored as arrays")
        if np.asarray(model.dual_coef_).shape[0] != 1:
            raise UnsupportedTrees("only binary support-vector classifiers are stored as arrays")
        support = np.asarray(model.support_vectors_, dtype=np.float64)
        if not np.array_equal(support.astype(np.float32), support):
            raise UnsupportedTrees("support vectors that float32 cannot hold exactly are not stored as arrays")
        return cls(
            support=support.astype(np.float32),
            dual=np.asarray(model.dual_coef_, dtype=np.float64).reshape(-1),
            intercept=float(np.asarray(model.intercept_).reshape(-1)[0]),
            gamma=float(model._gamma),
        )

    def _coefficients(self) -> dict[str, np.ndarray]:
        """``dual``, ``intercept``, ``gamma`` and the dense ``shape``: what every stored form holds."""
        return {
            "dual": np.ascontiguousarray(self.dual),
            "intercept": np.asarray([self.intercept], dtype=np.float64),
            "gamma": np.asarray([self.gamma], dtype=np.float64),
            "shape": np.asarray(self.support.shape, dtype=np.int64),
        }

    def tensors(self) -> dict[str, np.ndarray]:
        """The arrays by name: sparse support vectors (``indptr``, ``indices``, ``values`` unless all ones) or, where
        fewer bytes, the dense ``support``; ``dual``, ``intercept``, ``gamma`` and the dense ``shape``."""
        rows, cols = np.nonzero(self.support)
        index_bytes = 2 if self.support.shape[1] <= np.iinfo(np.int16).max else 4
        binary = bool((self.support[rows, cols] == 1.0).all())
        if len(rows) * (index_bytes + (0 if binary else 4)) > self.support.size * 4:
            return {"support": np.ascontiguousarray(self.support, dtype=np.float32), **self._coefficients()}
        indptr = np.zeros(len(self.support) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(self.support)), out=indptr[1:])
        values = self.support[rows, cols].astype(np.float32)
        index_type = np.int16 if index_bytes == 2 else np.int32
        arrays = {"indptr": indptr, "indices": cols.astype(index_type), **self._coefficients()}
        if not (values == 1.0).all():  # fingerprint bits are all ones: no values stored
            arrays["values"] = values
        return arrays

    @classmethod
    def from_tensors(cls, tensors: Mapping[str, np.ndarray], shared: np.ndarray | None = None) -> FlatSVR:
        """The inverse of :meth:`tensors`, with every index checked.

        Raises:
            UnsupportedTrees: for a missing array or an index out of range.
        """
        dense, rows = "support" in tensors, "rows" in tensors
        names = ("dual", "intercept", "gamma", "shape") + (() if dense or rows else ("indptr", "indices"))
        missing = [n for n in names if n not in tensors]
        if missing:
            raise UnsupportedTrees(f"missing arrays: {', '.join(missing)}")
        n_sv, n_features = (int(v) for v in tensors["shape"])
        if rows:  # row numbers into the support vectors shared by the checkpoint's tasks
            index = np.asarray(tensors["rows"], dtype=np.int64)
            if shared is None:
                raise UnsupportedTrees("the task's support vectors are shared, but no shared matrix was given")
            if (
                len(index) != n_sv
                or shared.ndim != 2
                or shared.shape[1] != n_features
                or (index.size and (index.min() < 0 or index.max() >= len(shared)))
            ):
                raise UnsupportedTrees("the support-vector arrays do not fit together")
            tensors = {**tensors, "support": np.asarray(shared, dtype=np.float32)[index]}
            dense = True
        if dense:
            support = np.asarray(tensors["support"], dtype=np.float32)
            if support.shape != (n_sv, n_features) or len(tensors["dual"]) != n_sv:
                raise UnsupportedTrees("the support-vector arrays do not fit together")
            return cls(support=support, dual=tensors["dual"].astype(np.float64),
                       intercept=float(tensors["intercept"][0]), gamma=float(tensors["gamma"][0]))  # fmt: skip
        indptr, indices = tensors["indptr"].astype(np.int64), tensors["indices"].astype(np.int64)
        values = tensors["values"] if "values" in tensors else np.ones(len(indices), dtype=np.float32)
        if (
            len(indptr) != n_sv + 1
            or indptr[0] != 0
            or (np.diff(indptr) < 0).any()
            or indptr[-1] != len(indices)
            or len(indices) != len(values)
            or (indices.size and (indices.min() < 0 or indices.max() >= n_features))
            or len(tensors["dual"]) != n_sv
        ):
            raise UnsupportedTrees("the support-vector arrays do not fit together")
        support = np.zeros((n_sv, n_features), dtype=np.float32)
        support[np.repeat(np.arange(n_sv), np.diff(indptr)), indices] = values
        return cls(
            support=support,
            dual=tensors["dual"].astype(np.float64),
            intercept=float(tensors["intercept"][0]),
            gamma=float(tensors["gamma"][0]),
        )

    def predict(self, x: np.ndarray) -> np.ndarray:
        """The regressor's value per row of ``x``."""
        x = np.asarray(x, dtype=np.float32)
        # float32 products are exact for fingerprint bits and counts (integers below 2**24)
        cross = (x @ self.support.T).astype(np.float64)
        x_norm = np.einsum("ij,ij->i", x, x, dtype=np.float64)
        sv_norm = np.einsum("ij,ij->i", self.support, self.support, dtype=np.float64)
        squared = x_norm[:, None] + sv_norm[None, :] - 2.0 * cross
        return np.exp(-self.gamma * squared) @ self.dual + self.intercept


def share_support(models: Sequence[FlatSVR]) -> tuple[np.ndarray, list[dict[str, np.ndarray]]]:
    """One matrix holding every distinct support vector of ``models`` once, and each model's arrays with ``rows``
    into it instead of its own support vectors (:meth:`FlatSVR.from_tensors` with ``shared`` reads them back)."""
    if not models:
        raise ValueError("no support-vector machines to share")
    stacked = np.concatenate([m.support for m in models])
    shared, inverse = np.unique(stacked, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    out, start = [], 0
    for m in models:
        out.append({"rows": inverse[start : start + len(m.support)].astype(np.int32), **m._coefficients()})
        start += len(m.support)
    return np.ascontiguousarray(shared, dtype=np.float32), out
