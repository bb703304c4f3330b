r"""Learning a sampling pattern at a requested rate: a continuation in the sparsity weight.

Sherry et al. (2020) learn MRI sampling weights :math:`\sigma \in [0,1]^m` by

.. math::

    \min_{\sigma\in[0,1]^m}\ \frac1n\sum_{i=1}^n\|\hat x_i(\sigma) - x_i^\dagger\|^2
        + \beta_1\|\sigma\|_1 + \beta_2\|\sigma\odot(1-\sigma)\|_1

(:func:`~odl_bilevel.problems.sampling_problem`). The sparsity of the result
is set by :math:`\beta_1`, not by a rate; :func:`learn_sampling_pattern`
finds a :math:`\beta_1` that reaches a requested rate by a continuation
(stage :math:`j` runs L-BFGS-B with :math:`\beta_1^{(j)} = c\,\beta_1^{(j-1)}`,
warm-started from stage :math:`j-1`), then thresholds the weights to a
binary pattern with exactly the requested number of samples and
re-optimises :math:`\alpha` for it (:func:`optimise_alpha`).
"""

import logging
import math
import os
import shutil
import time

import numpy as np

from ..solvers import WorkLedger
from ..upper import (
    UpperStatus,
    checkpoint_exists,
    lbfgsb,
    load_checkpoint,
    problem_fingerprint,
    save_checkpoint,
)
from ._sampling import sampling_phi, sampling_problem
from ._sampling_alpha import optimise_alpha
from ._sampling_common import check_bool, check_callback, check_int, default_tol, sample_count
from ._sampling_continuation import (
    StagePenalty,
    StagePlan,
    check_learning_options,
    clear_stage_dirs,
    final_binary,
    initial_beta,
    run_options,
    stage_dir,
)
from ._sampling_map import _check_pair
from ._sampling_records import AlphaResult, SamplingLearningResult, StageRecord

__all__ = ["learn_sampling_pattern"]

logger = logging.getLogger(__name__)

_ENGINE = "learn_sampling_pattern"


