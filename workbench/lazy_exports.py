"""Package attributes imported on first use (PEP 562), so importing a package does not import torch with it."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping

__all__ = ["lazy_exports"]


def lazy_exports(package: str, sources: Mapping[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose name ``n`` lives in module ``sources[n]``.

    A name is imported from ``package.<sources[name]>`` the first time it is read and kept in the package.
    """
    namespace = importlib.import_module(package).__dict__

    def getattr_(name: str) -> object:
        module = sources.get(name)
        if module is None:
            raise AttributeError(f"module '{package}' has no attribute '{name}'")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    def dir_() -> list[str]:
        return sorted([*namespace, *sources])

    return getattr_, dir_
