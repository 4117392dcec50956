"""Potency units: nM (Ki / IC50 / EC50), pActivity (``-log10`` molar), MoleculeACE's ``y``, and readable text."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = ["POTENCY_UNITS", "format_potency", "moleculeace_y", "pactivity", "potency_nm", "to_pactivity"]

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


def _significant(value: float, digits: int) -> str:
    """``value`` to ``digits`` significant figures, thousands separators, no exponent; one decimal below 10."""
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(value)))) if value else 0
    text = f"{value:,.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if "." not in text and 0 < abs(value) < 10:
        text += ".0"
    return text


def format_potency(nm: float | None, digits: int = 3) -> str:
    """A potency in nM as text people read: ``"0.52 nM"``, ``"450 nM"``, ``"4.0 µM"``, ``"12.5 mM"``.

    At most ``digits`` significant figures and never an exponent; below 1 µM in nM, below 1 mM in µM,
    above in mM. A missing or non-finite potency reads ``"not measured"``.
    """
    if nm is None or not math.isfinite(float(nm)):
        return "not measured"
    value = float(f"{float(nm):.{digits}g}")  # rounded first, so 999.7 nM reads 1.0 µM
    for scale, unit in ((1e6, "mM"), (1e3, "µM")):
        if abs(value) >= scale:
            return f"{_significant(value / scale, digits)} {unit}"
    return f"{_significant(value, digits)} nM"
