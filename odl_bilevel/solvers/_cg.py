r"""Conjugate gradients with a relative-residual tolerance and a certificate.

ODL's ``odl.solvers.conjugate_gradient`` runs a fixed number of iterations and
reports nothing (DESIGN.md §3.5); the adjoint systems
:math:`\nabla^2_x E(\hat x)\,w = \nabla_x\ell(\hat x)` of the hypergradient
need a residual tolerance, the achieved residual and a count of the
Hessian-vector products.
"""

import logging

import odl

from .._validation import require_element, require_nonnegative
from ._common import Clock, check_callback, check_int, finite, start_point
from ._result import SolverResult, SolverStatus
from ._vector import vector_ops

__all__ = ["ConjugateGradient", "conjugate_gradient"]

_logger = logging.getLogger(__name__)


class ConjugateGradient:
    r"""Conjugate gradients for :math:`Hx = b` with :math:`H` self-adjoint positive definite.

    Iterates (Hestenes & Stiefel 1952), with :math:`r_0 = b - Hx_0`,
    :math:`p_0 = r_0`:

    .. math::
        \alpha_k = \frac{\|r_k\|^2}{\langle p_k, Hp_k\rangle},\quad
        x_{k+1} = x_k + \alpha_k p_k,\quad
        r_{k+1} = r_k - \alpha_k Hp_k,\quad
        p_{k+1} = r_{k+1} + \frac{\|r_{k+1}\|^2}{\|r_k\|^2} p_k,

    and stops when the relative residual

    .. math::
        \rho(x) = \frac{\|b - Hx\|}{\|b\|} \le \mathrm{tol}.

    With a ``preconditioner`` :math:`M \approx H^{-1}` (SPD) it runs
    preconditioned CG: :math:`z_k = Mr_k`, :math:`p_0 = z_0`,
    :math:`\alpha_k = \langle r_k, z_k\rangle/\langle p_k, Hp_k\rangle`,
    :math:`p_{k+1} = z_{k+1} + \frac{\langle r_{k+1}, z_{k+1}\rangle}{\langle r_k,
    z_k\rangle}p_k` (one application of :math:`M` per iteration besides the
    product with :math:`H`); the stopping test and the certificate stay the
    unpreconditioned residual above. A warm start ``x0`` whose residual is
    larger than :math:`\|b\|` (worse than zero) is dropped for zero.

    Since :math:`x - x^* = H^{-1}(Hx - b)`, the error is bounded by
    :math:`\|x - x^*\| \le \|b - Hx\|/\lambda_{\min}(H) = \rho\,\|b\|/\lambda_{\min}(H)`
    (for a Hessian of a :math:`\mu`-strongly convex energy,
    :math:`\lambda_{\min} \ge \mu`). The recursively updated residual drifts
    from the true one in floating point, so when it first meets the tolerance
    the true residual :math:`b - Hx` is computed (one extra product); if that
    misses the tolerance, the iteration restarts from the current :math:`x`
    with the true residual. The reported ``certificate`` is therefore always
    a true relative residual. One product :math:`Hp` per iteration.

    Parameters
    ----------
    H : odl.Operator
        Linear operator with ``domain == range``, self-adjoint and positive
        definite (e.g. a Hessian ``E.gradient.derivative(x)``).
    b : element of ``H.range`` or array-like
        Right-hand side (not modified).
    x0 : element of ``H.domain`` or array-like, optional
        Starting point; copied, never modified. Default: zero.
    tol : float
        Stop as soon as :math:`\|b - Hx\| \le \mathrm{tol}\,\|b\|`. If
        :math:`b = 0` the solution :math:`x = 0` is returned at once.
    max_iter : int, optional
        Maximal number of iterations (status ``MAX_ITER``).
    callback : callable, optional
        Called as ``callback(solver)`` after every iteration; returning
        ``True`` stops the run with status ``STOPPED_BY_CALLBACK``.
    preconditioner : odl.Operator, optional
        Self-adjoint positive-definite linear operator :math:`M \approx H^{-1}`
        on ``H.domain`` (e.g. ``energy.hessian_preconditioner(x)``).

    Raises
    ------
    TypeError
        If ``H`` or ``preconditioner`` is not a linear ``odl.Operator`` (on one
        space) or ``callback`` is not callable.
    ValueError
        If ``H.domain != H.range``, ``tol < 0``, ``max_iter < 0``, or ``b``/``x0``
        are not in the space or hold NaN/Inf (the message names the argument).

    Notes
    -----
    A direction with :math:`\langle p, Hp\rangle \le 0` proves that :math:`H`
    is not positive definite (:math:`\langle r, Mr\rangle \le 0` that
    :math:`M` is not); the run then stops with status
    ``NONPOSITIVE_CURVATURE`` and the current iterate.

    References
    ----------
    M. R. Hestenes and E. Stiefel, Methods of conjugate gradients for solving
    linear systems, *J. Res. Nat. Bur. Standards* 49(6):409–436, 1952.

    Examples
    --------
    >>> import numpy as np, odl
    >>> X = odl.rn(3)
    >>> H = odl.MatrixOperator(np.diag([1.0, 2.0, 4.0]), domain=X, range=X)
    >>> res = ConjugateGradient(H, X.element([1.0, 1.0, 1.0]), tol=1e-12).run()
    >>> res.status.name, res.iterations, [round(float(t), 6) for t in res.x]
    ('CONVERGED', 3, [1.0, 0.5, 0.25])
    """

    name = "conjugate_gradient"

    def __init__(self, H, b, x0=None, *, tol, max_iter=1000, callback=None, preconditioner=None):
        self._clock = Clock()
        with self._clock:
            if not isinstance(H, odl.Operator) or not H.is_linear:
                raise TypeError(f"`H` must be a linear odl.Operator, got {type(H).__name__}")
            if H.domain != H.range:
                raise ValueError(f"`H` must map a space to itself, got {H.domain} -> {H.range}")
            space = H.domain
            self._H = H
            self._ops = ops = vector_ops(space)
            self._b = require_element(b, space, "b")
            self._tol = require_nonnegative(tol, "tol")
            self._max_iter = check_int(max_iter, "max_iter", minimum=0)
            self._callback = check_callback(callback)
            M = preconditioner
            if M is not None and (
                not isinstance(M, odl.Operator)
                or not M.is_linear
                or M.domain != space
                or M.range != space
            ):
                raise TypeError(
                    "`preconditioner` must be a linear odl.Operator on H's space, got "
                    f"{type(M).__name__}"
                )
            self._M = M
            self._z = None if M is None else space.element()
            self._x = start_point(x0, space, ops)
            self._r = space.element()
            self._p = space.element()
            self._hp = space.element()
            self._iteration = 0
            self._products = 0
            self._status = None
            self._history = []
            self._b_norm = ops.norm(self._b)
            self._debug = _logger.isEnabledFor(logging.DEBUG)
            if self._b_norm == 0.0:
                self._x.set_zero()
                self._r.set_zero()
                self._rz = 0.0
                self._history.append(0.0)
                self._status = SolverStatus.CONVERGED
            elif x0 is None:
                ops.copy(self._b, self._r)
                self._start_direction()
            else:
                self._true_residual()
                if ops.norm(self._r) > self._b_norm:
                    # a warm start worse than zero (e.g. the adjoint of a far-away point)
                    self._x.set_zero()
                    ops.copy(self._b, self._r)
                self._start_direction()

    # -- state ---------------------------------------------------------------------------
    @property
    def x(self):
        """The current iterate (live buffer; copy it before modifying)."""
        return self._x

    @property
    def residual(self):
        """The current residual :math:`r \\approx b - Hx` (live buffer)."""
        return self._r

    @property
    def iteration(self):
        """Number of iterations done so far."""
        return self._iteration

    @property
    def certificate(self):
        r"""The current relative residual :math:`\|r\|/\|b\|`."""
        return self._history[-1]

    @property
    def status(self):
        """The :class:`SolverStatus` once the run has stopped, ``None`` while it runs."""
        return self._status

    # -- iteration -----------------------------------------------------------------------
    def _apply(self, v, out):
        self._H(v, out=out)
        self._products += 1

    def _true_residual(self):
        """``r <- b - Hx``."""
        self._apply(self._x, self._r)
        self._ops.lincomb(1.0, self._b, -1.0, self._r, out=self._r)

    def _precondition(self):
        """Return :math:`z = Mr` (``r`` itself without a preconditioner)."""
        if self._M is None:
            return self._r
        self._M(self._r, out=self._z)
        return self._z

    def _start_direction(self):
        """``p <- Mr``, record the residual and decide whether to stop already."""
        z = self._precondition()
        self._ops.copy(z, self._p)
        rr = self._ops.dot(self._r, self._r)
        self._rz = rr if self._M is None else self._ops.dot(self._r, z)
        rel = (max(rr, 0.0) ** 0.5) / self._b_norm if finite(rr) else float("nan")
        self._history.append(rel)
        if not finite(rel):
            self._status = SolverStatus.NONFINITE
        elif rel <= self._tol:
            self._status = SolverStatus.CONVERGED
        elif self._iteration >= self._max_iter:
            self._status = SolverStatus.MAX_ITER

    def step(self):
        """Do one CG iteration (one product with :math:`H`).

        Returns
        -------
        status : SolverStatus or None
            The status if the run has stopped now, else ``None``.

        Raises
        ------
        RuntimeError
            If the run had already stopped.
        """
        if self._status is not None:
            raise RuntimeError(f"{self.name} has already stopped ({self._status.name})")
        with self._clock:
            ops = self._ops
            self._iteration += 1
            self._apply(self._p, self._hp)
            curv = ops.dot(self._p, self._hp)
            if not finite(curv):
                self._status = SolverStatus.NONFINITE
                self._history.append(float("nan"))
            elif curv <= 0.0:
                self._status = SolverStatus.NONPOSITIVE_CURVATURE
                self._history.append(self._history[-1])
            else:
                alpha = self._rz / curv
                ops.axpy(alpha, self._p, self._x)
                ops.axpy(-alpha, self._hp, self._r)
                rr_new = ops.dot(self._r, self._r)
                rel = (max(rr_new, 0.0) ** 0.5) / self._b_norm if finite(rr_new) else rr_new
                if not finite(rel):
                    self._history.append(float("nan"))
                    self._status = SolverStatus.NONFINITE
                elif rel <= self._tol:
                    # Confirm with the true residual; restart from it if it misses.
                    self._true_residual()
                    self._start_direction()
                else:
                    self._history.append(rel)
                    z = self._precondition()
                    rz_new = rr_new if self._M is None else ops.dot(self._r, z)
                    if not (finite(rz_new) and rz_new > 0.0):
                        # <r, Mr> <= 0 with r != 0: the preconditioner is not positive definite
                        self._status = SolverStatus.NONPOSITIVE_CURVATURE
                    else:
                        ops.lincomb(1.0, z, rz_new / self._rz, self._p, out=self._p)
                        self._rz = rz_new
                        if self._iteration >= self._max_iter:
                            self._status = SolverStatus.MAX_ITER
            if self._debug:
                _logger.debug(
                    "CG iteration %d: relative residual %.3e", self._iteration, self.certificate
                )
            if self._callback is not None and self._callback(self) is True:
                if self._status is None:
                    self._status = SolverStatus.STOPPED_BY_CALLBACK
        return self._status

    def run(self):
        """Iterate until the relative residual reaches ``tol``, ``max_iter`` or a stop.

        Returns
        -------
        SolverResult
        """
        while self._status is None:
            self.step()
        return self.result()

    def result(self):
        """Return a :class:`SolverResult` for the current state (``x`` is copied)."""
        status = self._status
        rel = self.certificate
        if status is None:
            status = SolverStatus.MAX_ITER
            message = f"running: relative residual {rel:.3e} after {self._iteration} iterations"
        elif status is SolverStatus.CONVERGED:
            message = (
                f"relative residual ||b - Hx||/||b|| = {rel:.3e} <= tol = {self._tol:.3e} "
                f"after {self._iteration} iterations"
            )
        elif status is SolverStatus.MAX_ITER:
            message = (
                f"reached max_iter = {self._max_iter} with relative residual {rel:.3e} "
                f"(tol = {self._tol:.3e})"
            )
        elif status is SolverStatus.NONPOSITIVE_CURVATURE:
            message = (
                f"non-positive curvature <p, Hp> <= 0 or <r, Mr> <= 0 at iteration "
                f"{self._iteration}: H or the preconditioner M is not positive definite"
            )
        elif status is SolverStatus.NONFINITE:
            message = f"non-finite residual or curvature at iteration {self._iteration}"
        else:
            message = f"stopped by callback at iteration {self._iteration}"
        _logger.debug("%s: %s", self.name, message)
        return SolverResult(
            x=self._ops.element_copy(self._x),
            status=status,
            message=message,
            iterations=self._iteration,
            certificate=rel,
            tol=self._tol,
            solver=self.name,
            hessian_products=self._products,
            wall_time=self._clock.total,
            history=tuple(self._history),
        )


