r"""Per-sample tasks of a bilevel problem: module-level functions with picklable arguments.

:class:`~odl_bilevel.bilevel.BilevelProblem` sends one task per training
sample to a :class:`concurrent.futures.Executor` (or runs it inline). Workers
share no state with the parent: every task receives the sample's base energy,
the parameters :math:`\theta`, its warm starts and tolerances, builds
:math:`E_i(\cdot;\theta)` itself, and returns plain results (frozen
:class:`~odl_bilevel.solvers.SolverResult`,
:class:`~odl_bilevel.hypergradients.HypergradientResult`, floats) that the
parent merges into its warm starts and :class:`~odl_bilevel.solvers.WorkLedger`.
Being module-level functions of picklable objects, the tasks run unchanged in
a :class:`~concurrent.futures.ProcessPoolExecutor` and in a
``dask.distributed`` client's executor.

Every task returns the certified lower-level error
:math:`\varepsilon \ge \|x - \hat x\|` next to the solver result:
:math:`\|\nabla E(x)\|/\mu` for the smooth solvers, :math:`\sqrt{2G/\mu}`
for PDHG with primal-dual gap :math:`G` (``inf`` if not finite).
"""

import math

from ..hypergradients import implicit_hypergradient
from ..solvers import fista, gradient_descent, pdhg_solve

__all__ = ["SMOOTH_SOLVERS", "SOLVERS", "SOLVER_OPTIONS", "hypergradient_task", "solve_task"]

#: Lower-level solvers for smooth strongly convex energies.
SMOOTH_SOLVERS = ("fista", "gradient_descent")
#: All lower-level solver names accepted by :class:`BilevelProblem`.
SOLVERS = (*SMOOTH_SOLVERS, "pdhg")
#: Keyword options of each solver that a :class:`BilevelProblem` may pass on.
SOLVER_OPTIONS = {
    "fista": ("L", "mu", "momentum", "preconditioner"),
    "gradient_descent": ("L", "mu"),
    "pdhg": (),
}


def _solve(energy, x0, y0, solver, tol, max_iter, options=None):
    """Solve ``energy`` (already at theta); return ``(SolverResult, error)``."""
    options = options or {}
    if solver == "fista":
        result = fista(energy, x0, tol=tol, max_iter=max_iter, **options)
    elif solver == "gradient_descent":
        result = gradient_descent(energy, x0, tol=tol, max_iter=max_iter, **options)
    elif solver == "pdhg":
        result = pdhg_solve(
            energy.pdhg_form(),
            x0,
            y0=y0,
            tol=energy.gap_tolerance(tol),
            max_iter=max_iter,
            gamma=energy.gamma,
        )
        return result, energy.error_from_gap(result.certificate)
    else:
        raise ValueError(f"`solver` must be one of {SOLVERS}, got {solver!r}")
    error = float(result.certificate)
    return result, (error if math.isfinite(error) else math.inf)


def solve_task(energy, theta, x0, y0, *, solver, tol, max_iter, solver_options=None):
    r"""Solve the lower level of one sample at :math:`\theta`.

    Parameters
    ----------
    energy : ParametrisedFunctional or PDHGEnergy
        The sample's energy (any parameters); ``energy.with_params(theta)`` is solved.
    theta : numpy.ndarray
        Parameters :math:`\theta`.
    x0 : element or None
        Primal warm start (copied by the solver).
    y0 : element or None
        Dual warm start (PDHG only).
    solver : {"fista", "gradient_descent", "pdhg"}
        Lower-level solver.
    tol : float
        Tolerance on the certified error :math:`\|x - \hat x\|` (for PDHG, on
        the part the loss reads).
    max_iter : int
        Iteration cap (reported as status ``MAX_ITER``, not raised).
    solver_options : dict, optional
        More keyword arguments of the solver (:data:`SOLVER_OPTIONS`).

    Returns
    -------
    result : SolverResult
    error : float
        Certified :math:`\varepsilon \ge \|x - \hat x\|`.
    """
    return _solve(energy.with_params(theta), x0, y0, solver, tol, max_iter, solver_options)


def hypergradient_task(
    energy,
    theta,
    x0,
    w0,
    target,
    loss,
    *,
    solver,
    tol,
    max_iter,
    cg_tol,
    cg_max_iter,
    solver_options=None,
):
    r"""Solve one sample's lower level at :math:`\theta`, then its implicit hypergradient.

    Parameters are those of :func:`solve_task` plus the adjoint warm start
    ``w0``, the sample's ``target`` :math:`x^\dagger`, the upper ``loss`` and
    the CG tolerance and cap of
    :func:`~odl_bilevel.hypergradients.implicit_hypergradient`.

    Returns
    -------
    result : SolverResult
        The lower-level solve.
    error : float
        Its certified error :math:`\varepsilon`.
    hypergradient : HypergradientResult or None
        :math:`\nabla_\theta\ell(\hat x(\theta), x^\dagger)` with its error
        bound; ``None`` if the lower-level iterate is not finite.
    """
    E = energy.with_params(theta)
    result, error = _solve(E, x0, None, solver, tol, max_iter, solver_options)
    if not math.isfinite(error):
        return result, error, None
    x = result.x
    hypergradient = implicit_hypergradient(
        E,
        x,
        loss.gradient(x, target),
        lower_error=error,
        loss_lipschitz=float(loss.lipschitz),
        cg_tol=cg_tol,
        cg_max_iter=cg_max_iter,
        w0=w0,
    )
    return result, error, hypergradient
