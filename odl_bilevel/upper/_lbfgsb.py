r"""L-BFGS-B over a bilevel problem with implicit hypergradients, checkpoints and resume.

The upper-level problem (DESIGN.md §1) in the learned variables :math:`\varphi`
(parameters :math:`\theta = T(\varphi)`) is

.. math::

    \min_{\ell \le \varphi \le u} U(\varphi), \qquad
    U(\varphi) = \frac1n\sum_{i=1}^n \ell(\hat x_i(T(\varphi)), x_i^\dagger) + J(T(\varphi)).

:func:`lbfgsb` hands :math:`U` and its hypergradient
(:meth:`BilevelProblem.value_and_gradient`) to SciPy's L-BFGS-B (Byrd et al.
1995; Zhu et al. 1997) with the bounds of the problem's parameter map.
"""

import collections
import logging
import numbers
import os
import time

import numpy as np
from scipy.optimize import minimize

from ._checkpoint import checkpoint_exists, load_checkpoint, problem_fingerprint, save_checkpoint
from ._records import IterationRecord, UpperResult, UpperStatus

__all__ = ["lbfgsb"]

logger = logging.getLogger(__name__)

_ENGINE = "lbfgsb"
_CACHE_SIZE = 8


def _check_problem(problem):
    for attr in ("value_and_gradient", "parameter_map", "ledger", "state_dict", "load_state_dict"):
        if not hasattr(problem, attr):
            raise TypeError(
                f"`problem` must be a BilevelProblem (it has no `{attr}`), "
                f"got {type(problem).__name__}"
            )
    return problem


def _check_bounds(phi, bounds, name):
    if bounds is None:
        return
    for j, (value, bound) in enumerate(zip(phi, bounds, strict=True)):
        lo, hi = (None, None) if bound is None else bound
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            raise ValueError(f"`{name}[{j}]` = {value} lies outside its bounds ({lo}, {hi})")


def _check_phi0(phi0, size):
    phi = np.array(phi0, dtype=float)
    if phi.ndim > 1:
        raise ValueError(f"`phi0` must be a 1-D array, got shape {phi.shape}")
    phi = phi.ravel()
    if phi.size != size:
        raise ValueError(f"`phi0` must have {size} entries (parameter_map.size), got {phi.size}")
    if not np.all(np.isfinite(phi)):
        raise ValueError(f"`phi0` must be finite, got {phi}")
    return phi


def _check_int(value, name, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"`{name}` must be an integer, got {value!r}")
    if value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value}")
    return int(value)


def _check_tol(value, name, *, allow_none, positive):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a real number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < 0 or (positive and value == 0):
        kind = "positive" if positive else "non-negative"
        raise ValueError(f"`{name}` must be finite and {kind}, got {value}")
    return value


def _status_from_scipy(res, stopped):
    if stopped or res.status == 99:
        return UpperStatus.STOPPED_BY_CALLBACK
    if res.status == 0:
        return UpperStatus.CONVERGED
    if res.status == 1:
        return UpperStatus.MAX_ITER
    return UpperStatus.FAILED


def _projected_gradient(phi, gradient, bounds):
    """The gradient with the components removed that point out of the box at active bounds."""
    pg = np.array(gradient, dtype=float)
    if bounds is None:
        return pg
    for j, (lo, hi) in enumerate(bounds):
        if (lo is not None and phi[j] <= lo and pg[j] > 0) or (
            hi is not None and phi[j] >= hi and pg[j] < 0
        ):
            pg[j] = 0.0
    return pg


def _lower_tol_of(evaluation, default):
    """The lower-level tolerance that an evaluation used (``default`` if it does not say)."""
    solves = getattr(getattr(evaluation, "objective", None), "solves", None)
    tol = getattr(solves, "tol", None)
    return float(default if tol is None else tol)


class _Evaluator:
    """``value_and_gradient`` with a small cache keyed by the exact bytes of ``phi``.

    L-BFGS-B evaluates :math:`U` at trial points of its line search; the
    accepted point is one of them, so the history reads its values from the
    cache instead of solving the lower level again.
    """

    def __init__(self, problem, lower_tol, cg_tol):
        self.problem, self.lower_tol, self.cg_tol = problem, lower_tol, cg_tol
        self._cache = collections.OrderedDict()
        self.evaluations = 0

    def __call__(self, phi):
        phi = np.array(phi, dtype=float)
        key = phi.tobytes()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        evaluation = self.problem.value_and_gradient(phi, tol=self.lower_tol, cg_tol=self.cg_tol)
        self.evaluations += 1
        gradient = np.asarray(evaluation.gradient, dtype=float)
        if gradient.shape != phi.shape:
            raise ValueError(
                f"`problem.value_and_gradient` returned a gradient of shape {gradient.shape}, "
                f"expected {phi.shape}"
            )
        self._cache[key] = evaluation
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return evaluation

    def fun(self, phi):
        evaluation = self(phi)
        return float(evaluation.value), np.array(evaluation.gradient, dtype=float)


