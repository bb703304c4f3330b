r"""PDHG for nonsmooth lower levels, stopped on the primal-dual gap.

``odl.solvers.pdhg`` runs a fixed ``niter`` and reports nothing
(DESIGN.md §3.5), but it updates the primal iterate ``x``, the dual iterate
``y`` and the relaxed point ``x_relax`` in place, so it resumes exactly where
it stopped. :class:`PDHG` runs it in chunks of ``chunk`` iterations and
evaluates the primal-dual gap of a :class:`~odl_bilevel.functionals.PDHGForm`
between chunks.
"""

import logging
import math

import odl

from .._validation import require_element, require_nonnegative, require_positive
from ..functionals import PDHGForm
from ._common import Clock, check_callback, check_int, finite, start_point
from ._result import SolverResult, SolverStatus
from ._vector import vector_ops

__all__ = ["PDHG", "pdhg_solve"]

_logger = logging.getLogger(__name__)


def _step_sizes(form, tau, sigma):
    """Return float ``(tau, sigma)`` with ``tau * sigma * form.norm_bound < 1``."""
    bound = float(form.norm_bound)
    if tau is None and sigma is None:
        return form.step_sizes()
    safety2 = 0.99**2
    if sigma is None:
        tau = require_positive(tau, "tau")
        return tau, safety2 / (tau * bound)
    if tau is None:
        sigma = require_positive(sigma, "sigma")
        return safety2 / (sigma * bound), sigma
    tau = require_positive(tau, "tau")
    sigma = require_positive(sigma, "sigma")
    if tau * sigma * bound >= 1.0:
        raise ValueError(
            f"`tau` and `sigma` must satisfy tau * sigma * ||L||^2 < 1, got "
            f"{tau} * {sigma} * {bound} = {tau * sigma * bound:.4g}"
        )
    return tau, sigma


