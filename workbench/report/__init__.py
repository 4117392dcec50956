"""One molecule's dossier: everything the workbench knows about it, as one self-contained HTML page.

* :mod:`~workbench.report.dossier`: :func:`build_dossier` collects a typed :class:`Dossier`, section by section.
* :mod:`~workbench.report.html`: :func:`render_html` renders it (inline SVG images, no scripts, no URLs).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from workbench.report.dossier import SECTIONS, Dossier, build_dossier, default_models
from workbench.report.html import render_html

__all__ = ["SECTIONS", "Dossier", "build_dossier", "default_models", "render_html", "write_dossier"]


def write_dossier(smiles: str, path: str | Path, models: Sequence[str] | None = None, **options: object) -> Dossier:
    """Build a molecule's dossier and write it as HTML to ``path``; returns the dossier.

    ``options`` go to :func:`build_dossier` (``explain_model``, ``explain_task``, ``name``, ...).
    """
    dossier = build_dossier(smiles, models, **options)  # type: ignore[arg-type]
    Path(path).write_text(render_html(dossier), encoding="utf-8")
    return dossier
