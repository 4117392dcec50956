"""Views of conformer ensembles: interactive 3D with py3Dmol (offline) and an energy chart (Vega-Lite).

py3Dmol builds the viewer commands; :func:`view_html` wraps them in a standalone HTML
document with 3Dmol.js inlined from the copy shipped in ``workbench/static/3dmol``
(py3Dmol itself would fetch the library from a CDN). Pages render that HTML with
``streamlit.components.v1.html``; notebooks display it with :func:`show`.
"""

from __future__ import annotations

import html
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import py3Dmol
from rdkit import Chem

from workbench.conformers import ConformerEnsemble, PairOverlay, gasteiger_charges

__all__ = [
    "ANIMATION_OFF",
    "COLORINGS",
    "MODES",
    "STYLES",
    "SURFACES",
    "energy_chart",
    "ensemble_view",
    "pair_view",
    "show",
    "threedmol_js",
    "view_html",
]

THREEDMOL_JS = Path(__file__).resolve().parents[1] / "static" / "3dmol" / "3Dmol-min.js"
STYLES = ("stick", "ball-and-stick", "sphere", "line")
SURFACES = {"none": 0, "van der Waals": py3Dmol.VDW, "solvent-accessible": py3Dmol.SAS}
COLORINGS = ("element", "partial charge")
MODES = ("single", "overlay", "animate")
#: View options that the animation does not draw (pages disable their controls in that mode).
ANIMATION_OFF = ("surface", "labels")
CHARGE_LIMIT = 0.4  # |Gasteiger charge| mapped to full red (negative) or blue (positive)
PAIR_COLORS = ("grayCarbon", "cyanCarbon")
DIFF_COLORS = ("#d62728", "#ff7f0e")


@cache
def threedmol_js() -> str:
    """The bundled 3Dmol.js (minified), as text."""
    return THREEDMOL_JS.read_text(encoding="utf-8")


def _style(kind: str, colorscheme: object) -> dict:
    if kind not in STYLES:
        raise ValueError(f"unknown style {kind!r}; choose from {', '.join(STYLES)}")
    spec = {
        "stick": {"stick": {"radius": 0.15}},
        "ball-and-stick": {"stick": {"radius": 0.1}, "sphere": {"scale": 0.25}},
        "sphere": {"sphere": {"scale": 1.0}},
        "line": {"line": {"linewidth": 2}},
    }[kind]
    return {k: {**v, "colorscheme": colorscheme} for k, v in spec.items()}


def _charge_colors(charges: np.ndarray) -> dict[str, str]:
    """Atom index → hex colour: red for negative, white for neutral, blue for positive charge."""
    out = {}
    for i, q in enumerate(charges):
        t = 0.0 if not np.isfinite(q) else float(np.clip(q / CHARGE_LIMIT, -1.0, 1.0))
        if t < 0:
            r, g, b = 1.0, 1.0 + t, 1.0 + t
        else:
            r, g, b = 1.0 - t, 1.0 - t, 1.0
        out[str(i)] = "#{:02x}{:02x}{:02x}".format(*(round(255 * c) for c in (r, g, b)))
    return out


def _labels(view: py3Dmol.view, mol: Chem.Mol, conf_id: int, charges: np.ndarray | None) -> None:
    positions = mol.GetConformer(conf_id).GetPositions()
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() == 1:
            continue
        i = atom.GetIdx()
        text = f"{atom.GetSymbol()}{i}" + (f" {charges[i]:+.2f}" if charges is not None else "")
        x, y, z = (float(v) for v in positions[i])
        view.addLabel(
            text,
            {
                "position": {"x": x, "y": y, "z": z},
                "fontSize": 11,
                "fontColor": "black",
                "backgroundColor": "white",
                "backgroundOpacity": 0.6,
                "inFront": True,
            },
        )


def ensemble_view(
    ensemble: ConformerEnsemble,
    *,
    conformer: int = 0,
    mode: str = "single",
    style: str = "stick",
    surface: str = "none",
    color: str = "element",
    labels: bool = False,
    width: int | str = "100%",
    height: int = 480,
    interval_ms: int = 600,
) -> py3Dmol.view:
    """A py3Dmol view of one conformer, all conformers overlaid, or an animation through them.

    Args:
        ensemble: a successful :class:`~workbench.conformers.ConformerEnsemble` (aligned on conformer 0).
        conformer: which conformer to show in ``"single"`` mode.
        mode: ``"single"``, ``"overlay"`` (all conformers, hydrogens hidden) or ``"animate"``.
        style: one of :data:`STYLES`.
        surface: a key of :data:`SURFACES`, drawn around the shown conformer (``"single"``) or the lowest
            (``"overlay"``); never in ``"animate"`` mode, where a fixed surface could not follow the frames.
        color: ``"element"`` or ``"partial charge"`` (Gasteiger; red negative, blue positive).
        labels: label heavy atoms with symbol and index (and charge when coloured by charge); not in
            ``"animate"`` mode. :data:`ANIMATION_OFF` names the options an animation ignores.
    """
    if not ensemble.ok:
        raise ValueError(f"no conformers to show: {ensemble.error}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose from {', '.join(MODES)}")
    if color not in COLORINGS:
        raise ValueError(f"unknown colouring {color!r}; choose from {', '.join(COLORINGS)}")
    mol = ensemble.mol
    charges = gasteiger_charges(mol) if color == "partial charge" else None
    scheme: object = {"prop": "index", "map": _charge_colors(charges)} if charges is not None else "default"
    view = py3Dmol.view(width=width, height=height, js="")
    shown = conformer if mode == "single" else 0
    if mode == "single":
        view.addModel(Chem.MolToMolBlock(mol, confId=conformer), "sdf", {"keepH": True})
    elif mode == "overlay":
        for i in range(ensemble.n_conformers):
            view.addModel(Chem.MolToMolBlock(mol, confId=i), "sdf", {"keepH": True})
    else:
        frames = "".join(Chem.MolToMolBlock(mol, confId=i) + "$$$$\n" for i in range(ensemble.n_conformers))
        view.addModelsAsFrames(frames, "sdf", {"keepH": True})
    view.setStyle({}, _style(style, scheme))
    if mode == "overlay":
        view.setStyle({"elem": "H"}, {})
    if SURFACES.get(surface) and mode != "animate":
        surface_style = {"opacity": 0.7}
        surface_style.update({"colorscheme": scheme} if charges is not None else {"color": "white"})
        view.addSurface(SURFACES[surface], surface_style, {"model": 0})
    if labels and mode != "animate":
        _labels(view, mol, shown, charges)
    view.zoomTo()
    if mode == "animate":
        view.animate({"loop": "forward", "interval": int(interval_ms)})
    return view