class PDHG:
    r"""PDHG (Chambolle & Pock 2011) in chunks with a primal-dual-gap stop, steppable.

    Solves :math:`\min_z P(z) = f(z) + g(Lz)` for a
    :class:`~odl_bilevel.functionals.PDHGForm` by running
    ``odl.solvers.pdhg`` for ``chunk`` iterations per :meth:`step` and then
    evaluating the gap

    .. math::
        G(z, y) = P(z) - D(y) \;\ge\; P(z) - \min P \;\ge\; 0

    (:func:`~odl_bilevel.functionals.primal_dual_gap`). It stops when
    :math:`G \le \mathrm{tol}`, or with ``relative=True`` when
    :math:`G \le \mathrm{tol}\,|P(z)|`. If :math:`P` is :math:`\mu`-strongly
    convex (e.g. the data term :math:`\frac12\|x-y\|^2` of denoising,
    :math:`\mu=1`), the gap bounds the error:
    :math:`\|z - \hat z\| \le \sqrt{2G/\mu}`.

    Parameters
    ----------
    form : PDHGForm
        The problem :math:`(f, g, L)` with a bound on :math:`\|L\|^2`.
    x0 : element of ``form.domain`` or array-like, optional
        Primal starting point (warm start); copied, never modified.
        Default: zero.
    y0 : element of ``form.dual_space``, optional
        Dual starting point (warm start); copied. Default: zero.
    tol : float
        Gap tolerance (see above); ``tol=0`` runs exactly ``max_iter``
        iterations.
    max_iter : int, optional
        Maximal number of PDHG iterations (status ``MAX_ITER``).
    chunk : int, optional
        PDHG iterations between gap evaluations. A gap evaluation costs
        about two PDHG iterations (one :math:`L`, one :math:`L^*`, the
        functionals), so the default 50 spends about 4 % on checking.
    tau, sigma : float, optional
        Primal and dual step sizes, :math:`\tau\sigma\|L\|^2 < 1`. Default:
        ``form.step_sizes()`` (:math:`\tau=\sigma=0.99/\|L\|`); if only one
        is given the other is :math:`0.99^2/(\cdot\,\|L\|^2)`.
    relative : bool, optional
        Use the relative gap :math:`G/|P(z)|`.
    gamma : float, optional
        Strong-convexity modulus :math:`\gamma > 0` of :math:`f` (e.g. 1 for
        :math:`\frac12\|x-y\|^2`): enables the accelerated variant
        (Chambolle & Pock 2011, Alg. 2; ODL's ``gamma_primal``) with
        :math:`\theta_k = (1+2\gamma\tau_k)^{-1/2}`,
        :math:`\tau_{k+1}=\theta_k\tau_k`, :math:`\sigma_{k+1}=\sigma_k/\theta_k`,
        which improves the rate from :math:`O(1/k)` to :math:`O(1/k^2)`. The
        step sizes are carried from chunk to chunk. Only valid if :math:`f`
        is :math:`\gamma`-strongly convex (not for the TGV form, whose
        :math:`f` is zero on :math:`v`).
    callback : callable, optional
        Called as ``callback(solver)`` after every chunk (read ``solver.x``,
        ``solver.y``, ``solver.iteration``, ``solver.certificate``);
        returning ``True`` stops the run.

    Raises
    ------
    TypeError
        If ``form`` is not a :class:`~odl_bilevel.functionals.PDHGForm` or
        ``callback`` is not callable.
    ValueError
        If ``tol < 0``, ``max_iter < 0``, ``chunk < 1``, the step sizes are
        not positive or violate :math:`\tau\sigma\|L\|^2<1`, or ``x0``/``y0``
        are not in the spaces or hold NaN/Inf. The message names the argument.

    Notes
    -----
    ``result.operator_applications`` counts :math:`2` per iteration
    (:math:`L` and :math:`L^*`) plus :math:`2` per gap evaluation; the dual
    iterate is returned as ``result.y``.

    References
    ----------
    A. Chambolle and T. Pock, A first-order primal-dual algorithm for convex
    problems with applications to imaging, *JMIV* 40:120–145, 2011.

    Examples
    --------
    >>> import odl
    >>> from odl_bilevel.functionals import tv_pdhg_form
    >>> from odl_bilevel.operators import unit_cell_space
    >>> X = unit_cell_space(8)
    >>> y = X.element([0, 0, 0, 0, 1, 1, 1, 1])
    >>> form = tv_pdhg_form(0.5 * odl.functionals.L2NormSquared(X).translated(y), 0.1)
    >>> res = PDHG(form, tol=1e-9).run()
    >>> res.status.name, res.certificate <= 1e-9
    ('CONVERGED', True)
    >>> [round(float(t), 4) for t in res.x]
    [0.025, 0.025, 0.025, 0.025, 0.975, 0.975, 0.975, 0.975]
    """

    name = "pdhg"

    def __init__(
        self,
        form,
        x0=None,
        *,
        tol,
        max_iter=10_000,
        chunk=50,
        tau=None,
        sigma=None,
        y0=None,
        relative=False,
        gamma=None,
        callback=None,
    ):
        self._clock = Clock()
        with self._clock:
            if not isinstance(form, PDHGForm):
                raise TypeError(f"`form` must be a PDHGForm, got {type(form).__name__}")
            self._form = form
            self._tol = require_nonnegative(tol, "tol")
            self._max_iter = check_int(max_iter, "max_iter", minimum=0)
            self._chunk = check_int(chunk, "chunk", minimum=1)
            self._tau, self._sigma = _step_sizes(form, tau, sigma)
            self._relative = bool(relative)
            self._gamma = None if gamma is None else require_positive(gamma, "gamma")
            self._callback = check_callback(callback)
            self._ops = vector_ops(form.domain)
            self._x = start_point(x0, form.domain, self._ops)
            self._x_relax = self._ops.element_copy(self._x)
            if y0 is None:
                self._y = form.dual_space.zero()
            else:
                self._y = require_element(y0, form.dual_space, "y0").copy()
            self._iteration = 0
            self._gap_evaluations = 0
            self._history = []
            self._status = None
            self._primal = math.nan
            self._check()

    # -- state ---------------------------------------------------------------------------
    @property
    def x(self):
        """The primal iterate :math:`z` (live buffer; copy it before modifying)."""
        return self._x

    @property
    def y(self):
        """The dual iterate (live buffer)."""
        return self._y

    @property
    def iteration(self):
        """Number of PDHG iterations done so far."""
        return self._iteration

    @property
    def certificate(self):
        """The gap (or relative gap) at the last check."""
        return self._history[-1]

    @property
    def primal_value(self):
        """:math:`P(z)` at the last check."""
        return self._primal

    @property
    def step_sizes(self):
        """The current step sizes ``(tau, sigma)`` (floats; they vary if ``gamma`` is set)."""
        return self._tau, self._sigma

    @property
    def status(self):
        """The :class:`SolverStatus` once the run has stopped, ``None`` while it runs."""
        return self._status

    # -- iteration -----------------------------------------------------------------------
    def _check(self):
        form = self._form
        self._gap_evaluations += 1
        primal = form.primal_objective(self._x)
        gap = primal - form.dual_objective(self._y) if finite(primal) else math.nan
        self._primal = primal
        cert = gap / abs(primal) if self._relative and primal != 0 else gap
        self._history.append(cert)
        _logger.debug("PDHG iteration %d: gap %.3e, P = %.6e", self._iteration, gap, primal)
        if math.isnan(cert) or not finite(primal):
            self._status = SolverStatus.NONFINITE
        elif cert <= self._tol:
            self._status = SolverStatus.CONVERGED
        elif self._iteration >= self._max_iter:
            self._status = SolverStatus.MAX_ITER

    def step(self):
        """Run one chunk of PDHG iterations and evaluate the gap.

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
            form = self._form
            niter = min(self._chunk, self._max_iter - self._iteration)
            odl.solvers.pdhg(
                self._x,
                form.f,
                form.g,
                form.L,
                niter,
                tau=self._tau,
                sigma=self._sigma,
                x_relax=self._x_relax,
                y=self._y,
                gamma_primal=self._gamma,
            )
            if self._gamma is not None:
                # Replay ODL's step-size updates so that the next chunk resumes exactly.
                for _ in range(niter):
                    theta = 1.0 / math.sqrt(1.0 + 2.0 * self._gamma * self._tau)
                    self._tau *= theta
                    self._sigma /= theta
            self._iteration += niter
            self._check()
            if self._callback is not None and self._callback(self) is True:
                if self._status is None:
                    self._status = SolverStatus.STOPPED_BY_CALLBACK
        return self._status

    def run(self):
        """Iterate until the gap reaches ``tol``, ``max_iter`` or a stop.

        Returns
        -------
        SolverResult
        """
        while self._status is None:
            self.step()
        return self.result()

    def result(self):
        """Return a :class:`SolverResult` (``x`` and ``y`` are copies)."""
        status = self._status
        cert = self.certificate
        what = "relative gap G/|P|" if self._relative else "primal-dual gap G"
        if status is None:
            status = SolverStatus.MAX_ITER
            message = f"running: {what} {cert:.3e} after {self._iteration} iterations"
        elif status is SolverStatus.CONVERGED:
            message = (
                f"{what} = {cert:.3e} <= tol = {self._tol:.3e} "
                f"after {self._iteration} iterations"
            )
        elif status is SolverStatus.MAX_ITER:
            message = (
                f"reached max_iter = {self._max_iter} with {what} {cert:.3e} "
                f"(tol = {self._tol:.3e})"
            )
        elif status is SolverStatus.NONFINITE:
            message = f"non-finite objective or gap at iteration {self._iteration}"
        else:
            message = f"stopped by callback at iteration {self._iteration}"
        _logger.debug("%s: %s", self.name, message)
        return SolverResult(
            x=self._ops.element_copy(self._x),
            y=self._y.copy(),
            status=status,
            message=message,
            iterations=self._iteration,
            certificate=cert,
            tol=self._tol,
            solver=self.name,
            operator_applications=2 * self._iteration + 2 * self._gap_evaluations,
            wall_time=self._clock.total,
            history=tuple(self._history),
        )


def pdhg_solve(
    form,
    x0=None,
    *,
    tol,
    max_iter=10_000,
    chunk=50,
    tau=None,
    sigma=None,
    y0=None,
    relative=False,
    gamma=None,
    callback=None,
):
    r"""Solve :math:`\min_z f(z) + g(Lz)` by PDHG until the primal-dual gap is :math:`\le` ``tol``.

    Function form of :class:`PDHG`; see there for the gap, the error bound
    :math:`\|z-\hat z\| \le \sqrt{2G/\mu}` for :math:`\mu`-strongly convex
    :math:`P`, and all parameters.

    Parameters
    ----------
    form : PDHGForm
        The problem, e.g. from :func:`~odl_bilevel.functionals.tv_pdhg_form`.
    x0 : element of ``form.domain`` or array-like, optional
        Primal warm start (copied). Default: zero.
    tol : float
        Stop when :math:`G(z, y) \le \mathrm{tol}` (``relative=True``:
        :math:`G \le \mathrm{tol}\,|P(z)|`).
    max_iter : int, optional
        Maximal number of PDHG iterations.
    chunk : int, optional
        Iterations between gap evaluations.
    tau, sigma : float, optional
        Step sizes with :math:`\tau\sigma\|L\|^2 < 1`.
    y0 : element of ``form.dual_space``, optional
        Dual warm start (copied). Default: zero.
    relative : bool, optional
        Stop on the relative gap.
    gamma : float, optional
        Strong-convexity modulus of :math:`f`; enables acceleration.
    callback : callable, optional
        ``callback(solver)`` after every chunk; ``True`` stops.

    Returns
    -------
    SolverResult
        ``x`` the primal and ``y`` the dual iterate, ``certificate`` the
        (relative) gap at ``(x, y)``.

    Raises
    ------
    TypeError, ValueError
        See :class:`PDHG`.

    Examples
    --------
    >>> import numpy as np, odl
    >>> from odl_bilevel.functionals import tv_pdhg_form
    >>> from odl_bilevel.operators import unit_cell_space
    >>> X = unit_cell_space((8, 8))
    >>> noisy = X.element(np.random.default_rng(0).normal(size=(8, 8)))
    >>> form = tv_pdhg_form(0.5 * odl.functionals.L2NormSquared(X).translated(noisy), 0.2)
    >>> res = pdhg_solve(form, tol=1e-6)
    >>> res.converged, res.certificate <= 1e-6
    (True, True)
    """
    return PDHG(
        form,
        x0,
        tol=tol,
        max_iter=max_iter,
        chunk=chunk,
        tau=tau,
        sigma=sigma,
        y0=y0,
        relative=relative,
        gamma=gamma,
        callback=callback,
    ).run()
