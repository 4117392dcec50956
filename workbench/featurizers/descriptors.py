"""RDKit 2D descriptors for tabular models: raw values with per-row failures, and a normalization fitted on training.

Choices:

- **The list** is RDKit's own, ``rdkit.Chem.Descriptors._descList``, in its order (217 names in RDKit 2026.09).
  A fit records the names it used, so a stored model keeps its columns when a later RDKit adds descriptors; a
  recorded name this RDKit lacks is refused when the normalization is read back.
- **Ipc is kept as log1p(Ipc)**, under the name ``Ipc_log1p`` at Ipc's place. Bonchev's unscaled information
  content grows faster than exponentially with size (5.3e9 on ESOL's largest molecules already), so raw it would
  cross the 1e10 rule below on ordinary drug-sized molecules and overflow on large ones. ``AvgIpc`` is unchanged.
- **Nothing is dropped for speed**: the slowest computation, the characteristic polynomial behind Ipc and AvgIpc
  (about 6 ms per drug-sized molecule), is done once for both; ``qed`` takes about 1 ms; the fragment counts and
  BCUT2D values are each a fraction of that.
- **A failure never raises**: a descriptor that throws, is NaN or inf, or has ``|value| > 1e10`` is NaN for that
  row and named in the row's failures (Gasteiger charges of unusual elements and BCUT2D on atoms without
  parameters are the usual cases). Each molecule is copied first, so the charges and rings RDKit caches while
  computing do not land on the caller's molecule.
- **The normalization** is fitted on the training molecules: per descriptor the median of the computed values
  (imputation), clip bounds at their 0.5 and 99.5 percentiles, then mean and standard deviation (ddof 0) of the
  imputed and clipped training column, so a training column has mean 0; a standard deviation of 0 becomes 1. A
  descriptor that failed on every training molecule is imputed with 0 and listed in ``untrained``. Transform =
  impute, clip, standardize, float32; every imputed value is named in the row's note.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Sequence

import numpy as np
import rdkit
from rdkit import Chem, rdBase
from rdkit.Chem import Descriptors, Graphs
from rdkit.ML.InfoTheory import entropy

from workbench.featurizers.descriptor_store import active_store

__all__ = [
    "MAX_ABS_VALUE",
    "apply_normalization",
    "check_normalization",
    "clear_descriptor_cache",
    "default_descriptor_names",
    "descriptor_functions",
    "fit_normalization",
    "rdkit2d_raw",
]

#: A descriptor value beyond this magnitude is treated as a failure (NaN), as are NaN and inf.
MAX_ABS_VALUE = 1e10
#: Percentiles of the computed training values that bound each descriptor.
CLIP_PERCENTILES = (0.5, 99.5)
_LOG_IPC = "Ipc_log1p"
_ARRAY_KEYS = ("median", "clip_low", "clip_high", "mean", "std")


def _characteristic_polynomial(mol: Chem.Mol) -> np.ndarray:
    """``|coefficients|`` of the characteristic polynomial of the hydrogen-suppressed adjacency matrix, as RDKit's
    ``GraphDescriptors.Ipc`` computes them, kept on the molecule: Ipc and AvgIpc share this one computation (the
    slowest of the list: about 6 ms per drug-sized molecule)."""
    cached = getattr(mol, "_workbench_cpoly", None)
    if cached is None:
        try:
            distances = mol._adjMat
        except AttributeError:
            distances = Chem.GetDistanceMatrix(mol, False)
            mol._adjMat = distances
        cached = abs(Graphs.CharacteristicPolynomial(mol, np.equal(distances, 1)))
        mol._workbench_cpoly = cached
    return cached


def _log_ipc(mol: Chem.Mol) -> float:
    coefficients = _characteristic_polynomial(mol)
    return math.log1p(sum(coefficients) * entropy.InfoEntropy(coefficients))  # RDKit's Ipc, then log1p


def _avg_ipc(mol: Chem.Mol) -> float:
    return entropy.InfoEntropy(_characteristic_polynomial(mol))  # RDKit's AvgIpc


_SHARED = {"Ipc": (_LOG_IPC, _log_ipc), "AvgIpc": ("AvgIpc", _avg_ipc)}


@functools.cache
def descriptor_functions() -> dict[str, Callable[[Chem.Mol], float]]:
    """Every descriptor this RDKit offers, by name, in ``Descriptors._descList`` order (Ipc as ``Ipc_log1p``).

    Ipc and AvgIpc give RDKit's values from one characteristic polynomial per molecule (tested against RDKit's)."""
    return dict(_SHARED.get(name, (name, fn)) for name, fn in Descriptors._descList)


def default_descriptor_names() -> tuple[str, ...]:
    """The names a new fit uses: all of :func:`descriptor_functions`, in order."""
    return tuple(descriptor_functions())


def _value(fn: Callable[[Chem.Mol], float], mol: Chem.Mol) -> float:
    try:
        value = float(fn(mol))
    except Exception:  # any descriptor failure becomes a missing value, named in the row's note
        return math.nan
    return value if math.isfinite(value) and abs(value) <= MAX_ABS_VALUE else math.nan


#: Descriptor rows kept per process, by (names, canonical SMILES): a server computes the approved drugs' rows once
#: for every model saved, and a training run once for its candidates and refit (217 float64 = 1.7 KB per molecule).
DESCRIPTOR_CACHE = 20_000
_COMPUTED: dict[tuple[tuple[str, ...], str], np.ndarray] = {}
_COMPUTED_LOCK = threading.Lock()


def clear_descriptor_cache() -> None:
    """Forget the cached descriptor rows (after the descriptor functions changed, e.g. in a test)."""
    with _COMPUTED_LOCK:
        _COMPUTED.clear()


def rdkit2d_raw(
    mols: Sequence[Chem.Mol | None], *, names: Sequence[str] | None = None
) -> tuple[np.ndarray, list[list[str]]]:
    """RDKit 2D descriptors of a batch, NaN where one failed.

    Args:
        mols: molecules; a ``None`` row fails on every descriptor.
        names: descriptors to compute, in this order (default :func:`default_descriptor_names`).

    Returns:
        ``float64`` array ``(n, len(names))`` and, per row, the names that failed (threw, NaN, inf or
        ``|value| > 1e10``).
    """
    table = descriptor_functions()
    names = default_descriptor_names() if names is None else tuple(names)
    unknown = [n for n in names if n not in table]
    if unknown:
        raise ValueError(f"RDKit {rdkit.__version__} has no descriptor named {', '.join(unknown)}.")
    fns = [table[n] for n in names]
    store = active_store()  # inside descriptor_rows_on_disk: rows of earlier processes are read from a file
    stored = store.rows(names) if store is not None else {}
    out = np.full((len(mols), len(names)), np.nan)
    failed: list[list[str]] = []
    with rdBase.BlockLogs(), np.errstate(all="ignore"):
        for i, mol in enumerate(mols):
            if mol is None:
                failed.append(list(names))
                continue
            copy = Chem.Mol(mol)  # MolToSmiles and descriptors set properties: never on the caller's
            smiles = Chem.MolToSmiles(copy)
            key = (names, smiles)
            row = _COMPUTED.get(key)
            if row is None:
                row = stored.get(smiles)
            if row is None:
                row = np.array([_value(fn, copy) for fn in fns])
                if store is not None:
                    store.remember(names, smiles, row)
                with _COMPUTED_LOCK:
                    _COMPUTED[key] = row
                    while len(_COMPUTED) > DESCRIPTOR_CACHE:
                        _COMPUTED.pop(next(iter(_COMPUTED)))
            out[i] = row
            failed.append([n for n, v in zip(names, out[i], strict=True) if math.isnan(v)])
    return out, failed


def fit_normalization(raw: np.ndarray, names: Sequence[str]) -> dict:
    """Median, clip bounds, mean and std per descriptor from the raw training matrix (JSON-serializable lists).

    Returns:
        ``{"names", "median", "clip_low", "clip_high", "mean", "std", "untrained", "n_missing", "n_train"}``;
        ``untrained`` names the descriptors that failed on every training molecule (imputed with 0).
    """
    if raw.ndim != 2 or raw.shape[1] != len(names):
        raise ValueError(f"expected a (n, {len(names)}) descriptor matrix, got shape {raw.shape}.")
    if raw.shape[0] == 0:
        raise ValueError("the descriptor normalization needs at least one training molecule.")
    columns: dict[str, list[float]] = {k: [] for k in _ARRAY_KEYS}
    untrained, n_missing = [], []
    for j, name in enumerate(names):
        col = raw[:, j]
        seen = col[~np.isnan(col)]
        n_missing.append(int(col.size - seen.size))
        if seen.size == 0:
            untrained.append(name)
            median = low = high = 0.0
        else:
            median = float(np.median(seen))
            low, high = (float(v) for v in np.percentile(seen, CLIP_PERCENTILES))
        clipped = np.clip(np.where(np.isnan(col), median, col), low, high)
        if low == high:  # constant after clipping: standardizes to exactly 0
            mean, std = low, 1.0
        else:
            mean, std = float(clipped.mean()), float(clipped.std())
            if not std > 1e-12 * max(1.0, abs(mean)):
                std = 1.0
        for key, value in zip(_ARRAY_KEYS, (median, low, high, mean, std), strict=True):
            columns[key].append(value)
    return {
        "names": list(names),
        **columns,
        "untrained": untrained,
        "n_missing": n_missing,
        "n_train": int(raw.shape[0]),
        "rdkit_version": rdkit.__version__,
        "transforms": {_LOG_IPC: "log1p(rdkit.Chem.Descriptors.Ipc)"} if _LOG_IPC in names else {},
    }


def check_normalization(params: dict) -> None:
    """Refuse (``ValueError``) a normalization that is incomplete, inconsistent or names unknown descriptors."""
    missing = [k for k in ("names", *_ARRAY_KEYS, "untrained") if k not in params]
    if missing:
        raise ValueError(f"the rdkit2d normalization lacks {', '.join(missing)}; refit the feature set.")
    names = params["names"]
    if not names or len(set(names)) != len(names):
        raise ValueError("the rdkit2d normalization needs a non-empty list of distinct descriptor names.")
    for key in _ARRAY_KEYS:
        values = params[key]
        if len(values) != len(names) or not all(isinstance(v, int | float) and math.isfinite(v) for v in values):
            raise ValueError(f"rdkit2d '{key}' must hold {len(names)} finite numbers, one per descriptor.")
    if any(s <= 0 for s in params["std"]) or any(
        lo > hi for lo, hi in zip(params["clip_low"], params["clip_high"], strict=True)
    ):
        raise ValueError("rdkit2d stds must be positive and each clip_low at most its clip_high.")
    unknown = [n for n in names if n not in descriptor_functions()]
    if unknown:
        raise ValueError(
            f"these descriptors were fitted but RDKit {rdkit.__version__} has none of that name: "
            f"{', '.join(unknown)}; install the RDKit the model was trained with ({params.get('rdkit_version')})."
        )


def _listed(names: list[str]) -> str:
    return ("descriptors " if len(names) > 1 else "descriptor ") + ", ".join(names)


def imputation_note(failed: Sequence[str], n_descriptors: int, untrained: Sequence[str]) -> str:
    """One sentence naming the descriptors that were imputed ("" when none were)."""
    if not failed:
        return ""
    if len(failed) == n_descriptors and not untrained:
        return f"none of the {n_descriptors} descriptors could be computed; the training medians were used"
    skipped = set(untrained)
    by_median = [n for n in failed if n not in skipped]
    by_zero = [n for n in failed if n in skipped]
    parts = []
    if by_median:
        parts.append(f"{_listed(by_median)} could not be computed; the training median was used")
    if by_zero:
        parts.append(f"{_listed(by_zero)} could not be computed (nor on any training molecule); 0 was used")
    return "; ".join(parts)


def apply_normalization(raw: np.ndarray, failed: Sequence[Sequence[str]], params: dict) -> tuple[np.ndarray, list[str]]:
    """Impute, clip and standardize raw descriptors with a fitted normalization.

    Returns:
        ``float32`` array of ``raw``'s shape and one note per row naming the imputed descriptors ("" if none).
    """
    median, low, high, mean, std = (np.asarray(params[k], dtype=np.float64) for k in _ARRAY_KEYS)
    x = np.where(np.isnan(raw), median, raw)
    x = (np.clip(x, low, high) - mean) / std
    notes = [imputation_note(row, len(params["names"]), params["untrained"]) for row in failed]
    return x.astype(np.float32), notes
