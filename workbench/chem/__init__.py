"""Chemistry basics: parse / standardize, descriptors, depiction, molecule files."""

from workbench.chem.molecule import (
    DEFAULT_MAX_HEAVY_ATOMS,
    DESCRIPTOR_COLUMNS,
    ParsedMolecule,
    depict_svg,
    describe,
    descriptor_table,
    parse,
    parse_many,
    parse_one,
)
from workbench.chem.similarity import tanimoto_matrix

__all__ = [
    "DEFAULT_MAX_HEAVY_ATOMS",
    "DESCRIPTOR_COLUMNS",
    "ParsedMolecule",
    "depict_svg",
    "describe",
    "descriptor_table",
    "parse",
    "parse_many",
    "parse_one",
    "tanimoto_matrix",
]
