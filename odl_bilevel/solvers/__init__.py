"""Lower-level solvers with certified accuracy, and the work ledger.

Smooth strongly convex energies: :func:`gradient_descent` and :func:`fista`
(steppable classes :class:`GradientDescent`, :class:`FISTA`) stop on the
certificate :math:`\\|\\nabla E(x)\\|/\\mu \\ge \\|x - \\hat x\\|`.
Linear systems: :func:`conjugate_gradient` (:class:`ConjugateGradient`) stops
on the relative residual. Nonsmooth (TV, TGV) problems: :func:`pdhg_solve`
(:class:`PDHG`) stops on the primal-dual gap. Every solver returns a frozen
:class:`SolverResult`; a :class:`WorkLedger` adds up the work.
"""

from ._cg import ConjugateGradient, conjugate_gradient
from ._pdhg import PDHG, pdhg_solve
from ._result import SolverResult, SolverStatus, WorkLedger
from ._smooth import FISTA, GradientDescent, fista, gradient_descent

__all__ = [
    "ConjugateGradient",
    "FISTA",
    "GradientDescent",
    "PDHG",
    "SolverResult",
    "SolverStatus",
    "WorkLedger",
    "conjugate_gradient",
    "fista",
    "gradient_descent",
    "pdhg_solve",
]
