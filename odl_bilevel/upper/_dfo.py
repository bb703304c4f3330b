r"""Derivative-free Gauss–Newton trust-region method with dynamic lower-level accuracy.

The upper-level problem (DESIGN.md §1) in least-squares form,

.. math::
    \min_{l \le \varphi \le v} f(\varphi) = \|R(\varphi)\|^2, \qquad
    R = \big(r(\varphi), \sqrt{J(\theta)}\big), \qquad
    \|r\|^2 = \frac1n\sum_i\ell(\hat x_i(\theta), x_i^\dagger),

is solved with DFO-GN (Cartis & Roberts 2019): linear interpolation models of
the residuals on :math:`q + 1` points, the Gauss–Newton model
:math:`m_k(s) = \|R_k + J_ks\|^2`, a trust region with radius :math:`\Delta_k`
and lower bound :math:`\rho_k`, and geometry management of the interpolation
set. The residuals are computed from inexact lower-level solutions whose
accuracy the engine chooses (Ehrhardt & Roberts 2021; the rules are in
:mod:`odl_bilevel.upper._accuracy`).
"""

import logging
import os
import time

import numpy as np

from ._accuracy import ACCURACY_MODES
from ._checkpoint import checkpoint_exists, load_checkpoint, problem_fingerprint, save_checkpoint
from ._dfo_engine import DFOEngine
from ._dfo_records import DFOResult, EvaluationRecord
from ._lbfgsb import _check_bounds, _check_int, _check_phi0, _check_tol
from ._records import UpperStatus

__all__ = ["dfo"]

logger = logging.getLogger(__name__)

_ENGINE = "dfo"


def _check_problem(problem):
    for attr in ("residuals", "parameter_map", "ledger", "state_dict", "load_state_dict"):
        if not hasattr(problem, attr):
            raise TypeError(
                f"`problem` must be a BilevelProblem (it has no `{attr}`), "
                f"got {type(problem).__name__}"
            )
    return problem


def _box(bounds, q):
    lower, upper = np.full(q, -np.inf), np.full(q, np.inf)
    if bounds is not None:
        for j, bound in enumerate(bounds):
            lo, hi = (None, None) if bound is None else bound
            lower[j] = -np.inf if lo is None else float(lo)
            upper[j] = np.inf if hi is None else float(hi)
    return lower, upper


def _positive(value, name, *, allow_none=False):
    return _check_tol(value, name, allow_none=allow_none, positive=True)


