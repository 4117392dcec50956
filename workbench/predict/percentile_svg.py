"""Approved-drug percentiles drawn as standalone SVG: a radar of up to :data:`MAX_LABELLED_SPOKES` labelled
spokes (numbered beyond), and horizontal bars for the one or two values a radar cannot show.

Plain SVG with no script: the dossier inlines it, and the Property prediction page shows it as an image, so a
page's first view does not wait for a charting library to load in the browser.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

__all__ = ["MAX_LABELLED_SPOKES", "bars_svg", "radar_svg"]

#: Above this many spokes the radar numbers them (and the dossier's table names them).
MAX_LABELLED_SPOKES = 16


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def radar_svg(labels: Sequence[str], percentiles: Sequence[float], size: int = 460, font_size: int = 10) -> str:
    """A radar of percentiles (0–100) as a standalone SVG; spokes are numbered when there are many."""
    n = len(labels)
    if n < 3:
        raise ValueError("a radar needs at least three values")
    margin = 8 * font_size + 10 if n <= MAX_LABELLED_SPOKES else 3 * font_size
    r, c = size / 2 - margin, size / 2
    angle = [-math.pi / 2 + 2 * math.pi * i / n for i in range(n)]
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {size} {size}" '
        f'font-family="sans-serif" font-size="{font_size}">'
    ]
    for level in (25, 50, 75, 100):
        rr = r * level / 100
        parts.append(f'<circle cx="{c}" cy="{c}" r="{rr:.1f}" fill="none" stroke="#d0d7de"/>')
        parts.append(f'<text x="{c + 3:.1f}" y="{c - rr + 11:.1f}" fill="#8c959f">{level}</text>')
    for i, a in enumerate(angle):
        x, y = c + r * math.cos(a), c + r * math.sin(a)
        parts.append(f'<line x1="{c}" y1="{c}" x2="{x:.1f}" y2="{y:.1f}" stroke="#e4e8ec"/>')
        text = labels[i] if n <= MAX_LABELLED_SPOKES else str(i + 1)
        lx, ly = c + (r + 8) * math.cos(a), c + (r + 8) * math.sin(a) + 3
        anchor = "middle" if abs(math.cos(a)) < 0.3 else ("start" if math.cos(a) > 0 else "end")
        parts.append(f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="{anchor}">{_e(text)}</text>')
    points = " ".join(
        f"{c + r * p / 100 * math.cos(a):.1f},{c + r * p / 100 * math.sin(a):.1f}"
        for p, a in zip(percentiles, angle, strict=True)
    )
    parts.append(f'<polygon points="{points}" fill="#3b82f6" fill-opacity="0.25" stroke="#2563eb"/>')
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(labels: Sequence[str], percentiles: Sequence[float], width: int = 460) -> str:
    """Percentiles (0–100) as horizontal bars, for the one or two values a radar cannot show."""
    row, left, right = 26, 190, 40
    span = width - left - right
    height = row * len(labels) + 24
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        'font-family="sans-serif" font-size="11">'
    ]
    for level in (0, 25, 50, 75, 100):
        x = left + span * level / 100
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 16}" stroke="#e4e8ec"/>')
        parts.append(f'<text x="{x:.1f}" y="{height - 4}" text-anchor="middle" fill="#8c959f">{level}</text>')
    for i, (label, value) in enumerate(zip(labels, percentiles, strict=True)):
        y = i * row + 4
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_e(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{span * value / 100:.1f}" height="{row - 8}" fill="#3b82f6"/>')
    parts.append("</svg>")
    return "".join(parts)
