"""Champion models per MoleculeNet endpoint: a search over model families × feature sets, chosen on validation.

``grid`` names what is searched per data set (a smaller grid for the large multi-task sets), ``features`` builds
each data set's feature matrices once, ``fit`` fits one candidate with one seed and scores it on the validation
and test molecules of the scaffold split, ``selection`` summarizes the cells over seeds and picks the champion by
validation only, and ``published`` holds the published rows the benchmark prints beside ours
(``workbench bench champions`` runs it: ``bench/champions.py``).
"""

from workbench.champions.grid import FAMILIES, GridLimits, search_grid
from workbench.champions.selection import champions, summarize_cells

__all__ = ["FAMILIES", "GridLimits", "champions", "search_grid", "summarize_cells"]
