"""Featurizers turn RDKit molecules into model inputs: pretrain-gnns graphs, ECFP, Chemprop graphs, MiniMol,
and named feature sets for tabular models (fingerprints, RDKit 2D descriptors with a fitted normalization).

The MiniMol embedder (:mod:`workbench.featurizers.minimol`) and Chemprop graphs
(:mod:`workbench.featurizers.chemprop`) are imported from their modules; graphs and fingerprints from here.
Names are imported on first use (PEP 562), so code that needs only fingerprints does not import torch.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench.lazy_exports import lazy_exports

_SOURCES = {
    "FEATURE_SETS": "feature_sets",
    "FEATURE_SET_VERSION": "feature_sets",
    "FittedFeatures": "feature_sets",
    "fit_features": "feature_sets",
    "rdkit2d_raw": "feature_sets",
    "ecfp": "fingerprints",
    "ecfp_batch": "fingerprints",
    "FEATURIZER_VERSION": "graph",
    "GRAPH_FEATURIZER": "graph",
    "MASK_ATOM_INDEX": "graph",
    "NUM_ATOM_TYPES": "graph",
    "NUM_BOND_DIRECTIONS": "graph",
    "NUM_BOND_TYPES": "graph",
    "NUM_CHIRALITY_TAGS": "graph",
    "FeaturizationError": "graph",
    "featurizer_spec": "graph",
    "graph_arrays": "graph",
    "mol_to_graph": "graph",
    "mols_to_graphs": "graph",
    "GraphBatch": "graph_batch",
    "MolGraph": "graph_batch",
    "segment_mean": "graph_batch",
}

__all__ = [
    "FEATURE_SETS",
    "FEATURE_SET_VERSION",
    "FEATURIZER_VERSION",
    "GRAPH_FEATURIZER",
    "MASK_ATOM_INDEX",
    "NUM_ATOM_TYPES",
    "NUM_BOND_DIRECTIONS",
    "NUM_BOND_TYPES",
    "NUM_CHIRALITY_TAGS",
    "FeaturizationError",
    "FittedFeatures",
    "GraphBatch",
    "MolGraph",
    "ecfp",
    "ecfp_batch",
    "featurizer_spec",
    "fit_features",
    "graph_arrays",
    "mol_to_graph",
    "mols_to_graphs",
    "rdkit2d_raw",
    "segment_mean",
]


__getattr__, __dir__ = lazy_exports(__name__, _SOURCES)


if TYPE_CHECKING:
    from workbench.featurizers.feature_sets import (
        FEATURE_SET_VERSION,
        FEATURE_SETS,
        FittedFeatures,
        fit_features,
        rdkit2d_raw,
    )
    from workbench.featurizers.fingerprints import ecfp, ecfp_batch
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
