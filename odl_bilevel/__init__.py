"""odl_bilevel: bilevel learning of variational reconstruction methods with ODL.

Subpackages, from the bottom of the stack up (each imports only from the ones
before it):

- :mod:`odl_bilevel.operators`: linear operators with exact adjoints;
- :mod:`odl_bilevel.functionals`: functionals with gradients, Hessians and
  parameter derivatives;
- :mod:`odl_bilevel.solvers`: certified lower-level solvers;
- :mod:`odl_bilevel.hypergradients`: implicit hypergradients with error bounds;
- :mod:`odl_bilevel.bilevel`: the :class:`~odl_bilevel.bilevel.BilevelProblem`;
- :mod:`odl_bilevel.upper`: upper-level optimisers;
- :mod:`odl_bilevel.problems`: application builders (denoising, ...);
- :mod:`odl_bilevel.cli`: the ``odl-bilevel`` command.

Beside the stack: :mod:`odl_bilevel.datasets`, :mod:`odl_bilevel.metrics`,
:mod:`odl_bilevel.plotting` and :mod:`odl_bilevel.testing` (public derivative
and adjoint checkers), imported on demand.

Importing the package changes no global state beyond what ``import odl``
does, and does not import matplotlib.
"""

import logging

from . import bilevel, functionals, hypergradients, operators, solvers, upper

__version__ = "0.1.0.dev0"
__all__ = [
    "__version__",
    "bilevel",
    "functionals",
    "hypergradients",
    "operators",
    "solvers",
    "upper",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
