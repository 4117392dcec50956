"""Chemistry basics: parse / standardize (with warnings naming each change), descriptors, depiction, files."""

from workbench.chem.molecule import (
    DEFAULT_MAX_HEAVY_ATOMS,
    DESCRIPTOR_COLUMNS,
    ParsedMolecule,
    depict_svg,
    describe,
    descriptor_table,
    join_warnings,
    parse,
    parse_many,
    parse_one,
)
from workbench.chem.similarity import tanimoto_matrix
from workbench.chem.standardize import metal_complex_problem, text_problem

__all__ = [
    "DEFAULT_MAX_HEAVY_ATOMS",
    "DESCRIPTOR_COLUMNS",
    "ParsedMolecule",
    "depict_svg",
    "describe",
    "descriptor_table",
    "join_warnings",
    "metal_complex_problem",
    "parse",
    "parse_many",
    "parse_one",
    "tanimoto_matrix",
    "text_problem",
]
