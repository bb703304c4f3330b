"""Linear operators with exact adjoints, working on raw arrays (bottom layer)."""

from ._spaces import unit_cell_space
