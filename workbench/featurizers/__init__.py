"""Featurizers turn RDKit molecules into model inputs: pretrain-gnns graphs, ECFP, Chemprop graphs, MiniMol.

The MiniMol embedder (:mod:`workbench.featurizers.minimol`) and Chemprop graphs
(:mod:`workbench.featurizers.chemprop`) are imported from their modules; graphs and fingerprints from here.
"""

from workbench.featurizers.fingerprints import (
    ecfp,
    ecfp_batch,
)
from workbench.featurizers.graph import (
    FEATURIZER_VERSION,
    GRAPH_FEATURIZER,
    MASK_ATOM_INDEX,
    NUM_ATOM_TYPES,
    NUM_BOND_DIRECTIONS,
    NUM_BOND_TYPES,
    NUM_CHIRALITY_TAGS,
    FeaturizationError,
    featurizer_spec,
    graph_arrays,
    mol_to_graph,
    mols_to_graphs,
)
from workbench.featurizers.graph_batch import GraphBatch, MolGraph, segment_mean

__all__ = [
    "FEATURIZER_VERSION",
    "GRAPH_FEATURIZER",
    "MASK_ATOM_INDEX",
    "NUM_ATOM_TYPES",
    "NUM_BOND_DIRECTIONS",
    "NUM_BOND_TYPES",
    "NUM_CHIRALITY_TAGS",
    "FeaturizationError",
    "GraphBatch",
    "MolGraph",
    "ecfp",
    "ecfp_batch",
    "featurizer_spec",
    "graph_arrays",
    "mol_to_graph",
    "mols_to_graphs",
    "segment_mean",
]
