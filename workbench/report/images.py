"""The dossier's drawings that :mod:`workbench.chem` does not make: a compact heat map and a 3D projection."""

from __future__ import annotations

import numpy as np
from rdkit import Chem
from rdkit.Chem.Draw import rdMolDraw2D

__all__ = ["heatmap_png", "projection_svg"]


def heatmap_png(mol: Chem.Mol, weights: np.ndarray, width: int = 420, height: int = 320) -> bytes:
    """Atom weights as a blue (negative) to red (positive) heat map, drawn as PNG.

    The same drawing as :func:`workbench.chem.depict_svg` with ``atom_weights``, rasterized: as SVG the heat
    map's grid is about 4,700 paths (over 1 MB), as PNG a few tens of kB.
    """
    from rdkit.Chem.Draw import SimilarityMaps

    drawn = Chem.Mol(mol)
    rdMolDraw2D.PrepareMolForDrawing(drawn, kekulize=True, addChiralHs=True)
    if len(weights) != drawn.GetNumAtoms():
        raise ValueError(f"{len(weights)} attribution weights for {drawn.GetNumAtoms()} atoms")
    drawer = rdMolDraw2D.MolDraw2DCairo(width, height)
    scale = float(np.abs(weights).max()) or 1.0
    values = [float(w) / scale for w in weights]
    SimilarityMaps.GetSimilarityMapFromWeights(drawn, values, draw2d=drawer, colorMap="bwr", contourLines=6, alpha=0.4)
    drawer.FinishDrawing()
    return drawer.GetDrawingText()


def _principal_axes(mol: Chem.Mol) -> Chem.Mol:
    """A copy whose coordinates lie on their principal axes (largest spread along x), so a 2D view shows most."""
    out = Chem.Mol(mol)
    conf = out.GetConformer()
    xyz = conf.GetPositions()
    centred = xyz - xyz.mean(axis=0)
    _, _, axes = np.linalg.svd(centred, full_matrices=False)
    rotated = centred @ axes.T
    for i, (x, y, z) in enumerate(rotated):
        conf.SetAtomPosition(i, (float(x), float(y), float(z)))
    return out


def projection_svg(mol: Chem.Mol, width: int = 420, height: int = 320) -> str:
    """One 3D conformer's heavy atoms drawn as SVG, projected on the two principal axes of their coordinates."""
    drawn = _principal_axes(Chem.RemoveHs(mol))
    drawer = rdMolDraw2D.MolDraw2DSVG(width, height)
    drawer.drawOptions().clearBackground = False
    drawer.DrawMolecule(drawn)
    drawer.FinishDrawing()
    svg = drawer.GetDrawingText()
    return svg[svg.index("<svg") :]