def dfo(
    problem,
    phi0,
    *,
    accuracy="dynamic",
    fixed_iterations=200,
    fixed_tol=1e-6,
    max_evals=200,
    max_iter=None,
    radius_init=None,
    radius_min=1e-8,
    lower_tol_max=1e-1,
    lower_tol_min=1e-12,
    callback=None,
    checkpoint=None,
    resume=False,
):
    r"""Minimise the upper objective by derivative-free Gauss–Newton with dynamic accuracy.

    DFO-GN (Cartis & Roberts 2019) on the augmented residuals
    :math:`R = (r, \sqrt{J})` of :meth:`BilevelProblem.residuals`, so that
    :math:`\|R\|^2 = U(\varphi)` (penalty included), with the box bounds
    ``problem.parameter_map.bounds``. The lower-level accuracy of every
    evaluation follows ``accuracy``:

    ``"dynamic"`` (Ehrhardt & Roberts 2021)
        as loose as the current step allows (rules below);
    ``"fixed_iterations"``
        exactly ``fixed_iterations`` lower-level iterations per solve, the
        paper's baseline (200 and 2000);
    ``"fixed_tol"``
        tolerance ``fixed_tol`` for every solve.

    Every solve is warm-started from the sample's last solution, and every
    value comes from the solutions computed for its own :math:`\theta`
    (:class:`BilevelProblem` guarantees both).

    Parameters
    ----------
    problem : BilevelProblem
        Needs ``residuals(phi, *, tol, max_iter, warm_start)``,
        ``parameter_map`` (``forward``, ``size``, ``names``, ``bounds``),
        ``ledger``, ``n_samples``, ``state_dict``/``load_state_dict``. The
        loss needs a least-squares form (:class:`SquaredError`,
        :class:`NonsmoothLoss`) and the penalty must be non-negative.
    phi0 : array-like
        Starting point :math:`\varphi_0` inside the bounds (ignored when
        ``resume`` finds a checkpoint).
    accuracy : {"dynamic", "fixed_iterations", "fixed_tol"}
        Accuracy rule (above).
    fixed_iterations : int
        Lower-level iterations per solve for ``"fixed_iterations"``.
    fixed_tol : float
        Lower-level tolerance for ``"fixed_tol"``.
    max_evals : int
        Budget of evaluations (calls of ``problem.residuals``), at least
        :math:`q + 1`; counted over resumed parts.
    max_iter : int, optional
        Budget of trust-region iterations (default: none).
    radius_init : float, optional
        Initial radius :math:`\Delta_0 = \rho_0`; default
        :math:`0.1\max(\|\varphi_0\|_\infty, 1)`, reduced to half the
        narrowest bound width. It must fit: at most half of every
        :math:`v_j - l_j`.
    radius_min : float
        Final radius :math:`\rho_{\mathrm{end}}`: the run has converged when
        :math:`\rho` would fall below it.
    lower_tol_max, lower_tol_min : float
        Range of tolerances the dynamic rule may ask for.
    callback : callable, optional
        ``callback(record)`` with each :class:`IterationRecord` (the start
        too); ``True`` stops the run (``STOPPED_BY_CALLBACK``).
    checkpoint : str or os.PathLike, optional
        Directory of a checkpoint written after every iteration
        (interpolation set, radii, evaluation counters and records, history,
        the problem's warm starts and ledger).
    resume : bool
        Continue the run stored in ``checkpoint`` along the same trajectory
        (same points, radii and accuracies); start from ``phi0`` when there
        is none. A converged run is returned as stored.

    Returns
    -------
    DFOResult
        An :class:`UpperResult` (``engine="dfo"``) whose history has one
        record per trust-region iteration: ``objective`` :math:`\tilde f_k`
        at the iterate, ``gradient_norm`` the projected model gradient
        :math:`\|P_{[l,v]}(\varphi_k - g_k) - \varphi_k\|`, ``error_bound``
        the guaranteed :math:`e_k \ge |f(\varphi_k) - \tilde f_k|`,
        ``lower_tol`` the tolerance requested for that evaluation (0 for
        fixed iterations), ``work`` the cumulative ledger. Also
        ``evaluations`` (one :class:`EvaluationRecord` per evaluation),
        ``error_bound`` and ``radius``.

    Raises
    ------
    TypeError
        If ``problem`` lacks the interface or an option has the wrong type.
    ValueError
        If an option is out of range, ``phi0`` is invalid or outside the
        bounds, ``radius_init`` does not fit in the bounds, ``resume`` has no
        ``checkpoint``, or the checkpoint belongs to another problem, engine
        or accuracy rule (each message names the argument); if the problem
        reports a negative penalty.

    Notes
    -----
    *Error of a value.* From :math:`\delta \ge \|\tilde r - r\|` (the
    problem's ``error_bound``) and the exact penalty,
    :math:`|f - \tilde f| \le e = \delta(2\|\tilde r\| + \delta)`.

    *Dynamic accuracy.* With :math:`\mathrm{pred}_k = m_k(0) - m_k(s_k)` and
    :math:`c = 0.04` (:data:`~odl_bilevel.upper._accuracy.C_PRED`):

    1. the first model: :math:`\varphi_0` is solved at ``lower_tol_max``,
       then all :math:`q + 1` points to :math:`e \le 10^{-2}\tilde f(\varphi_0)`;
    2. before a trial point is evaluated, the current iterate must satisfy
       :math:`e_k \le c\,\mathrm{pred}_k`; otherwise it is re-evaluated to
       :math:`e_k \le \frac c2\mathrm{pred}_k`, the model is rebuilt and the
       step recomputed (at most 5 times per iteration);
    3. the trial point is evaluated to :math:`e \le c\,\mathrm{pred}_k`;
       the step is accepted when :math:`\tilde\rho_k \ge \eta_1 = 0.1`,
       :math:`\tilde\rho_k = (\tilde f_k - \tilde f(\varphi_k + s_k))/\mathrm{pred}_k`.
       Then :math:`|\rho_k - \tilde\rho_k| \le 2c < \eta_1`: an accepted step
       decreases the true :math:`f`;
    4. geometry-improving points are evaluated to :math:`e \le e_k`, and a
       point whose bound exceeds :math:`10\,e_k` counts as badly placed, so
       geometry steps replace coarse points first;
    5. a tolerance is the residual target
       :math:`\delta^* = e^*/(\|\tilde r\| + \sqrt{\|\tilde r\|^2 + e^*})`
       clipped to ``[lower_tol_min, lower_tol_max]``; a bound that misses
       its target is retried with a tighter tolerance (warm-started at the
       same :math:`\theta`: the retry continues the solve).

    The accuracy thus follows the predicted decrease, which shrinks with
    :math:`\Delta_k` and the model gradient. Where a target cannot be met
    (``lower_tol_min`` reached, budget spent) the run goes on with the
    bound it has. The dynamic run also stops (``CONVERGED``) when the
    tolerance is at ``lower_tol_min``, the geometry is good and
    :math:`\|g_k\|\Delta_k \le e_k`: no decrease is certifiable any more.

    *Unknown bounds.* For a loss without an error bound (a
    :class:`NonsmoothLoss` without ``value_lipschitz``, e.g. SSIM) the
    problem reports :math:`\delta = \infty`. The dynamic rules then work with
    the nominal bound :math:`\delta = \varepsilon` (a residual that is
    1-Lipschitz in :math:`x`): the schedule, re-evaluations and stopping
    behave as above, but nothing is certified, no retries are made, and the
    records report ``error_bound = inf``.

    *Fixed modes.* The values are used as if exact (plain DFO-GN); the
    bounds are only reported.

    *Trust region.* :math:`\eta_1 = 0.1`, :math:`\eta_2 = 0.7`; on failure
    :math:`\Delta \leftarrow \min(\Delta/2, \|s\|)`, on success
    :math:`\max(\Delta/2, \|s\|)` or, for :math:`\tilde\rho > \eta_2`,
    :math:`\max(2\Delta, 4\|s\|)`; :math:`\Delta \le 1.5\rho` snaps to
    :math:`\rho`. A step shorter than :math:`\rho/2` is a safety step: no
    evaluation, :math:`\Delta` halves. After a failed or safety step, a point
    farther than :math:`2\Delta` (or a coarse one) is replaced by
    :math:`\varphi_k + d`, :math:`d` maximising its Lagrange polynomial over
    the region and box; otherwise, if :math:`\Delta` was already
    :math:`\rho`, :math:`\rho` is reduced (tenfold; to
    :math:`\sqrt{\rho\rho_{\mathrm{end}}}` or :math:`\rho_{\mathrm{end}}`
    near the end) and :math:`\Delta = \max(\rho_{\mathrm{old}}/2, \rho)`. A
    new trial point replaces the point :math:`t \ne k` maximising
    :math:`|\ell_t(y)|\max(1, \|y_t - \varphi_{k+1}\|^4/\Delta^4)`. The
    subproblem with bounds is solved by truncated CG with an active set
    plus projected-gradient polishing
    (:mod:`odl_bilevel.upper._trust_region`); interpolation points always
    lie inside the bounds.

    References
    ----------
    C. Cartis and L. Roberts, A derivative-free Gauss–Newton method, *Math.
    Prog. Comp.* 11:631-674, 2019.

    M. J. Ehrhardt and L. Roberts, Inexact derivative-free optimization for
    bilevel learning, *J. Math. Imaging Vision* 63:580-600, 2021.

    A. R. Conn, N. I. M. Gould and Ph. L. Toint, *Trust-Region Methods*,
    SIAM, 2000, §10.6 (inexact function values).

    Examples
    --------
    Learn :math:`\xi` of :math:`E(x;\xi) = \frac12\|x - y\|^2 + \frac\xi2\|x\|^2`
    (minimiser :math:`y/(1+\xi)`, optimum :math:`\xi = 1` for
    :math:`x^\dagger = y/2`):

    >>> import numpy as np, odl
    >>> from odl_bilevel.bilevel import BilevelProblem, ParameterMap
    >>> from odl_bilevel.functionals import L2DataFit, ParametrisedSum, Tikhonov
    >>> from odl_bilevel.operators import unit_cell_space
    >>> X = unit_cell_space((4,))
    >>> y = X.element([1.0, 2.0, 3.0, 4.0])
    >>> E = ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y), Tikhonov(X, xi=1.0))
    >>> problem = BilevelProblem([E], [0.5 * y], parameter_map=ParameterMap.log(("xi",)))
    >>> res = dfo(problem, [np.log(0.1)], max_evals=60)
    >>> res.engine, round(float(res.theta[0]), 3), res.objective < 1e-6
    ('dfo', 1.0, True)
    """
    problem = _check_problem(problem)
    pmap = problem.parameter_map
    q = int(pmap.size)
    lower, upper = _box(pmap.bounds, q)
    phi0 = _check_phi0(phi0, q)
    if accuracy not in ACCURACY_MODES:
        raise ValueError(f"`accuracy` must be one of {ACCURACY_MODES}, got {accuracy!r}")
    fixed_iterations = _check_int(fixed_iterations, "fixed_iterations", 1)
    fixed_tol = _positive(fixed_tol, "fixed_tol")
    max_evals = _check_int(max_evals, "max_evals", q + 1)
    max_iter = None if max_iter is None else _check_int(max_iter, "max_iter", 0)
    radius_min = _positive(radius_min, "radius_min")
    lower_tol_max = _positive(lower_tol_max, "lower_tol_max")
    lower_tol_min = _positive(lower_tol_min, "lower_tol_min")
    if lower_tol_min > lower_tol_max:
        raise ValueError(
            f"`lower_tol_min` = {lower_tol_min} must not exceed `lower_tol_max` = {lower_tol_max}"
        )
    half_width = float(np.min(upper - lower)) / 2.0
    if radius_init is None:
        radius_init = min(0.1 * max(float(np.max(np.abs(phi0))), 1.0), half_width)
    else:
        radius_init = _positive(radius_init, "radius_init")
        if radius_init > half_width * (1 + 1e-12):
            raise ValueError(
                f"`radius_init` = {radius_init} must be at most half the narrowest bound "
                f"width, {half_width}"
            )
    if radius_min >= radius_init:
        raise ValueError(
            f"`radius_min` = {radius_min} must be smaller than `radius_init` = {radius_init}"
        )
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
    options = {
        "accuracy": accuracy,
        "fixed_iterations": fixed_iterations,
        "fixed_tol": fixed_tol,
        "max_evals": max_evals,
        "max_iter": max_iter,
        "radius_init": radius_init,
        "radius_min": radius_min,
        "lower_tol_max": lower_tol_max,
        "lower_tol_min": lower_tol_min,
    }
    fingerprint = problem_fingerprint(problem) if checkpoint is not None else None
    engine = DFOEngine(problem, options, lower, upper)

    def result(status, message):
        Y = engine.Y
        return DFOResult(
            phi=Y.xopt,
            theta=pmap.forward(Y.xopt),
            objective=Y.fopt,
            status=status,
            message=message,
            history=tuple(engine.history),
            work=problem.ledger.as_dict(),
            engine=_ENGINE,
            evaluations=tuple(engine.evaluations),
            error_bound=float(Y.reported_bounds[Y.kopt]),
            radius=engine.delta,
        )

    def save(status, message=""):
        if checkpoint is None:
            return
        save_checkpoint(
            checkpoint,
            engine=_ENGINE,
            phi=engine.Y.xopt,
            history=engine.history,
            problem_state=problem.state_dict(),
            extra={
                "status": status,
                "message": message,
                "options": options,
                "state": engine.state(),
                "evaluations": [r.as_dict() for r in engine.evaluations],
            },
            fingerprint=fingerprint,
        )

    resumed = False
    if resume and checkpoint_exists(checkpoint):
        stored = load_checkpoint(checkpoint, engine=_ENGINE, fingerprint=fingerprint)
        extra = stored["extra"]
        if extra["options"]["accuracy"] != accuracy:
            raise ValueError(
                f"`checkpoint` at {checkpoint} was written with accuracy="
                f"{extra['options']['accuracy']!r}, not {accuracy!r}"
            )
        problem.load_state_dict(stored["problem_state"])
        engine.restore(
            extra["state"],
            history=stored["history"],
            evaluations=[EvaluationRecord.from_dict(d) for d in extra["evaluations"]],
        )
        _check_bounds(engine.Y.xopt, pmap.bounds, "checkpoint phi")
        resumed = True
        logger.info("dfo: resuming from %s after iteration %d", checkpoint, engine.iteration)
        if extra["status"] == UpperStatus.CONVERGED.value:
            return result(UpperStatus.CONVERGED, extra.get("message", ""))
    else:
        _check_bounds(phi0, pmap.bounds, "phi0")

    clock0 = time.perf_counter()
    wall_offset = engine.history[-1].wall_time if engine.history else 0.0

    def record():
        rec = engine.record(wall_offset + time.perf_counter() - clock0)
        logger.info(
            "dfo iteration %d: f = %.8g (bound %.3g, tol %.3g), |g| = %.3g, delta = %.3g, "
            "rho = %.3g, evaluations %d",
            rec.iteration, rec.objective, rec.error_bound, rec.lower_tol, rec.gradient_norm,
            engine.delta, engine.rho, engine.n_evals,
        )
        save("running")
        return callback is not None and callback(rec) is True

    status, message = None, ""
    if not resumed:
        engine.start(phi0, radius_init)
        if record():
            status, message = UpperStatus.STOPPED_BY_CALLBACK, "stopped by callback"
    while status is None:
        if engine.n_evals >= max_evals:
            status = UpperStatus.MAX_ITER
            message = f"the evaluation budget max_evals={max_evals} is used up"
            break
        if max_iter is not None and engine.iteration >= max_iter:
            status = UpperStatus.MAX_ITER
            message = f"the iteration budget max_iter={max_iter} is used up"
            break
        outcome = engine.step()
        stop = record()
        if outcome is not None:
            status, message = outcome
        elif stop:
            status, message = UpperStatus.STOPPED_BY_CALLBACK, "stopped by callback"
    save(status.value, message)
    logger.info("dfo finished: %s (%s) after %d evaluations", status.name, message,
                engine.n_evals)
    return result(status, message)
