r"""Reconstruction from a fixed sampling pattern and the best :math:`\alpha` for it.

For a fixed per-pixel pattern :math:`s \in [0, 1]^N` the lower level of
:func:`~odl_bilevel.problems.sampling_problem`,

.. math::

    \hat x_i(\alpha) = \operatorname*{argmin}_x\ \frac12\|S(Fx - y_i)\|^2
        + \alpha\Big(R(x) + \frac{\xi}{2}\|x\|^2\Big), \qquad S = \mathrm{diag}(s),

reconstructs k-space data :math:`y_i` (:func:`reconstruct_sampled`), and
:func:`optimise_alpha` picks the weight :math:`\alpha` that minimises the
training error :math:`\frac1n\sum_i\|\hat x_i(\alpha) - x_i^\dagger\|^2`, so
that patterns are compared each with its best regularisation weight.
"""

import logging
import math
import time

import numpy as np
from scipy.optimize import minimize_scalar

from .._validation import require_positive
from ..solvers import WorkLedger
from ._denoising import _as_samples
from ._sampling import sampling_phi
from ._sampling_common import check_int, check_pattern, default_tol, fixed_pattern_problem
from ._sampling_map import _check_kspace, _check_pair
from ._sampling_records import AlphaResult

__all__ = ["optimise_alpha", "reconstruct_sampled"]

logger = logging.getLogger(__name__)


def reconstruct_sampled(
    kspace,
    pattern,
    *,
    alpha,
    regulariser="tv",
    nu=1e-2,
    xi=1e-2,
    solver="fista",
    tol=None,
    max_iter=5000,
    executor=None,
    full_result=False,
):
    r"""Reconstruct images from k-space data sampled with a fixed pattern.

    .. math::

        \hat x_i = \operatorname*{argmin}_x\ \frac12\|S(Fx - y_i)\|^2
            + \alpha\Big(R(x) + \frac{\xi}{2}\|x\|^2\Big), \qquad S = \mathrm{diag}(s),

    with :math:`F` the unitary DFT, solved from zero by the certified
    lower-level solver until :math:`\|x - \hat x_i\| \le` ``tol`` (the
    energy of :func:`~odl_bilevel.problems.sampling_problem` with the free
    pattern :math:`\sigma = s`). Only the sampled entries of :math:`y_i` are
    read. Use it for held-out test data and for any baseline pattern.

    Parameters
    ----------
    kspace : sequence of array-like
        Complex k-space data :math:`y_i` of the image shape (unshifted DFT
        layout, e.g. from :func:`~odl_bilevel.problems.simulate_kspace`).
    pattern : array-like
        Per-pixel weights :math:`s \in [0, 1]` of the image shape (a 0/1
        mask for a binary pattern).
    alpha : float
        Regularisation weight :math:`\alpha > 0`.
    regulariser : {"tv", "tv2", "h1"} or callable, optional
        :math:`R`, as in :func:`~odl_bilevel.problems.sampling_problem`.
    nu, xi : float, optional
        TV smoothing :math:`\nu` and relative Tikhonov weight :math:`\xi`.
    solver : {"fista", "gradient_descent"}, optional
        Lower-level solver.
    tol : float or None, optional
        Certified error bound :math:`\|x - \hat x_i\| \le` ``tol``; None:
        :math:`10^{-3}\sqrt N` for :math:`N` pixels (an RMS error of at most
        :math:`10^{-3}` per pixel).
    max_iter : int, optional
        Iteration cap per solve (a solve stopped there is logged as a warning).
    executor : concurrent.futures.Executor, optional
        Runs the per-sample solves (None: one after another).
    full_result : bool, optional
        Return the :class:`~odl_bilevel.bilevel.LowerSolveResult` (solutions as
        ODL elements, certificates, statuses, work) instead of the arrays.

    Returns
    -------
    list of numpy.ndarray or LowerSolveResult
        The reconstructions :math:`\hat x_i` (float64, image shape).

    Raises
    ------
    TypeError, ValueError
        For bad data or options, naming the argument.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.problems import simulate_kspace
    >>> x = np.zeros((8, 8)); x[2:6, 2:6] = 1.0
    >>> [y] = simulate_kspace([x], 0.0)
    >>> [x_hat] = reconstruct_sampled([y], np.ones((8, 8)), alpha=1e-4, tol=1e-6)
    >>> round(float(np.abs(x_hat - x).max()), 2)
    0.0
    """
    pattern = check_pattern(pattern)
    if isinstance(kspace, np.ndarray) and kspace.ndim == pattern.ndim:
        raise ValueError(
            f"`kspace` must be a sequence of arrays (or a stack of shape (n, "
            f"{', '.join(map(str, pattern.shape))})), got one array of shape {kspace.shape}"
        )
    if not isinstance(kspace, np.ndarray | str | bytes) and hasattr(kspace, "__iter__"):
        kspace = list(kspace)
    n = len(kspace) if hasattr(kspace, "__len__") else -1
    kspace = _check_kspace(kspace, pattern.shape, n)
    if not kspace:
        raise ValueError("`kspace` must not be empty")
    require_positive(alpha, "alpha")
    tol = default_tol(tol, pattern.shape, "tol")
    max_iter = check_int(max_iter, "max_iter")
    dummy = [np.zeros(pattern.shape)] * len(kspace)
    problem = fixed_pattern_problem(
        dummy,
        kspace,
        pattern,
        alpha=alpha,
        regulariser=regulariser,
        nu=nu,
        xi=xi,
        learn_alpha=False,
        solver=solver,
        lower_tol=tol,
        lower_max_iter=max_iter,
        executor=executor,
    )
    result = problem.solve(sampling_phi(problem), warm_start=False)
    if full_result:
        return result
    return [np.array(x.data, dtype=float) for x in result.x]


