"""3D conformer ensembles: generation, force fields, clustering / alignment, files, cache, overlay and the 3D view.

* :mod:`~workbench.conformers.ensemble`: :class:`ConformerEnsemble` (energies, Boltzmann weights, RMSD,
  clusters, SDF/XYZ/PDB export) and :func:`gasteiger_charges`.
* :mod:`~workbench.conformers.generate`: :func:`generate_conformers` (ETKDG, MMFF/UFF, pruning).
* :mod:`~workbench.conformers.files`: the SDF round trip and the compact binary format.
* :mod:`~workbench.conformers.cache`: :class:`ConformerCache`, an SQLite store of ensembles.
* :mod:`~workbench.conformers.batch`: :func:`generate_conformers_batch`, one row per input.
* :mod:`~workbench.conformers.overlay`: :func:`overlay_pair`, alignment on the common substructure.
* :mod:`~workbench.conformers.view3d`: the interactive 3D view (imported by its module path).
"""

from workbench.conformers.batch import generate_conformers_batch
from workbench.conformers.cache import ConformerCache
from workbench.conformers.ensemble import (
    BOLTZMANN_TEMPERATURE,
    ConformerEnsemble,
    boltzmann_weights,
    gasteiger_charges,
)
from workbench.conformers.files import ensemble_from_bytes, ensemble_to_bytes, read_sdf_ensembles
from workbench.conformers.generate import (
    DEFAULT_MAX_HEAVY_ATOMS_3D,
    DEFAULT_MAX_ITERS,
    DEFAULT_SEED,
    EMBED_METHODS,
    FORCE_FIELDS,
    generate_conformers,
)
from workbench.conformers.overlay import PairOverlay, overlay_pair

__all__ = [
    "BOLTZMANN_TEMPERATURE",
    "DEFAULT_MAX_HEAVY_ATOMS_3D",
    "DEFAULT_MAX_ITERS",
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
