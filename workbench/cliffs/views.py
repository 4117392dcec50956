"""What the Activity-cliffs page shows, computed in one call: cliffs, agreement, SAS-map pairs and network."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from rdkit import Chem

from workbench.chem import depict_svg
from workbench.cliffs.potency import to_pactivity
from workbench.cliffs.rules import CliffResult, find_cliffs, pair_difference

__all__ = [
    "SAS_MAX_PAIRS",
    "SAS_SELECTION",
    "CliffAnalysis",
    "CliffNetwork",
    "analyse_cliffs",
    "cliff_network",
    "moleculeace_agreement",
    "network_layout",
    "pair_depictions",
    "ranked_cliffs",
    "sample_pairs",
    "selected_pair",
]

#: The SAS map draws at most this many pairs (every cliff plus a seeded sample of the rest): 2,000 points keep
#: the figure near 100 kB, where 9,400 with SMILES in the hover text made 2.2 MB and seconds of drawing.
SAS_MAX_PAIRS = 2_000
#: The SAS map's point-selection parameter: a click selects one pair by its ``index`` (see :func:`selected_pair`).
SAS_SELECTION = "pair"


def moleculeace_agreement(cliff_mol: Sequence[bool] | np.ndarray, labels: Sequence[object] | np.ndarray) -> float:
    """Fraction of molecules whose cliff flag equals MoleculeACE's ``cliff_mol`` label (0/1 or bool)."""
    ours = np.asarray(cliff_mol, dtype=bool)
    theirs = np.asarray(labels).astype(bool)
    if ours.shape != theirs.shape:
        raise ValueError(f"{len(ours)} cliff flags but {len(theirs)} MoleculeACE labels")
    return float(np.mean(ours == theirs)) if len(ours) else float("nan")


def sample_pairs(pairs: pd.DataFrame, limit: int = SAS_MAX_PAIRS, seed: int = 0) -> tuple[pd.DataFrame, str]:
    """At most ``limit`` pairs for a scatter plot: every cliff, then a seeded sample of the other pairs.

    Returns:
        (shown, note): ``shown`` keeps the input's index and order; ``note`` says what was left out
        ("" when every pair is shown).
    """
    if len(pairs) <= limit:
        return pairs, ""
    is_cliff = pairs["is_cliff"].to_numpy(dtype=bool)
    rest = pairs[~is_cliff]
    rest = rest.sample(max(0, limit - int(is_cliff.sum())), random_state=seed)
    shown = pd.concat([pairs[is_cliff], rest]).sort_index()
    note = f"Showing all {int(is_cliff.sum()):,} cliffs and a sample, {len(shown):,} of {len(pairs):,} pairs."
    return shown, note


def ranked_cliffs(result: CliffResult) -> pd.DataFrame:
    """The cliff pairs, highest SALI first (the pair table and the pair picker)."""
    return result.cliffs.sort_values("sali", ascending=False)


