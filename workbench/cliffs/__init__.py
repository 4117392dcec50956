"""Activity cliffs (MoleculeACE rules), QSAR models on cliff targets and the IFM experiments."""

from workbench.cliffs.rules import (
    POTENCY_UNITS,
    SIMILARITY_COLUMNS,
    CliffResult,
    cliff_network,
    find_cliffs,
    generic_framework,
    levenshtein_similarity,
    pactivity,
    pair_difference,
    potency_nm,
    rmse,
    rmse_cliff,
    similar_pairs,
)

__all__ = [
    "POTENCY_UNITS",
    "SIMILARITY_COLUMNS",
    "CliffResult",
    "cliff_network",
    "find_cliffs",
    "generic_framework",
    "levenshtein_similarity",
    "pactivity",
    "pair_difference",
    "potency_nm",
    "rmse",
    "rmse_cliff",
    "similar_pairs",
]
