"""Activity cliffs (MoleculeACE rules), QSAR models on cliff targets and the IFM experiments."""

from workbench.cliffs.columns import ColumnChoice, ColumnError, detect_columns, read_potency_csv
from workbench.cliffs.potency import POTENCY_UNITS, moleculeace_y, pactivity, potency_nm, to_pactivity
from workbench.cliffs.rules import (
    SIMILARITY_COLUMNS,
    CliffResult,
    find_cliffs,
    generic_framework,
    levenshtein_similarity,
    pair_difference,
    rmse,
    rmse_cliff,
    similar_pairs,
)
from workbench.cliffs.views import CliffAnalysis, analyse_cliffs, cliff_network, moleculeace_agreement

__all__ = [
    "POTENCY_UNITS",
    "SIMILARITY_COLUMNS",
    "CliffAnalysis",
    "CliffResult",
    "ColumnChoice",
    "ColumnError",
    "analyse_cliffs",
    "cliff_network",
    "detect_columns",
    "find_cliffs",
    "generic_framework",
    "levenshtein_similarity",
    "moleculeace_agreement",
    "moleculeace_y",
    "pactivity",
    "pair_difference",
    "potency_nm",
    "read_potency_csv",
    "rmse",
    "rmse_cliff",
    "similar_pairs",
    "to_pactivity",
]
