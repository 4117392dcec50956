"""Streamlit widgets shared by pages."""

from workbench.app.molecule_input import EXAMPLES, current_molecule, molecule_input
from workbench.app.render import show_depiction

__all__ = ["EXAMPLES", "current_molecule", "molecule_input", "show_depiction"]
