"""Validation, status summaries and sample averages for :class:`BilevelProblem` (private)."""

import concurrent.futures
import logging
import math
import numbers

import numpy as np

from ..functionals import ParametrisedFunctional
from ..solvers import SolverStatus
from ._tasks import SMOOTH_SOLVERS, SOLVER_OPTIONS

__all__ = ["check_energies", "check_executor", "check_int", "mean_hypergradient", "summary"]

_logger = logging.getLogger(__name__)


def check_int(value, name, minimum=1):
    """Return ``value`` as an int ``>= minimum`` or raise naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
    return int(value)


def check_executor(executor):
    """Return ``executor`` if it is ``None`` or a :class:`concurrent.futures.Executor`."""
    if executor is not None and not isinstance(executor, concurrent.futures.Executor):
        raise TypeError(
            f"`executor` must be a concurrent.futures.Executor or None, got "
            f"{type(executor).__name__}"
        )
    return executor


def check_solver_options(options, solver):
    """Return ``options`` as a dict of keyword options that ``solver`` takes (copied)."""
    if options is None:
        return {}
    if not isinstance(options, dict):
        raise TypeError(f"`solver_options` must be a dict or None, got {type(options).__name__}")
    allowed = SOLVER_OPTIONS[solver]
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(
            f"`solver_options` has {unknown}, which solver {solver!r} does not take; "
            f"allowed: {list(allowed)}"
        )
    return dict(options)


def check_energies(energies, solver, name, reference=None):
    """Validate a sequence of energies for ``solver``; return it as a tuple."""
    if isinstance(energies, str | bytes) or not hasattr(energies, "__iter__"):
        raise TypeError(f"`{name}` must be a sequence of energies, got {type(energies).__name__}")
    energies = tuple(energies)
    if not energies:
        raise ValueError(f"`{name}` must not be empty")
    for k, E in enumerate(energies):
        if solver in SMOOTH_SOLVERS:
            if not isinstance(E, ParametrisedFunctional):
                raise TypeError(
                    f"`{name}[{k}]` must be a ParametrisedFunctional for solver={solver!r}, "
                    f"got {type(E).__name__}"
                )
        elif not (hasattr(E, "pdhg_form") and hasattr(E, "with_params")):
            raise TypeError(
                f"`{name}[{k}]` must be a PDHGEnergy (with `pdhg_form`) for solver='pdhg', "
                f"got {type(E).__name__}"
            )
    first = energies[0] if reference is None else reference
    for k, E in enumerate(energies):
        if reference is None and E.domain != first.domain:
            raise ValueError(f"`{name}[{k}]` has domain {E.domain}, expected {first.domain}")
        if E.params.size != first.params.size or tuple(E.param_names) != tuple(
            first.param_names
        ):
            raise ValueError(
                f"`{name}[{k}]` has parameters {tuple(E.param_names)} of size {E.params.size}, "
                f"expected {tuple(first.param_names)} of size {first.params.size}"
            )
    return energies


def summary(results, errors, tol):
    """Return ``(all_converged, status, message)`` for the solves of all samples."""
    failed = [(i, r) for i, r in enumerate(results) if not r.converged]
    n = len(results)
    if not failed:
        worst = max(errors) if errors else 0.0
        return True, SolverStatus.CONVERGED, (
            f"all {n} lower-level solves converged (max error {worst:.3e} <= tol {tol:.3e})"
        )
    if tol == 0 and all(r.status is SolverStatus.MAX_ITER for _, r in failed):
        # fixed-iteration mode (tol = 0): running max_iter iterations is the request
        worst = max(errors) if errors else 0.0
        message = (
            f"fixed-iteration mode: all {n} lower-level solves ran max_iter iterations "
            f"(max certified error {worst:.3e})"
        )
        _logger.debug(message)
        return False, SolverStatus.MAX_ITER, message
    statuses = [r.status for _, r in failed]
    status = SolverStatus.NONFINITE if SolverStatus.NONFINITE in statuses else statuses[0]
    details = "; ".join(f"sample {i}: {r.message}" for i, r in failed)
    message = f"{len(failed)} of {n} lower-level solves did not converge: {details}"
    _logger.warning(message)
    return False, status, message


def mean_hypergradient(hypergradients, p, status, message):
    r"""Average the per-sample hypergradients; fold CG failures into the status.

    Returns ``(g, bound, status, message)`` with :math:`g = \frac1n\sum_i g_i`
    and :math:`\frac1n\sum_i\delta_i`; NaN and ``inf`` if a sample has no
    hypergradient (its solve was not finite). If the lower-level solves
    converged but a CG solve did not, ``status``/``message`` report the CG failure.
    """
    n = len(hypergradients)
    if any(hg is None for hg in hypergradients):
        return np.full(p, np.nan), math.inf, status, message
    g_theta = sum(np.asarray(hg.gradient, dtype=float) for hg in hypergradients) / n
    bound = float(sum(float(hg.error_bound) for hg in hypergradients) / n)
    failed = [(i, hg.cg) for i, hg in enumerate(hypergradients) if not hg.cg.converged]
    if failed and status is SolverStatus.CONVERGED:
        status = failed[0][1].status
        message = f"{len(failed)} of {n} CG solves did not converge: " + "; ".join(
            f"sample {i}: {cg.message}" for i, cg in failed
        )
        _logger.warning(message)
    return g_theta, bound, status, message
