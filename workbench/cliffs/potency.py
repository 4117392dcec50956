"""Potency units: nM (Ki / IC50 / EC50), pActivity (``-log10`` molar) and MoleculeACE's ``y``."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["POTENCY_UNITS", "moleculeace_y", "pactivity", "potency_nm", "to_pactivity"]

#: Units a potency column may come in: nM (Ki, IC50, EC50) or already pActivity (-log10 M).
POTENCY_UNITS = ("nM", "pActivity")


def _check_unit(unit: str) -> None:
    if unit not in POTENCY_UNITS:
        raise ValueError(f"unknown potency unit '{unit}'; use one of {', '.join(POTENCY_UNITS)}")


def potency_nm(values: Sequence[float] | np.ndarray, unit: str = "nM") -> np.ndarray:
    """Potencies in nM from nM values or from pActivity (``-log10`` of the molar potency)."""
    _check_unit(unit)
    arr = np.asarray(values, dtype=np.float64)
    return arr if unit == "nM" else 10.0 ** (9.0 - arr)


def pactivity(nm: Sequence[float] | np.ndarray) -> np.ndarray:
    """pActivity (``-log10`` molar) from potencies in nM; MoleculeACE's ``y`` is pActivity − 9."""
    return 9.0 - np.log10(np.asarray(nm, dtype=np.float64))


def to_pactivity(values: Sequence[float] | np.ndarray, unit: str = "nM") -> np.ndarray:
    """pActivity of potencies given in ``unit`` (pActivity values come back unchanged)."""
    _check_unit(unit)
    arr = np.asarray(values, dtype=np.float64)
    if unit == "pActivity":
        return arr
    with np.errstate(divide="ignore", invalid="ignore"):
        return pactivity(arr)


def moleculeace_y(values: Sequence[float] | np.ndarray, unit: str = "nM") -> np.ndarray:
    """MoleculeACE's regression target ``y = -log10(potency in nM)`` (= pActivity − 9).

    Missing or non-positive potencies give NaN or ±inf; callers leave those rows out.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.log10(potency_nm(values, unit))