class _Budget(Exception):
    """Raised inside the search when the evaluation budget is spent."""


class _LogAlphaObjective:
    r"""Cached :math:`f(t) = \frac1n\sum_i\|\hat x_i(e^t) - x_i^\dagger\|^2` (warm-started)."""

    def __init__(self, problem, sigma, bounds, max_evals):
        self.problem, self.sigma = problem, sigma
        self.lo, self.hi = bounds
        self.max_evals = max_evals
        self.cache = {}
        self.history = []

    def __call__(self, t):
        t = float(min(max(t, self.lo), self.hi))
        key = round(t, 12)
        if key in self.cache:
            return self.cache[key]
        if len(self.cache) >= self.max_evals:
            raise _Budget
        phi = sampling_phi(self.problem, self.sigma, math.exp(t))
        value = float(self.problem.objective(phi).value)
        self.cache[key] = value
        self.history.append((math.exp(t), value))
        logger.debug("optimise_alpha: alpha = %.4g -> objective %.6g", math.exp(t), value)
        return value

    def best(self):
        key = min(self.cache, key=self.cache.get)
        return key, self.cache[key]


def _bracket(f, t0, step):
    """Return ``(a, c)`` around a local minimiser of ``f`` on ``[f.lo, f.hi]``, from ``t0``."""
    lo, hi = f.lo, f.hi

    def clip(t):
        return min(max(t, lo), hi)

    prev = clip(t0)
    cur = clip(prev + step) if prev < hi else clip(prev - step)
    if f(cur) > f(prev):
        other = clip(prev - (cur - prev))
        if other == prev or f(other) >= f(prev):
            return min(cur, other), max(cur, other)
        cur = other
    while True:
        nxt = clip(cur + 2.0 * (cur - prev))
        if nxt == cur:  # the minimum lies at a bound
            return min(prev, cur), max(prev, cur)
        if f(nxt) >= f(cur):
            return min(prev, nxt), max(prev, nxt)
        prev, cur = cur, nxt