def pair_view(
    pair: PairOverlay,
    *,
    style: str = "stick",
    labels: bool = False,
    width: int | str = "100%",
    height: int = 480,
) -> py3Dmol.view:
    """Both molecules of a :class:`~workbench.conformers.PairOverlay` superimposed.

    The first has grey carbons, the second cyan; atoms outside the common substructure are
    drawn as larger red (first) and orange (second) spheres.
    """
    if not pair.ok:
        raise ValueError(f"no overlay to show: {pair.error}")
    view = py3Dmol.view(width=width, height=height, js="")
    for model, (mol, differing) in enumerate([(pair.mol_a, pair.differing_a), (pair.mol_b, pair.differing_b)]):
        view.addModel(Chem.MolToMolBlock(mol), "sdf", {"keepH": True})
        view.setStyle({"model": model}, _style(style, PAIR_COLORS[model]))
        view.setStyle({"model": model, "elem": "H"}, {})
        if differing:
            view.addStyle(
                {"model": model, "index": list(differing)},
                {"sphere": {"scale": 0.35, "color": DIFF_COLORS[model], "opacity": 0.85}},
            )
        if labels:
            _labels(view, mol, 0, None)
    view.zoomTo()
    return view


def view_html(view: py3Dmol.view, *, script_src: str | None = None) -> str:
    """A standalone HTML document for ``view`` with 3Dmol.js inlined: nothing is fetched from the network.

    With ``script_src`` (a URL of the bundled file that the page's own server serves) the document loads 3Dmol.js
    from there instead: the browser caches it, and each redraw sends about 0.5 MB less to the browser.
    """
    body = view._make_html()
    script = (
        f"<script src='{html.escape(script_src)}'></script>" if script_src else f"<script>{threedmol_js()}</script>"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"{script}"
        # py3Dmol's loader only fetches 3Dmol.js when this promise is undefined
        "<script>var $3Dmolpromise = Promise.resolve();</script>"
        "</head><body style='margin:0'>"
        f"{body}</body></html>"
    )


def show(view: py3Dmol.view, height: int = 500):  # -> IPython.display.HTML
    """Display ``view`` in a notebook, offline, inside an iframe (works in Jupyter and VS Code)."""
    from IPython.display import HTML

    document = html.escape(view_html(view), quote=True)
    return HTML(f'<div><iframe srcdoc="{document}" style="width:100%;height:{height + 20}px;border:0"></iframe></div>')


def energy_chart(table: pd.DataFrame):  # -> altair.LayerChart
    """Bars of relative energies and Boltzmann weights on an independent right axis (``table``: ``to_frame()``).

    Vega-Lite (Altair), not Plotly: a new browser tab then does not wait ~1.5 s for Plotly.js to compile.
    """
    import altair as alt

    data = pd.DataFrame(
        {
            "conformer": [str(c) for c in table["conformer"]],
            "energy": table["energy_kcal_mol"].astype(float),
            "weight": table["boltzmann_weight"].astype(float),
        }
    )
    energy, weight = "ΔE (kcal/mol)", "Boltzmann weight at 298 K"
    base = alt.Chart(data).encode(
        x=alt.X(
            "conformer:N",
            sort=list(data["conformer"]),
            title="conformer (lowest energy first)",
            axis=alt.Axis(labelAngle=0),
        ),
        tooltip=[
            "conformer:N",
            alt.Tooltip("energy:Q", title=energy, format=".2f"),
            alt.Tooltip("weight:Q", title=weight, format=".3f"),
        ],
    )
    # all conformers at ΔE 0 (symmetric copies) would leave the axis one tick wide: keep at least 0–1 kcal/mol
    top = alt.Scale(domainMin=0, domainMax=1) if not (data["energy"] > 1e-6).any() else alt.Scale(domainMin=0)
    # no legend (it would squeeze a narrow column's plot): each axis title has the colour of its marks
    bars = base.mark_bar(color="#4c78a8").encode(
        y=alt.Y("energy:Q", title=energy, scale=top, axis=alt.Axis(titleColor="#4c78a8"))
    )
    weights = base.mark_line(point={"color": "#f58518"}, color="#f58518").encode(
        y=alt.Y(
            "weight:Q",
            title=weight,
            scale=alt.Scale(domain=[0, 1.05]),
            axis=alt.Axis(orient="right", titleColor="#f58518"),
        )
    )
    return alt.layer(bars, weights).resolve_scale(y="independent").properties(height=320)
