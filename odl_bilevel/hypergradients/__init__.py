r"""Hypergradients of the upper objective by the implicit function theorem.

:func:`implicit_hypergradient` evaluates
:math:`\frac{d}{d\theta}\ell(\hat x(\theta)) = -C^TB^{-1}\nabla\ell(\hat x)`
(:math:`B = \nabla^2_xE`, :math:`C = \partial_\theta\nabla_xE`) at an
approximate lower-level solution with a conjugate-gradient adjoint solve, and
returns, in a :class:`HypergradientResult`, a computable bound on its error
from the lower-level accuracy and the CG residual.
:func:`finite_difference_gradient` is the central-difference reference.
"""

from ._finite_difference import finite_difference_gradient
from ._implicit import HypergradientResult, implicit_hypergradient

__all__ = ["HypergradientResult", "finite_difference_gradient", "implicit_hypergradient"]