def conjugate_gradient(H, b, x0=None, *, tol, max_iter=1000, callback=None, preconditioner=None):
    r"""Solve :math:`Hx = b` by conjugate gradients until :math:`\|b-Hx\| \le \mathrm{tol}\,\|b\|`.

    Function form of :class:`ConjugateGradient`; see there for the iteration,
    the restart on residual drift and the error bound
    :math:`\|x - x^*\| \le \|b - Hx\|/\lambda_{\min}(H)`.

    Parameters
    ----------
    H : odl.Operator
        Self-adjoint positive-definite linear operator on one space.
    b : element of ``H.range`` or array-like
        Right-hand side.
    x0 : element of ``H.domain`` or array-like, optional
        Starting point (copied, never modified). Default: zero.
    tol : float
        Relative-residual tolerance.
    max_iter : int, optional
        Maximal number of iterations.
    callback : callable, optional
        ``callback(solver)`` after every iteration; ``True`` stops.
    preconditioner : odl.Operator, optional
        SPD :math:`M \approx H^{-1}` (preconditioned CG; see the class).

    Returns
    -------
    SolverResult
        ``certificate`` is the true relative residual :math:`\|b-Hx\|/\|b\|`
        when converged, the recursive one otherwise; ``hessian_products``
        counts the applications of :math:`H`.

    Raises
    ------
    TypeError, ValueError
        See :class:`ConjugateGradient`.

    Examples
    --------
    >>> import numpy as np, odl
    >>> X = odl.rn(2)
    >>> H = odl.MatrixOperator(np.array([[2.0, 1.0], [1.0, 3.0]]), domain=X, range=X)
    >>> res = conjugate_gradient(H, X.element([1.0, 2.0]), tol=1e-10)
    >>> res.converged, [round(float(t), 6) for t in res.x]
    (True, [0.2, 0.6])
    """
    return ConjugateGradient(
        H, b, x0, tol=tol, max_iter=max_iter, callback=callback, preconditioner=preconditioner
    ).run()