def cliff_network(result: CliffResult, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cliff molecules as nodes (with degree and a 2D spring layout) and cliff pairs as edges.

    Returns:
        (nodes, edges): nodes has ``index, degree, x, y``; edges has ``i, j, fold_change, sali``.
    """
    import networkx as nx

    edges = result.cliffs[["i", "j", "fold_change", "sali"]]
    graph = nx.Graph()
    graph.add_edges_from(zip(edges["i"], edges["j"], strict=True))
    pos = nx.spring_layout(graph, seed=seed, iterations=50) if graph.number_of_nodes() else {}
    nodes = pd.DataFrame(
        [{"index": k, "degree": graph.degree[k], "x": xy[0], "y": xy[1]} for k, xy in pos.items()],
        columns=["index", "degree", "x", "y"],
    )
    return nodes, edges.reset_index(drop=True)


@dataclass
class CliffNetwork:
    """A drawable cliff network.

    Attributes:
        nodes: ``index, degree, x, y, pactivity, smiles``.
        edges: ``x, y, x2, y2``: the two ends of every cliff pair's segment.
        n_edges: number of cliff pairs.
    """

    nodes: pd.DataFrame
    edges: pd.DataFrame
    n_edges: int


def network_layout(result: CliffResult, smiles: Sequence[str], pactivity: np.ndarray, seed: int = 0) -> CliffNetwork:
    """Lay out the cliff network (:func:`cliff_network`) and attach each node's pActivity and SMILES."""
    nodes, edges = cliff_network(result, seed=seed)
    pos = nodes.set_index("index")[["x", "y"]]
    ends_i, ends_j = pos.reindex(edges["i"]).to_numpy(), pos.reindex(edges["j"]).to_numpy()
    segments = pd.DataFrame(
        {"x": ends_i[:, 0], "y": ends_i[:, 1], "x2": ends_j[:, 0], "y2": ends_j[:, 1]}, dtype=np.float64
    )
    index = nodes["index"].to_numpy(dtype=np.int64)
    nodes = nodes.assign(
        pactivity=np.asarray(pactivity, dtype=np.float64)[index],
        smiles=[str(smiles[k]) for k in index],
    )
    return CliffNetwork(nodes, segments, len(edges))


@dataclass
class CliffAnalysis:
    """Everything the Activity-cliffs page draws for one data set.

    Attributes:
        result: the cliff analysis (:func:`~workbench.cliffs.rules.find_cliffs`).
        pactivity: per input row, its pActivity (NaN where the potency is missing).
        agreement: with MoleculeACE's ``cliff_mol`` labels, when they were given.
        left_out: rows left out (unparsable SMILES or missing potency).
        sas_pairs, sas_note: the pairs the SAS map draws (see :func:`sample_pairs`).
        network: the cliff network.
    """

    result: CliffResult
    pactivity: np.ndarray
    agreement: float | None
    left_out: int
    sas_pairs: pd.DataFrame
    sas_note: str
    network: CliffNetwork


def analyse_cliffs(
    smiles: Sequence[str],
    potency: Sequence[float] | np.ndarray,
    unit: str = "nM",
    *,
    min_similarity: float | None = None,
    labels: Sequence[object] | np.ndarray | None = None,
    max_pairs: int = SAS_MAX_PAIRS,
) -> CliffAnalysis:
    """Find cliffs (pairs listed down to ``min_similarity``), compare with ``labels`` and prepare the views."""
    smiles = [str(s) for s in smiles]
    result = find_cliffs(smiles, potency, unit, min_similarity=min_similarity)
    p_act = to_pactivity(potency, unit)
    shown, note = sample_pairs(result.pairs, max_pairs)
    return CliffAnalysis(
        result=result,
        pactivity=p_act,
        agreement=None if labels is None else moleculeace_agreement(result.cliff_mol, labels),
        left_out=sum(1 for e in result.errors if e),
        sas_pairs=shown,
        sas_note=note,
        network=network_layout(result, smiles, p_act),
    )


def selected_pair(event: object, param: str = SAS_SELECTION) -> int | None:
    """The pair index of the first point selected on the SAS map, if any.

    ``event`` is what ``st.altair_chart(..., on_select="rerun")`` returns: a dict or an object with a
    ``selection`` mapping, which maps the point-selection parameter ``param`` to a list of the selected
    points' field values, here ``[{"index": 7}]``. A selection without an index (none, or a click that hit
    no point) gives ``None``.
    """
    selection = event.get("selection") if isinstance(event, dict) else getattr(event, "selection", None)
    points = (selection or {}).get(param) or []
    value = points[0].get("index") if points and isinstance(points[0], dict) else None
    return None if value is None else int(value)


def pair_depictions(smiles_a: str, smiles_b: str, width: int = 380, height: int = 280) -> tuple[str, str]:
    """SVGs of both molecules of a pair, the atoms outside their common substructure highlighted."""
    diff_a, diff_b = pair_difference(smiles_a, smiles_b)
    return (
        depict_svg(Chem.MolFromSmiles(smiles_a), width=width, height=height, highlight_atoms=diff_a),
        depict_svg(Chem.MolFromSmiles(smiles_b), width=width, height=height, highlight_atoms=diff_b),
    )
