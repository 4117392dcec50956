"""Data loaders, downloads and splits."""

from workbench.data.catalog import list_datasets
from workbench.data.chebi20 import load_chebi20
from workbench.data.dataset import MolDataset
from workbench.data.download import DataUnavailableError, download
from workbench.data.moleculeace import list_moleculeace, load_moleculeace
from workbench.data.moleculenet import MOLECULENET, load_moleculenet, locate_moleculenet
from workbench.data.paths import cache_dir, data_dir
from workbench.data.references import load_approved_drugs
from workbench.data.splits import Split, make_split, moleculeace_split, random_split, scaffold_split

__all__ = [
    "MOLECULENET",
    "DataUnavailableError",
    "MolDataset",
    "Split",
    "cache_dir",
    "data_dir",
    "download",
    "list_datasets",
    "list_moleculeace",
    "load_approved_drugs",
    "load_chebi20",
    "load_moleculeace",
    "load_moleculenet",
    "locate_moleculenet",
    "make_split",
    "moleculeace_split",
    "random_split",
    "scaffold_split",
]
