"""odl_bilevel: bilevel learning of variational reconstruction methods with ODL.

Subpackages, from the bottom of the stack up: :mod:`odl_bilevel.operators`,
:mod:`odl_bilevel.functionals`, :mod:`odl_bilevel.solvers`; beside the stack: :mod:`odl_bilevel.testing`
(public derivative and adjoint checkers).

Importing the package changes no global state beyond what ``import odl``
does, and does not import matplotlib.
"""

import logging

from . import functionals, hypergradients, operators, solvers

__version__ = "0.1.0.dev0"
__all__ = ["__version__", "functionals", "hypergradients", "operators", "solvers"]

logging.getLogger(__name__).addHandler(logging.NullHandler())
