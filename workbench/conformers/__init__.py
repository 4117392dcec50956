"""3D conformer ensembles: generation, force fields, clustering / alignment, files, cache, overlay and the 3D view."""

from workbench.conformers.ensemble import (
    BOLTZMANN_TEMPERATURE,
    DEFAULT_MAX_HEAVY_ATOMS_3D,
    DEFAULT_SEED,
    EMBED_METHODS,
    FORCE_FIELDS,
    ConformerCache,
    ConformerEnsemble,
    PairOverlay,
    boltzmann_weights,
    ensemble_from_bytes,
    ensemble_to_bytes,
    gasteiger_charges,
    generate_conformers,
    generate_conformers_batch,
    overlay_pair,
    read_sdf_ensembles,
)

__all__ = [
    "BOLTZMANN_TEMPERATURE",
    "DEFAULT_MAX_HEAVY_ATOMS_3D",
    "DEFAULT_SEED",
    "EMBED_METHODS",
    "FORCE_FIELDS",
    "ConformerCache",
    "ConformerEnsemble",
    "PairOverlay",
    "boltzmann_weights",
    "ensemble_from_bytes",
    "ensemble_to_bytes",
    "gasteiger_charges",
    "generate_conformers",
    "generate_conformers_batch",
    "overlay_pair",
    "read_sdf_ensembles",
]
