r"""Frozen results of :class:`~odl_bilevel.bilevel.BilevelProblem` evaluations.

Every evaluation reports, beside its value, what it achieved and what it
cost: the certified lower-level errors :math:`\varepsilon_i \ge
\|x_i - \hat x_i(\theta)\|`, an error bound on the returned value derived
from them, a :class:`~odl_bilevel.solvers.SolverStatus` summarising the solves
(``CONVERGED`` only if every solve reached its tolerance), and the work of
this call in a :class:`~odl_bilevel.solvers.WorkLedger`.
"""

import dataclasses

import numpy as np

from ..solvers import SolverStatus, WorkLedger

__all__ = ["HypergradientEvaluation", "LowerSolveResult", "ObjectiveResult", "ResidualsResult"]


def readonly(array):
    """Return a read-only float64 copy of ``array``."""
    out = np.array(array, dtype=float)
    out.flags.writeable = False
    return out


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class LowerSolveResult:
    r"""Lower-level solves of all samples at one :math:`\theta`.

    Attributes
    ----------
    x : tuple
        The solutions :math:`x_i`, one per sample (elements of the domain).
    results : tuple of SolverResult
        The solver results (iterations, certificates, statuses, work).
    errors : tuple of float
        Certified errors :math:`\varepsilon_i \ge \|x_i - \hat x_i(\theta)\|`
        (the certificates of the smooth solvers, :math:`\sqrt{2G/\mu}` for
        PDHG; ``inf`` when not finite).
    tol : float
        The tolerance on :math:`\varepsilon_i` that was asked for.
    all_converged : bool
        Whether every solve reached ``tol``.
    status : SolverStatus
        ``CONVERGED`` if all converged, else the status of the first failed
        solve (``NONFINITE`` takes precedence).
    message : str
        Which samples failed and why.
    work : WorkLedger
        Work of these solves alone.
    wall_time : float
        Seconds of the call in the calling process.
    """

    x: tuple
    results: tuple
    errors: tuple
    tol: float
    all_converged: bool
    status: SolverStatus
    message: str
    work: WorkLedger
    wall_time: float = 0.0

    @property
    def iterations(self):
        """Total lower-level iterations of these solves."""
        return int(sum(r.iterations for r in self.results))

    @property
    def max_error(self):
        """:math:`\\max_i \\varepsilon_i`."""
        return float(max(self.errors)) if self.errors else 0.0


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class ObjectiveResult:
    r"""Upper objective :math:`U(\varphi) = \frac1n\sum_i\ell(x_i, x_i^\dagger) + J(T(\varphi))`.

    Attributes
    ----------
    value : float
        :math:`U`, from the solutions :math:`x_i` computed for this
        :math:`\theta` (never from stored ones).
    losses : tuple of float
        :math:`\ell(x_i, x_i^\dagger)` per sample.
    penalty : float
        :math:`J(\theta)` (0 without a penalty).
    error_bound : float
        Bound on :math:`|U - U^*|`, :math:`U^*` the value at the exact
        lower-level solutions:
        :math:`\frac1n\sum_i \|\nabla\ell(x_i)\|\varepsilon_i + \frac{L_\ell}{2}\varepsilon_i^2`
        (the loss's own ``error_bound`` where it has one, e.g. :math:`L\varepsilon_i` for a
        Lipschitz :class:`~odl_bilevel.bilevel.NonsmoothLoss`).
    solves : LowerSolveResult
        The lower-level solves.
    phi, theta : numpy.ndarray
        The learned variables and the parameters (read-only copies).
    status : SolverStatus
        As ``solves.status``.
    message : str
        As ``solves.message``.
    work : WorkLedger
        Work of this call.
    wall_time : float
        Seconds of the call.
    """

    value: float
    losses: tuple
    penalty: float
    error_bound: float
    solves: LowerSolveResult
    phi: np.ndarray
    theta: np.ndarray
    status: SolverStatus
    message: str
    work: WorkLedger
    wall_time: float = 0.0


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class HypergradientEvaluation:
    r"""Value and gradient of the upper objective in the learned variables :math:`\varphi`.

    Attributes
    ----------
    value : float
        :math:`U(\varphi)` (as ``objective.value``).
    gradient : numpy.ndarray
        :math:`\nabla_\varphi U = J_T(\varphi)^T\big(\frac1n\sum_i g_i + \nabla J(\theta)\big)`,
        float64 of shape ``(q,)``, where :math:`g_i` are the per-sample
        implicit hypergradients.
    error_bound : float
        Bound on :math:`\|\nabla_\varphi U - \nabla_\varphi U^*\|`:
        :math:`\|J_T(\varphi)\|\,\frac1n\sum_i\delta_i` with :math:`\delta_i`
        the per-sample bounds (``hypergradients[i].error_bound``).
    gradient_theta : numpy.ndarray
        The gradient in :math:`\theta`, :math:`\frac1n\sum_i g_i + \nabla J(\theta)`.
    error_bound_theta : float
        :math:`\frac1n\sum_i\delta_i`.
    objective : ObjectiveResult
        Value, losses, solves and the value's error bound.
    hypergradients : tuple
        Per-sample :class:`~odl_bilevel.hypergradients.HypergradientResult`
        (``None`` for a sample whose solve was not finite).
    status : SolverStatus
        ``CONVERGED`` if every lower solve and every CG solve converged, else
        the first failure.
    message : str
        What failed, if anything.
    work : WorkLedger
        Work of this call (lower solves and CG).
    wall_time : float
        Seconds of the call.
    """

    value: float
    gradient: np.ndarray
    error_bound: float
    gradient_theta: np.ndarray
    error_bound_theta: float
    objective: ObjectiveResult
    hypergradients: tuple
    status: SolverStatus
    message: str
    work: WorkLedger
    wall_time: float = 0.0


@dataclasses.dataclass(frozen=True, kw_only=True, eq=False)
class ResidualsResult:
    r"""Least-squares form of the upper objective, for derivative-free engines.

    .. math::
        r(\varphi) = \frac{1}{\sqrt n}\big(r_1, \dots, r_n\big), \quad
        r_i = x_i - x_i^\dagger, \qquad
        U(\varphi) = \|r(\varphi)\|^2 + J(\theta).

    Attributes
    ----------
    residuals : numpy.ndarray
        :math:`r`, float64 1-D (samples concatenated, each flattened).
    penalty : float
        :math:`J(\theta)`, reported separately.
    value : float
        :math:`\|r\|^2 + J(\theta)`.
    errors : tuple of float
        Certified :math:`\varepsilon_i \ge \|x_i - \hat x_i\|` per sample.
    error_bound : float
        Bound on :math:`\|r - r^*\|`:
        :math:`L_r\sqrt{\frac1n\sum_i\varepsilon_i^2}` (:math:`L_r = 1` for the squared error;
        per-sample bounds from ``loss.residual_error_bound`` for losses without a Lipschitz
        residual, e.g. :class:`~odl_bilevel.bilevel.NonsmoothLoss`; ``inf`` when unknown).
    solves : LowerSolveResult
        The lower-level solves.
    phi, theta : numpy.ndarray
        Read-only copies.
    status : SolverStatus
        As ``solves.status``.
    message : str
        As ``solves.message``.
    work : WorkLedger
        Work of this call.
    wall_time : float
        Seconds of the call.
    """

    residuals: np.ndarray
    penalty: float
    value: float
    errors: tuple
    error_bound: float
    solves: LowerSolveResult
    phi: np.ndarray
    theta: np.ndarray
    status: SolverStatus
    message: str
    work: WorkLedger
    wall_time: float = 0.0