def lbfgsb(
    problem,
    phi0,
    *,
    max_iter=50,
    gtol=1e-6,
    ftol=1e-9,
    lower_tol=None,
    cg_tol=None,
    callback=None,
    checkpoint=None,
    resume=False,
    memory=10,
    max_line_search=20,
):
    r"""Minimise the upper objective :math:`U(\varphi)` of ``problem`` by L-BFGS-B.

    Each evaluation solves the lower-level problems to the certificate
    :math:`\|x_i - \hat x_i\| \le` ``lower_tol`` (warm-started from the
    previous solutions, which the problem keeps) and computes the implicit
    hypergradient with CG to relative residual ``cg_tol``
    (:meth:`BilevelProblem.value_and_gradient`). SciPy's L-BFGS-B stops when

    .. math::

        \max_j |\operatorname{proj} \nabla U(\varphi_k)|_j \le \mathtt{gtol}
        \quad\text{or}\quad
        \frac{U_{k-1} - U_k}{\max(|U_{k-1}|, |U_k|, 1)} \le \mathtt{ftol},

    with :math:`\operatorname{proj}` the projection onto the bounds
    ``problem.parameter_map.bounds`` (``UpperStatus.CONVERGED``), or after
    ``max_iter`` iterations (``UpperStatus.MAX_ITER``).

    Parameters
    ----------
    problem : BilevelProblem
        The bilevel problem: ``value_and_gradient``, ``parameter_map``
        (``forward``, ``size``, ``names``, ``bounds``), ``ledger``,
        ``n_samples``, ``state_dict``/``load_state_dict``.
    phi0 : array-like
        Starting learned variables :math:`\varphi_0` (inside the bounds).
        Ignored when ``resume`` finds a checkpoint.
    max_iter : int, optional
        Iteration budget, counted over all resumed parts of a run.
    gtol, ftol : float, optional
        SciPy's projected-gradient and relative-reduction tolerances (above).
    lower_tol, cg_tol : float, optional
        Lower-level tolerance :math:`\varepsilon` and CG relative-residual
        tolerance; default: the problem's ``lower_tol`` and ``cg_tol``.
    memory : int, optional
        Number of curvature pairs of the limited-memory Hessian (SciPy's
        ``maxcor``).
    max_line_search : int, optional
        Most evaluations in one line search (SciPy's ``maxls``); every
        evaluation costs ``n`` lower-level solves.
    callback : callable, optional
        Called as ``callback(record)`` with every new :class:`IterationRecord`
        (the starting point too); returning ``True`` stops the run with
        ``UpperStatus.STOPPED_BY_CALLBACK``.
    checkpoint : str or os.PathLike, optional
        Directory of a checkpoint written after every iteration
        (:func:`~odl_bilevel.upper.save_checkpoint`: history, :math:`\varphi`,
        the problem's warm starts and work ledger, the status).
    resume : bool, optional
        Continue the run stored in ``checkpoint``: restore history, ledger
        and warm starts and go on from its last :math:`\varphi` with the
        remaining iteration budget. Without a checkpoint there, start from
        ``phi0``. A run that had converged is returned as stored.

    Returns
    -------
    UpperResult
        Final :math:`\varphi`, :math:`\theta`, objective, status with SciPy's
        message, history (iteration 0 = starting point) and total work;
        ``engine="lbfgsb"``.

    Raises
    ------
    TypeError
        If ``problem`` lacks the BilevelProblem interface, or an option has
        the wrong type (the message names it).
    ValueError
        If ``phi0`` has the wrong size, is not finite or lies outside the
        bounds; if a tolerance is negative; if ``resume`` is set without
        ``checkpoint``; if the checkpoint belongs to another problem or engine
        (the message names ``checkpoint``).

    Notes
    -----
    The history records the values of the accepted point from the cached
    line-search evaluation, without solving again. SciPy's ``callback`` is
    given ``intermediate_result`` (SciPy >= 1.11) and a stop is signalled by
    raising ``StopIteration`` there.

    With inexact hypergradients the line search can fail once the gradient
    is as small as its error (SciPy's ``ABNORMAL`` status). If at that point
    the projected hypergradient norm is at most the gradient's certified
    error bound, the point is stationary to the accuracy available and the
    run is reported as ``CONVERGED`` (the message says so); otherwise as
    ``FAILED``. Give ``parameter_map.bounds``: a line search may try very
    large steps, e.g. a huge weight :math:`\alpha` at which the lower level
    is badly conditioned and costly.

    On resume the L-BFGS memory (the last curvature pairs) is *not* restored:
    SciPy offers no way to seed it, so the resumed run starts with a
    steepest-descent step from the stored :math:`\varphi` and rebuilds the
    memory. The iterates after a resume therefore differ from an
    uninterrupted run, though both converge to the same stationary point; the
    warm starts make the first evaluation after a resume nearly free.

    References
    ----------
    Byrd, R. H., Lu, P., Nocedal, J., Zhu, C. (1995). A limited memory
    algorithm for bound constrained optimization. *SIAM J. Sci. Comput.* 16,
    1190-1208.

    Zhu, C., Byrd, R. H., Lu, P., Nocedal, J. (1997). Algorithm 778: L-BFGS-B.
    *ACM Trans. Math. Softw.* 23, 550-560.

    Examples
    --------
    Learn :math:`\xi` of :math:`E(x;\xi) = \frac12\|x - y\|^2 + \frac\xi2\|x\|^2`,
    whose minimiser :math:`\hat x = y/(1+\xi)` equals :math:`x^\dagger = y/2` at
    :math:`\xi = 1`:

    >>> import numpy as np, odl
    >>> from odl_bilevel.bilevel import BilevelProblem, ParameterMap
    >>> from odl_bilevel.functionals import L2DataFit, ParametrisedSum, Tikhonov
    >>> from odl_bilevel.operators import unit_cell_space
    >>> X = unit_cell_space((4,))
    >>> y = X.element([1.0, 2.0, 3.0, 4.0])
    >>> E = ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y), Tikhonov(X, xi=1.0))
    >>> problem = BilevelProblem([E], [0.5 * y], parameter_map=ParameterMap.log(("xi",)))
    >>> res = lbfgsb(problem, [np.log(0.1)], gtol=1e-8)
    >>> res.status.name, round(float(res.theta[0]), 4), res.history[0].iteration
    ('CONVERGED', 1.0, 0)
    """
    problem = _check_problem(problem)
    pmap = problem.parameter_map
    bounds = pmap.bounds
    if bounds is not None:
        bounds = [(None, None) if b is None else tuple(b) for b in bounds]
    phi0 = _check_phi0(phi0, int(pmap.size))
    max_iter = _check_int(max_iter, "max_iter", 1)
    gtol = _check_tol(gtol, "gtol", allow_none=False, positive=False)
    ftol = _check_tol(ftol, "ftol", allow_none=False, positive=False)
    memory = _check_int(memory, "memory", 1)
    max_line_search = _check_int(max_line_search, "max_line_search", 1)
    lower_tol = _check_tol(lower_tol, "lower_tol", allow_none=True, positive=True)
    cg_tol = _check_tol(cg_tol, "cg_tol", allow_none=True, positive=True)
    if callback is not None and not callable(callback):
        raise TypeError(f"`callback` must be callable or None, got {type(callback).__name__}")
    if checkpoint is not None and (
        isinstance(checkpoint, bool) or not isinstance(checkpoint, str | os.PathLike)
    ):
        raise TypeError(f"`checkpoint` must be a path (str or os.PathLike), got {checkpoint!r}")
    if not isinstance(resume, bool):
        raise TypeError(f"`resume` must be a bool, got {resume!r}")
    if resume and checkpoint is None:
        raise ValueError("`resume=True` needs a `checkpoint` directory to resume from")
    default_tol = lower_tol if lower_tol is not None else getattr(problem, "lower_tol", np.nan)
    options = {
        "max_iter": max_iter,
        "gtol": gtol,
        "ftol": ftol,
        "lower_tol": lower_tol,
        "cg_tol": cg_tol,
    }
    fingerprint = problem_fingerprint(problem) if checkpoint is not None else None

    history, wall_offset, phi_start = [], 0.0, phi0
    if resume and checkpoint_exists(checkpoint):
        stored = load_checkpoint(checkpoint, engine=_ENGINE, fingerprint=fingerprint)
        if not stored["history"]:
            raise ValueError(f"`checkpoint` at {checkpoint} holds no iterations")
        problem.load_state_dict(stored["problem_state"])
        history = list(stored["history"])
        phi_start = stored["phi"]
        _check_bounds(phi_start, bounds, "checkpoint phi")
        wall_offset = history[-1].wall_time
        extra = stored["extra"]
        done = history[-1].iteration
        logger.info("lbfgsb: resuming from %s after iteration %d", checkpoint, done)
        if extra.get("status") == UpperStatus.CONVERGED.value or done >= max_iter:
            status = (
                UpperStatus.CONVERGED
                if extra.get("status") == UpperStatus.CONVERGED.value
                else UpperStatus.MAX_ITER
            )
            message = (
                extra.get("message", "")
                if status is UpperStatus.CONVERGED
                else f"the checkpoint already holds {done} >= max_iter={max_iter} iterations"
            )
            return UpperResult(
                phi=phi_start,
                theta=pmap.forward(phi_start),
                objective=extra.get("objective", history[-1].objective),
                status=status,
                message=message,
                history=tuple(history),
                work=problem.ledger.as_dict(),
                engine=_ENGINE,
            )
    else:
        _check_bounds(phi0, bounds, "phi0")

    evaluator = _Evaluator(problem, lower_tol, cg_tol)
    clock0 = time.perf_counter()
    stopped = False

    def save(phi, status, message="", objective=None):
        if checkpoint is None:
            return
        extra = {"status": status, "message": message, "options": options}
        if objective is not None:
            extra["objective"] = float(objective)
        save_checkpoint(
            checkpoint,
            engine=_ENGINE,
            phi=phi,
            history=history,
            problem_state=problem.state_dict(),
            extra=extra,
            fingerprint=fingerprint,
        )

    def record(phi):
        """Append the record of the accepted point ``phi``; return whether to stop."""
        evaluation = evaluator(phi)
        gradient = np.asarray(evaluation.gradient, dtype=float)
        rec = IterationRecord(
            iteration=history[-1].iteration + 1 if history else 0,
            phi=phi,
            theta=pmap.forward(np.array(phi, dtype=float)),
            objective=float(evaluation.value),
            gradient_norm=float(np.linalg.norm(gradient)),
            error_bound=float(evaluation.error_bound),
            lower_tol=_lower_tol_of(evaluation, default_tol),
            work=problem.ledger.as_dict(),
            wall_time=wall_offset + time.perf_counter() - clock0,
        )
        history.append(rec)
        logger.info(
            "lbfgsb iteration %d: U = %.8g, |grad U| = %.3g (error bound %.3g)",
            rec.iteration,
            rec.objective,
            rec.gradient_norm,
            rec.error_bound,
        )
        save(phi, "running")
        return callback is not None and callback(rec) is True

    def scipy_callback(intermediate_result):
        nonlocal stopped
        if record(np.array(intermediate_result.x, dtype=float)):
            stopped = True
            raise StopIteration

    if history:
        evaluator(phi_start)  # nearly free: the warm starts sit at phi_start
        remaining = max_iter - history[-1].iteration
        stop_now = False
    else:
        remaining = max_iter
        stop_now = record(phi_start)

    if stop_now:
        res = None
        status, message = UpperStatus.STOPPED_BY_CALLBACK, "stopped by callback"
        phi_final = phi_start
    else:
        res = minimize(
            evaluator.fun,
            phi_start,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            callback=scipy_callback,
            options={
                "maxiter": remaining,
                "gtol": gtol,
                "ftol": ftol,
                "maxcor": memory,
                "maxls": max_line_search,
            },
        )
        status = _status_from_scipy(res, stopped)
        message = res.message.decode() if isinstance(res.message, bytes) else str(res.message)
        phi_final = np.array(res.x, dtype=float)
    final = evaluator(phi_final)
    if res is not None and res.status == 2:
        # Line-search failure: accept if the gradient is zero up to its certified error.
        pg_norm = float(np.linalg.norm(_projected_gradient(phi_final, final.gradient, bounds)))
        bound = float(final.error_bound)
        message = (
            f"{message.strip().rstrip(':')}: the line search found no decrease; projected "
            f"hypergradient norm {pg_norm:.3g}, its error bound {bound:.3g}"
        )
        if pg_norm <= bound:
            status = UpperStatus.CONVERGED
            message += "; accepted as stationary to the available accuracy"
        else:
            message += "; the hypergradient may be too inexact: tighten lower_tol and cg_tol"
    save(phi_final, status.value, message, final.value)
    logger.info(
        "lbfgsb finished: %s (%s) after %d evaluations",
        status.name,
        message,
        evaluator.evaluations,
    )
    return UpperResult(
        phi=phi_final,
        theta=pmap.forward(phi_final),
        objective=float(final.value),
        status=status,
        message=message,
        history=tuple(history),
        work=problem.ledger.as_dict(),
        engine=_ENGINE,
    )