def learn_sampling_pattern(
    clean,
    kspace,
    rate,
    *,
    sampling="free",
    regulariser="tv",
    alpha=1e-2,
    nu=1e-2,
    xi=1e-2,
    learn_alpha=False,
    beta=None,
    beta_factor=4.0,
    beta2=0.0,
    max_stages=10,
    max_iter=50,
    init_weights=1.0,
    weight_bounds=(0.0, 1.0),
    alpha_bounds=(1e-5, 1.0),
    reoptimise_alpha=True,
    solver="fista",
    solver_options=None,
    lower_tol=None,
    lower_max_iter=5000,
    cg_tol=1e-3,
    cg_max_iter=500,
    executor=None,
    callback=None,
    checkpoint=None,
    resume=False,
    support_threshold=1e-2,
    refine=2,
    rate_tol=0.1,
    memory=10,
    max_line_search=20,
):
    r"""Learn an MRI sampling pattern with a requested sampling rate (Sherry et al. 2020).

    Stage :math:`j` minimises

    .. math::

        U_j(\sigma) = \frac1n\sum_{i=1}^n\|\hat x_i(\sigma) - x_i^\dagger\|^2
            + \beta_1^{(j)}\|\sigma\|_1 + \beta_2\|\sigma\odot(1-\sigma)\|_1,
        \qquad \sigma\in[\ell, u]^m,

    by :func:`~odl_bilevel.upper.lbfgsb` (at most ``max_iter`` iterations,
    warm-started from the previous stage's :math:`\sigma` and lower-level
    solutions), with the lower level of
    :func:`~odl_bilevel.problems.sampling_problem`. The support rate of a
    stage is the fraction of sampling parameters above
    ``support_threshold``, :math:`\rho_j`. The continuation
    :math:`\beta_1^{(j+1)} = c\,\beta_1^{(j)}` (:math:`c` = ``beta_factor``;
    :math:`c^2` after a stage that closed less than a tenth of the gap
    :math:`\rho_{j-1} - r` between the previous support and the rate, with
    :math:`\rho_{-1}` the support of the start: such a stage shows that
    :math:`\beta_1` is still far too small; measured at 256², 25 %: 2,976
    instead of 3,348 solves for a free and 3,312 instead of 4,248 for a
    Cartesian pattern, with the same test PSNR)
    runs while :math:`\rho_j > r` (the rate) and ends at the first stage
    with :math:`(1-\tau)r \le \rho_j \le r`, :math:`\tau` = ``rate_tol``. A
    stage that overshoots (:math:`\rho_j < (1-\tau)r`) is refined: up to
    ``refine`` more stages bisect :math:`\beta_1` geometrically between the
    largest :math:`\beta_1` with support above :math:`r` and the smallest
    one with support at most :math:`r` (or divide it by :math:`c` if there
    is none above), each started from the stage closest to :math:`r` from
    above, until one lands in :math:`[(1-\tau)r, r]`. The final weights are
    those of the stage with the largest support at most :math:`r` (the last
    stage if none reached it), and ``binary`` samples ``k = max(1,
    round(rate * m))`` entries (pixels, or lines for
    ``sampling="cartesian"``): the whole support of the final weights, then
    the entries with the largest weights in the closest stage with a larger
    support (ties, e.g. weights on a bound, go to the lower frequencies).
    Thus the binary pattern has exactly the requested rate, and no
    sampled entry is dropped for having a small weight: a frequency with
    high signal-to-noise ratio, such as DC, is fully used by a small weight
    :math:`s_j` (the reconstruction depends on :math:`s_j^2/\alpha`), which
    is all the penalty lets it keep, so the size of a weight is no measure
    of its importance. With ``reoptimise_alpha``, :func:`optimise_alpha`
    then finds the best :math:`\alpha` for ``binary`` (starting from the
    learning :math:`\alpha`).

    *Why* :math:`\alpha` *stays fixed.* The lower-level energy satisfies
    :math:`E(x; c\sigma, c^2\alpha) = c^2E(x; \sigma, \alpha)`, so the
    reconstructions depend on :math:`(\sigma, \alpha)` only through
    :math:`\sigma/\sqrt\alpha`. With the penalty :math:`\beta_1\|\sigma\|_1`
    a learned :math:`\alpha` would let the optimiser shrink all weights and
    :math:`\alpha` together at no cost in the loss, until the bounds stop
    it: the penalty would measure the scale, not the sparsity. So
    ``learn_alpha=False`` (default) fixes :math:`\alpha` while learning; the
    weights are then scaled against that :math:`\alpha`, with :math:`s = 1`
    the strongest trust in a sample, and the binary pattern is given its own
    best :math:`\alpha` afterwards. Learning :math:`\alpha` too
    (``learn_alpha=True``) only makes sense with ``alpha_bounds`` that pin
    the scale.

    *Choice of* :math:`\beta_1^{(0)}`. ``beta=None`` evaluates the
    hypergradient at the start :math:`\sigma_0` and takes the
    :math:`(1-\text{rate})`-quantile of the benefits
    :math:`b_j = -\partial U/\partial\sigma_j`: with :math:`\beta_1` at that
    value, at :math:`\sigma_0` only the fraction ``rate`` of the parameters
    gains more from sampling than it pays. This only sets the scale: the
    benefits change as the pattern thins out (on 64² brain slices the rate
    30 % was reached at about 16 times the quantile, on 256² slices at a
    quarter of it), and the continuation with ``beta_factor=4`` and the
    bisection reach the rate in 3 to 6 stages. (Measured on 64²
    free patterns at 30 %: ``beta_factor=2`` needed 5 stages and twice the
    time for the same held-out PSNR as 4 with 3 stages.)

    *Cost and accuracy.* Each L-BFGS-B evaluation solves the ``n`` lower levels
    to the certified error ``lower_tol`` and ``n`` adjoint systems by CG,
    preconditioned by the inverse Fourier symbol of the Hessian (exact for the
    data term, :meth:`SmoothedTV.fourier_symbol
    <odl_bilevel.functionals.SmoothedTV.fourier_symbol>` for the regulariser;
    plain CG for regularisers without a symbol, such as ``"tv2"``), which
    matters most when many weights vanish. Where weights vanish, the certified
    strong convexity of the lower level is only :math:`\mu = \alpha\xi`
    (:math:`10^{-4}` with the defaults), so the certificate :math:`\|\nabla
    E\|/\mu` is pessimistic and cold solves take thousands of iterations; warm
    starts make most solves short. An absolute bound on :math:`\|x - \hat x\|`
    grows with the number :math:`N` of pixels, so ``lower_tol=None`` means
    :math:`10^{-3}\sqrt N` (an RMS error of :math:`10^{-3}` per pixel, 0.1 % of
    the intensity range). Measured on 64² brain slices (4 training and 4
    held-out slices, noise 0.03, free pattern at 30 %, 3 stages):
    :math:`2\cdot10^{-4}\sqrt N`, :math:`10^{-3}\sqrt N` and
    :math:`5\cdot10^{-3}\sqrt N` took 63k, 66k and 55k lower-level iterations
    for held-out PSNRs of 34.86, 34.83 and 34.79 dB: the work is set by the
    number of stages and L-BFGS-B iterations (line-search trial points move
    far), not by the tolerance. Learning took 20-60 s (3-6 stages) for free and
    about 30 s for Cartesian patterns on 2 cores. The learned patterns
    generalise only with enough training slices: one weight per pixel can fit
    the training images and their noise. At 128², 4 slices gave the lowest
    training error but lost 1.1 dB on held-out slices against variable density,
    while 12 slices beat it by 0.5 dB and data-adapted by 0.8 dB; use about ten
    or more slices from 128² on. Part of the training gain is fitted noise: on
    the training slices with a fresh noise draw the learned pattern lost
    1.5-1.8 dB of its training PSNR, while data-adapted and variable density
    lost nothing (128², 12 slices); two noise draws per slice while learning
    gained only 0.07 dB on held-out slices. How much any pattern can gain is
    set by the noise: the fully sampled reconstruction bounds it in practice.
    On 128² slices at 30 % (test PSNR, full / data-adapted / variable density /
    learned): noise 0.03 gave 39.23 / 36.29 / 36.28 / 36.89 dB, noise 0.01 gave
    46.39 / 38.05 / 41.56 / 42.70 dB. The margin over a random variable-density
    pattern also depends on how well the regulariser fills in the frequencies
    that are not sampled: at 256², noise 0.003, 30 %, a pattern learned with
    :math:`\nu = 10^{-2}` and scored with :math:`\nu` = :math:`10^{-3}`,
    :math:`10^{-2}`, :math:`3\cdot10^{-2}` (each pattern with its own best
    :math:`\alpha`) gave 53.54 / 51.98 / 50.54 dB against variable density's
    52.80 / 49.68 / 45.65 dB (full sampling 55.99 / 55.83 / 53.85 dB): the
    closer the smoothed TV is to TV, the better random sampling does.

    Parameters
    ----------
    clean : sequence of array-like
        Ground truths :math:`x_i^\dagger` (1-D or 2-D, one shape).
    kspace : sequence of array-like
        Their k-space data :math:`y_i` (e.g. from
        :func:`~odl_bilevel.problems.simulate_kspace`).
    rate : float
        Requested sampling rate in (0, 1]: the fraction of k-space pixels
        (free) or lines (Cartesian) sampled by ``binary``.
    sampling : {"free", "cartesian"}, optional
        One weight per k-space pixel, or one per line along axis 0.
    regulariser : {"tv", "tv2", "h1"} or callable, optional
        Lower-level regulariser, as in
        :func:`~odl_bilevel.problems.sampling_problem`.
    alpha : float, optional
        :math:`\alpha` while learning (initial value if ``learn_alpha``).
    nu, xi : float, optional
        TV smoothing and relative Tikhonov weight.
    learn_alpha : bool, optional
        Learn :math:`\log\alpha` too (see above; default False).
    beta : float or None, optional
        :math:`\beta_1^{(0)} > 0`; None: chosen as described above.
    beta_factor : float, optional
        Growth factor :math:`c > 1` of :math:`\beta_1` between stages.
    beta2 : float, optional
        :math:`\beta_2 \ge 0` (pushes weights to 0 or 1).
    max_stages : int, optional
        Most stages, refinements included.
    max_iter : int, optional
        L-BFGS-B iterations per stage.
    init_weights : float or array-like, optional
        Starting weights :math:`\sigma_0` (in ``weight_bounds``).
    weight_bounds : (float, float), optional
        Bounds :math:`[\ell, u] \subseteq [0, 1]` of the weights.
    alpha_bounds : (float, float), optional
        Bounds of :math:`\alpha` when learned and of the :math:`\alpha` search.
    reoptimise_alpha : bool, optional
        Run :func:`optimise_alpha` on the binary pattern.
    solver : {"fista", "gradient_descent"}, optional
        Lower-level solver.
    solver_options : dict, optional
        More options of the lower-level solver during learning, as in
        :class:`~odl_bilevel.bilevel.BilevelProblem` (e.g.
        ``{"preconditioner": None}`` for plain instead of preconditioned FISTA).
    lower_tol : float or None, optional
        Certified lower-level error :math:`\|x - \hat x\|`; None:
        :math:`10^{-3}\sqrt N`.
    lower_max_iter : int, optional
        Iteration cap per lower-level solve.
    cg_tol, cg_max_iter : float, int, optional
        Relative residual and iteration cap of the adjoint CG solves.
    executor : concurrent.futures.Executor, optional
        Runs the per-sample solves.
    callback : callable, optional
        ``callback(stage, record)`` with the stage index and every
        :class:`~odl_bilevel.upper.IterationRecord` of its L-BFGS-B run;
        returning True stops the learning (status ``"stopped"``; the binary
        pattern is taken from the current weights, without the
        :math:`\alpha` search).
    checkpoint : str or os.PathLike, optional
        Directory for checkpoints: after every finished stage (and, inside a
        stage, L-BFGS-B's own checkpoint in ``stage_NN/``).
    resume : bool, optional
        Continue the run stored in ``checkpoint`` after its last finished
        stage (and inside an unfinished stage from its L-BFGS-B
        checkpoint); a finished run is returned as stored.
    support_threshold : float, optional
        Weights above it count as sampled in the support rate.
    refine : int, optional
        Most bisection stages after an overshoot (0: none).
    rate_tol : float, optional
        :math:`\tau \in [0, 1)`: a support rate in :math:`[(1-\tau)r, r]`
        ends the continuation (see above).
    memory, max_line_search : int, optional
        L-BFGS-B's number of curvature pairs and most evaluations per line
        search (:func:`~odl_bilevel.upper.lbfgsb`).

    Returns
    -------
    SamplingLearningResult
        Learned ``weights`` and per-pixel ``pattern``, the ``binary``
        pattern and its ``rate``, :math:`\alpha` and ``alpha_binary``, the
        ``stages`` and the total ``work`` (``lower_solves`` =
        :math:`n\,\times` evaluations, summed over the stages and the
        :math:`\alpha` search; ``wall_time`` elapsed).

    Raises
    ------
    TypeError, ValueError
        For bad data or options, naming the argument; ValueError naming
        ``checkpoint`` for a checkpoint of another run.

    References
    ----------
    F. Sherry, M. Benning, J. C. De los Reyes, M. J. Graves, G. Maierhofer, G.
    Williams, C.-B. Schönlieb and M. J. Ehrhardt, Learning the sampling
    pattern for MRI, *IEEE Trans. Med. Imaging* 39(12):4310-4321, 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.problems import simulate_kspace
    >>> x = np.zeros((8, 8)); x[2:6, 3:7] = 1.0
    >>> kspace = simulate_kspace([x], 0.05, rng=0)
    >>> res = learn_sampling_pattern([x], kspace, 0.25, max_stages=3, max_iter=5,
    ...                              reoptimise_alpha=False)
    >>> res.rate, int(res.binary.sum()), res.binary.shape
    (0.25, 16, (8, 8))
    >>> sum(s.lower_solves for s in res.stages) == res.work["lower_solves"]
    True
    """
    start_clock = time.perf_counter()
    rate, beta, beta_factor, beta2, alpha, support_threshold, rate_tol = check_learning_options(
        rate, beta, beta_factor, beta2, alpha, support_threshold, rate_tol
    )
    learn_alpha = check_bool(learn_alpha, "learn_alpha")
    reoptimise_alpha = check_bool(reoptimise_alpha, "reoptimise_alpha")
    resume = check_bool(resume, "resume")
    max_stages = check_int(max_stages, "max_stages")
    max_iter = check_int(max_iter, "max_iter")
    refine = check_int(refine, "refine", 0)
    memory = check_int(memory, "memory")
    max_line_search = check_int(max_line_search, "max_line_search")
    callback = check_callback(callback)
    _check_pair(alpha_bounds, "alpha_bounds", positive=True)
    if checkpoint is not None and not isinstance(checkpoint, str | os.PathLike):
        raise TypeError(f"`checkpoint` must be a path (str or os.PathLike), got {checkpoint!r}")
    if resume and checkpoint is None:
        raise ValueError("`resume=True` needs a `checkpoint` directory to resume from")
    if sampling not in ("free", "cartesian"):
        raise ValueError(f"`sampling` must be 'free' or 'cartesian', got {sampling!r}")
    problem = sampling_problem(
        clean,
        kspace,
        sampling=sampling,
        regulariser=regulariser,
        alpha=alpha,
        nu=nu,
        xi=xi,
        learn_alpha=learn_alpha,
        init_weights=init_weights,
        weight_bounds=weight_bounds,
        alpha_bounds=alpha_bounds,
        solver=solver,
        solver_options=solver_options,
        lower_tol=1.0,  # replaced below, once the image shape is known
        lower_max_iter=lower_max_iter,
        cg_tol=cg_tol,
        cg_max_iter=cg_max_iter,
        executor=executor,
    )
    shape = problem.domain.shape
    lower_tol = default_tol(lower_tol, shape, "lower_tol")
    m = problem.parameter_map.size - int(learn_alpha)
    penalty = StagePenalty(beta if beta is not None else 1.0, beta2, m)
    # One problem for all stages: the penalty's beta1 changes between stages.
    problem = type(problem)(
        problem.energies,
        problem.targets,
        parameter_map=problem.parameter_map,
        penalty=penalty,
        solver=solver,
        solver_options=problem.solver_options,
        lower_tol=lower_tol,
        lower_max_iter=lower_max_iter,
        cg_tol=cg_tol,
        cg_max_iter=cg_max_iter,
        executor=executor,
    )
    phi0 = sampling_phi(problem)
    options = run_options(rate, m, sampling, beta2, learn_alpha)
    fingerprint = problem_fingerprint(problem)
    start_support = float(np.mean(np.asarray(phi0)[:m] > support_threshold))
    plan = StagePlan(rate, beta, beta_factor, refine, rate_tol, phi0, start_support)
    wall_offset, stored_alpha, finished = 0.0, None, False

    if resume and checkpoint_exists(checkpoint):
        stored = load_checkpoint(checkpoint, engine=_ENGINE, fingerprint=fingerprint)
        extra = stored["extra"]
        if extra.get("options") != options:
            raise ValueError(
                f"`checkpoint` at {checkpoint} belongs to another run: stored options "
                f"{extra.get('options')}, this run {options}"
            )
        problem.load_state_dict(stored["problem_state"])
        plan.restore(extra)
        wall_offset = float(extra["wall_time"])
        finished = bool(extra["finished"])
        stored_alpha = extra.get("alpha_search")
        logger.info("learn_sampling_pattern: resuming after %d stages", len(plan.stages))
    elif checkpoint is not None:
        clear_stage_dirs(checkpoint)

    def elapsed():
        return wall_offset + time.perf_counter() - start_clock

    def save(done=False, alpha_search=None):
        if checkpoint is None:
            return
        extra = plan.state()
        extra.update(
            options=options,
            wall_time=elapsed(),
            finished=done,
            alpha_search=None if alpha_search is None else alpha_search.as_dict(),
        )
        save_checkpoint(
            checkpoint,
            engine=_ENGINE,
            phi=plan.start_phi(),
            history=[],
            problem_state=problem.state_dict(),
            extra=extra,
            fingerprint=fingerprint,
        )

    stopped = False
    if not finished:
        if plan.next_beta is None:
            solves0 = problem.ledger.lower_solves
            plan.next_beta = initial_beta(problem, phi0, m, rate, lower_tol, cg_tol)
            plan.initial_solves = problem.ledger.lower_solves - solves0
            logger.info("learn_sampling_pattern: starting beta1 = %.4g", plan.next_beta)
        save()
        while not plan.ended and len(plan.stages) < max_stages:
            j = len(plan.stages)
            penalty.set(plan.next_beta)
            directory = None if checkpoint is None else stage_dir(checkpoint, j)
            stage_resume = directory is not None and resume and checkpoint_exists(directory)
            if directory is not None and not stage_resume and directory.exists():
                shutil.rmtree(directory)
            solves0 = problem.ledger.lower_solves - (plan.initial_solves if j == 0 else 0)
            clock0 = time.perf_counter()
            res = lbfgsb(
                problem,
                plan.start_phi(),
                max_iter=max_iter,
                lower_tol=lower_tol,
                cg_tol=cg_tol,
                callback=None if callback is None else (lambda rec, j=j: callback(j, rec)),
                checkpoint=directory,
                resume=stage_resume,
                memory=memory,
                max_line_search=max_line_search,
            )
            support = float(np.mean(res.phi[:m] > support_threshold))
            record = StageRecord(
                beta1=float(plan.next_beta),
                support_rate=support,
                objective=float(res.objective),
                iterations=int(res.history[-1].iteration) if res.history else 0,
                lower_solves=int(problem.ledger.lower_solves - solves0),
                status=res.status.name,
                wall_time=time.perf_counter() - clock0,
            )
            logger.info(
                "learn_sampling_pattern stage %d: beta1 = %.4g, support %.4f, U = %.6g (%s)",
                j,
                record.beta1,
                support,
                record.objective,
                record.status,
            )
            if res.status is UpperStatus.STOPPED_BY_CALLBACK:
                plan.stages.append(record)
                plan.phis.append(np.array(res.phi, dtype=float))
                stopped = True
                break
            done = plan.add(record, res.phi)
            save()
            if done:
                break

    # final weights: the stage closest to the rate (else the last one)
    reached = plan.reached
    final, weights, binary = final_binary(problem, plan, m, stopped, rate, support_threshold)
    alpha_learn = float(weights["alpha"])

    alpha_result = None
    if stored_alpha is not None:
        history = tuple(tuple(h) for h in stored_alpha["history"])
        alpha_result = AlphaResult(**{**stored_alpha, "history": history})
    elif reoptimise_alpha and not stopped:
        alpha_result = optimise_alpha(
            clean,
            kspace,
            binary,
            regulariser=regulariser,
            nu=nu,
            xi=xi,
            alpha_bounds=alpha_bounds,
            solver=solver,
            lower_tol=lower_tol,
            lower_max_iter=lower_max_iter,
            executor=executor,
            alpha0=alpha_learn,
        )
    if not stopped:
        save(done=True, alpha_search=alpha_result)

    work = WorkLedger() + problem.ledger
    if alpha_result is not None:
        for field, value in alpha_result.work.items():
            if field != "wall_time":
                setattr(work, field, getattr(work, field) + value)
    work.wall_time = wall_offset if finished else elapsed()
    if stopped:
        status, message = "stopped", "stopped by callback"
    elif reached:
        status = "converged"
        message = (
            f"support rate {plan.stages[final].support_rate:.4g} (rate {rate:.4g}) at "
            f"beta1 = {plan.stages[final].beta1:.4g} after {len(plan.stages)} stages"
        )
    else:
        status = "max_stages"
        message = (
            f"the support rate {plan.stages[-1].support_rate:.4g} is still above the rate "
            f"{rate:.4g} after {len(plan.stages)} stages; binary holds the "
            f"{sample_count(rate, m)} largest weights"
        )
    return SamplingLearningResult(
        weights=np.array(weights["s"], dtype=float),
        pattern=np.array(weights["pattern"], dtype=float),
        binary=binary,
        rate=float(binary.mean()),
        alpha=alpha_learn,
        alpha_binary=alpha_learn if alpha_result is None else alpha_result.alpha,
        objective=float(plan.stages[final].objective),
        stages=tuple(plan.stages),
        work=work.as_dict(),
        status=status,
        message=message,
        binary_objective=math.nan if alpha_result is None else alpha_result.objective,
        alpha_search=alpha_result,
    )
