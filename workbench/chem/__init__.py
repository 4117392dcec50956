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
from workbench.chem.names import NameMatch, UnknownNameError, resolve_name
from workbench.chem.similarity import tanimoto_matrix
from workbench.chem.standardize import metal_complex_problem, text_problem
from workbench.chem.uploads import (
    UploadError,
    UploadLimits,
    detect_smiles_column,
    detect_value_columns,
    read_upload,
)

__all__ = [
    "DEFAULT_MAX_HEAVY_ATOMS",
    "DESCRIPTOR_COLUMNS",
    "NameMatch",
    "ParsedMolecule",
    "UnknownNameError",
    "UploadError",
    "UploadLimits",
    "depict_svg",
    "describe",
    "descriptor_table",
    "detect_smiles_column",
    "detect_value_columns",
    "join_warnings",
    "metal_complex_problem",
    "parse",
    "parse_many",
    "parse_one",
    "read_upload",
    "resolve_name",
    "tanimoto_matrix",
    "text_problem",
]
