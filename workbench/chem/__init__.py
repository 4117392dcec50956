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
]