def optimise_alpha(
    clean,
    kspace,
    pattern,
    *,
    regulariser="tv",
    nu=1e-2,
    xi=1e-2,
    alpha_bounds=(1e-5, 1.0),
    xatol=0.05,
    max_evals=30,
    solver="fista",
    lower_tol=None,
    lower_max_iter=5000,
    executor=None,
    alpha0=None,
):
    r"""Find the regularisation weight :math:`\alpha` that suits a fixed sampling pattern best.

    .. math::

        \alpha^* = \operatorname*{argmin}_{\alpha_{\min}\le\alpha\le\alpha_{\max}}
            \frac1n\sum_{i=1}^n\|\hat x_i(\alpha) - x_i^\dagger\|^2,

    with :math:`\hat x_i(\alpha)` the reconstruction of
    :func:`reconstruct_sampled`. The search runs over :math:`t = \log\alpha`:
    from :math:`t_0 = \log\alpha_0` it brackets a local minimiser by steps
    that double (starting at 1, a factor :math:`e`) and then refines it by
    SciPy's bounded Brent method (``minimize_scalar(method="bounded")``)
    until the bracket is shorter than about ``xatol`` in :math:`t` (a
    relative accuracy of ``xatol`` in :math:`\alpha`). Every evaluation
    solves the ``n`` lower-level problems, warm-started from the previous
    :math:`\alpha`. Starting near a good :math:`\alpha` (e.g. the one used
    while learning the pattern) avoids evaluations at tiny :math:`\alpha`,
    where the lower level is badly conditioned (strong convexity
    :math:`\alpha\xi` where :math:`s` vanishes) and costly.

    Parameters
    ----------
    clean : sequence of array-like
        Ground truths :math:`x_i^\dagger` (1-D or 2-D, one shape).
    kspace : sequence of array-like
        Their k-space data :math:`y_i`.
    pattern : array-like
        Per-pixel weights :math:`s \in [0, 1]` of the image shape.
    regulariser, nu, xi, solver, executor
        As in :func:`reconstruct_sampled`.
    alpha_bounds : (float, float), optional
        Positive bounds :math:`(\alpha_{\min}, \alpha_{\max})`.
    xatol : float, optional
        Absolute tolerance on :math:`\log\alpha` of the final bracket.
    max_evals : int, optional
        Most distinct :math:`\alpha` evaluated (the best so far is returned
        when they are spent).
    lower_tol : float or None, optional
        Certified lower-level tolerance (None: :math:`10^{-3}\sqrt N`).
    lower_max_iter : int, optional
        Iteration cap per lower-level solve.
    alpha0 : float or None, optional
        Starting weight; None: the geometric mean of ``alpha_bounds``.

    Returns
    -------
    AlphaResult
        ``alpha``, its ``objective``, the number of ``evaluations``, the
        ``work`` (``lower_solves`` is ``n`` times ``evaluations``), the
        ``history`` of :math:`(\alpha, \text{objective})`, and ``at_bound``
        (``"lower"``/``"upper"`` if the best :math:`\alpha` lies on a bound,
        logged as a warning: the minimiser may lie outside).

    Raises
    ------
    TypeError, ValueError
        For bad data or options, naming the argument.

    Notes
    -----
    The training error of a fixed pattern is a smooth function of
    :math:`\log\alpha`, usually unimodal: too small an :math:`\alpha` leaves
    noise and aliasing, too large a one oversmooths. Only a local minimiser
    is guaranteed.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.problems import simulate_kspace
    >>> x = np.zeros((8, 8)); x[2:6, 3:7] = 1.0
    >>> kspace = simulate_kspace([x], 0.1, rng=0)
    >>> res = optimise_alpha([x], kspace, np.ones((8, 8)), alpha0=0.01, xatol=0.2)
    >>> res.evaluations == len(res.history), res.work["lower_solves"] == res.evaluations
    (True, True)
    >>> bool(res.objective <= min(v for a, v in res.history))
    True
    """
    start = time.perf_counter()
    pattern = check_pattern(pattern)
    clean = _as_samples(clean, "clean")
    for k, c in enumerate(clean):
        if c.shape != pattern.shape:
            raise ValueError(
                f"`clean[{k}]` has shape {c.shape}, expected {pattern.shape} (as pattern)"
            )
    kspace = _check_kspace(kspace, pattern.shape, len(clean))
    a_lo, a_hi = _check_pair(alpha_bounds, "alpha_bounds", positive=True)
    xatol = require_positive(xatol, "xatol")
    max_evals = check_int(max_evals, "max_evals", 2)
    lower_tol = default_tol(lower_tol, pattern.shape, "lower_tol")
    lower_max_iter = check_int(lower_max_iter, "lower_max_iter")
    if alpha0 is None:
        alpha0 = math.sqrt(a_lo * a_hi)
    alpha0 = require_positive(alpha0, "alpha0")
    alpha0 = min(max(alpha0, a_lo), a_hi)
    problem = fixed_pattern_problem(
        clean,
        kspace,
        pattern,
        alpha=alpha0,
        regulariser=regulariser,
        nu=nu,
        xi=xi,
        learn_alpha=True,
        alpha_bounds=(a_lo, a_hi),
        solver=solver,
        lower_tol=lower_tol,
        lower_max_iter=lower_max_iter,
        executor=executor,
    )
    sigma = pattern.ravel()
    f = _LogAlphaObjective(problem, sigma, (math.log(a_lo), math.log(a_hi)), max_evals)
    message = "converged: the bracket is shorter than xatol"
    try:
        a, c = _bracket(f, math.log(alpha0), 1.0)
        if c - a > xatol:
            minimize_scalar(
                f,
                bounds=(a, c),
                method="bounded",
                options={"xatol": xatol, "maxiter": max_evals},
            )
    except _Budget:
        message = f"stopped: the budget of {max_evals} evaluations is spent"
    t_best, value = f.best()
    at_bound = None
    if t_best <= math.log(a_lo) + xatol:
        at_bound = "lower"
    elif t_best >= math.log(a_hi) - xatol:
        at_bound = "upper"
    if at_bound is not None:
        message += (
            f"; the best alpha lies at the {at_bound} bound of alpha_bounds ({a_lo:.3g}, "
            f"{a_hi:.3g}): widen them to search further"
        )
        logger.warning("optimise_alpha: %s", message)
    work = WorkLedger() + problem.ledger
    work.wall_time = time.perf_counter() - start
    logger.info(
        "optimise_alpha: alpha = %.4g (objective %.6g) after %d evaluations",
        math.exp(t_best),
        value,
        len(f.cache),
    )
    return AlphaResult(
        alpha=float(math.exp(t_best)),
        objective=float(value),
        evaluations=len(f.cache),
        work=work.as_dict(),
        history=tuple(f.history),
        message=message,
        at_bound=at_bound,
    )
