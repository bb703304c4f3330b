r"""Greedy selection of Cartesian k-space lines (Gözcü et al. 2018), the learning baseline.

Starting from a few lines, add one phase-encode line at a time: the one whose
addition gives the smallest training error

.. math::

    \frac1n\sum_{i=1}^n\|\hat x_i(\Omega\cup\{c\}) - x_i^\dagger\|^2

of the lower-level reconstruction (the energy of
:func:`~odl_bilevel.problems.sampling_problem` with binary line weights),
until the requested rate. Each candidate costs ``n`` lower-level solves,
which is what makes the method expensive and what learning avoids.
"""

import logging
import time

import numpy as np

from .._validation import require_positive
from ..solvers import WorkLedger
from ._sampling import sampling_phi, sampling_problem, sampling_weights
from ._sampling_common import check_callback, check_int, check_rate, default_tol, sample_count
from ._sampling_records import GreedyResult

__all__ = ["greedy_cartesian_pattern"]

logger = logging.getLogger(__name__)


def _check_lines(initial_lines, n_lines):
    if isinstance(initial_lines, str | bytes) or not hasattr(initial_lines, "__iter__"):
        raise TypeError(
            f"`initial_lines` must be a sequence of line indices, got {initial_lines!r}"
        )
    lines = []
    for j in initial_lines:
        if isinstance(j, bool) or not isinstance(j, int | np.integer):
            raise TypeError(f"`initial_lines` must hold integers, got {j!r}")
        if not -n_lines <= j < n_lines:
            raise ValueError(f"`initial_lines` holds {j}, outside the {n_lines} lines")
        lines.append(int(j) % n_lines)
    if len(set(lines)) != len(lines):
        raise ValueError(f"`initial_lines` holds a line twice: {list(initial_lines)}")
    return lines


def greedy_cartesian_pattern(
    clean,
    kspace,
    rate,
    *,
    alpha,
    regulariser="tv",
    nu=1e-2,
    xi=1e-2,
    initial_lines=(0,),
    candidates_per_step=None,
    rng=None,
    solver="fista",
    lower_tol=None,
    lower_max_iter=5000,
    executor=None,
    callback=None,
):
    r"""Select Cartesian k-space lines greedily by their reconstruction error (Gözcü et al. 2018).

    With :math:`\Omega` the set of sampled lines (``initial_lines`` at the
    start), every step evaluates each candidate line :math:`c \notin \Omega`
    (or ``candidates_per_step`` of them, drawn at random: the stochastic
    variant of the paper) by

    .. math::

        f(c) = \frac1n\sum_{i=1}^n\|\hat x_i(\Omega\cup\{c\}) - x_i^\dagger\|^2,

    :math:`\hat x_i(\Omega)` the reconstruction of
    :func:`reconstruct_sampled` with the binary pattern of :math:`\Omega`
    (fixed :math:`\alpha`), and adds the best one (ties: the smallest
    index), until :math:`|\Omega| = k = \max(1, \mathrm{round}(\text{rate}
    \cdot N_1))` for :math:`N_1` lines. Every candidate costs ``n``
    lower-level solves, warm-started from the solutions of the current
    :math:`\Omega`; the full method thus needs about
    :math:`n\sum_{t}(N_1 - |\Omega_t|)` solves.

    Parameters
    ----------
    clean : sequence of array-like
        2-D ground truths :math:`x_i^\dagger` (one shape; lines along axis 0).
    kspace : sequence of array-like
        Their k-space data :math:`y_i` (unshifted DFT layout).
    rate : float
        Sampling rate in (0, 1]: the fraction of lines at the end.
    alpha : float
        Regularisation weight :math:`\alpha > 0` of the reconstructions.
    regulariser, nu, xi, solver, executor
        As in :func:`reconstruct_sampled`.
    initial_lines : sequence of int, optional
        Lines sampled from the start (default: the DC line 0).
    candidates_per_step : int or None, optional
        Evaluate a random subset of this many candidates per step (None: all).
    rng : numpy.random.Generator or int or None, optional
        Source of the random subsets.
    lower_tol : float or None, optional
        Certified lower-level tolerance (None: :math:`10^{-3}\sqrt N`).
    lower_max_iter : int, optional
        Iteration cap per lower-level solve.
    callback : callable, optional
        ``callback(step, line, objective)`` after every added line (step
        from 1); returning True stops and returns the lines so far.

    Returns
    -------
    GreedyResult
        ``lines`` (bool per line), the per-pixel ``binary`` pattern and its
        ``rate``, the ``objective_history`` (initial lines, then after each
        step), the ``order`` of the added lines, ``lower_solves``, ``work``
        and ``wall_time``.

    Raises
    ------
    TypeError, ValueError
        For bad data or options, naming the argument.

    References
    ----------
    B. Gözcü, R. K. Mahabadi, Y.-H. Li, E. Ilıcak, T. Çukur, J. Scarlett and
    V. Cevher, Learning-based compressive MRI, *IEEE Trans. Med. Imaging*
    37(6):1394-1406, 2018.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.problems import simulate_kspace
    >>> x = np.zeros((8, 8)); x[2:6, 3:7] = 1.0
    >>> kspace = simulate_kspace([x], 0.05, rng=0)
    >>> res = greedy_cartesian_pattern([x], kspace, 0.375, alpha=0.01)
    >>> int(res.lines.sum()), res.rate, res.lower_solves    # 1 + 7 + 6 solves
    (3, 0.375, 14)
    """
    start = time.perf_counter()
    rate = check_rate(rate)
    alpha = require_positive(alpha, "alpha")
    callback = check_callback(callback)
    lower_max_iter = check_int(lower_max_iter, "lower_max_iter")
    if candidates_per_step is not None:
        candidates_per_step = check_int(candidates_per_step, "candidates_per_step")
    gen = np.random.default_rng(rng)
    problem = sampling_problem(
        clean,
        kspace,
        sampling="cartesian",
        regulariser=regulariser,
        alpha=alpha,
        nu=nu,
        xi=xi,
        learn_alpha=False,
        init_weights=0.0,
        solver=solver,
        lower_tol=1.0,  # replaced below, once the image shape is known
        lower_max_iter=lower_max_iter,
        executor=executor,
    )
    shape = problem.domain.shape
    if len(shape) != 2:
        raise ValueError(f"`clean` must hold 2-D images for Cartesian lines, got shape {shape}")
    lower_tol = default_tol(lower_tol, shape, "lower_tol")
    n_lines = shape[0]
    k = sample_count(rate, n_lines)
    mask = np.zeros(n_lines)
    mask[_check_lines(initial_lines, n_lines)] = 1.0
    if mask.sum() > k:
        raise ValueError(
            f"`initial_lines` holds {int(mask.sum())} lines, more than the {k} of `rate` = {rate}"
        )

    def evaluate(weights):
        return float(problem.objective(sampling_phi(problem, weights), tol=lower_tol).value)

    current = evaluate(mask) if mask.any() else np.nan
    state = problem.state_dict()
    history, order = [current], []
    step = 0
    while mask.sum() < k:
        step += 1
        candidates = np.flatnonzero(mask == 0)
        if candidates_per_step is not None and candidates_per_step < candidates.size:
            candidates = np.sort(gen.choice(candidates, size=candidates_per_step, replace=False))
        best, best_value, best_state = None, np.inf, None
        for c in candidates:
            # start every candidate from the current pattern's solutions; keep the ledger
            ledger = {f"ledger_{f}": v for f, v in problem.ledger.as_dict().items()}
            problem.load_state_dict({**state, **ledger})
            trial = mask.copy()
            trial[c] = 1.0
            value = evaluate(trial)
            if value < best_value:
                best, best_value, best_state = int(c), value, problem.state_dict()
        mask[best] = 1.0
        state = best_state
        order.append(best)
        history.append(best_value)
        logger.info(
            "greedy_cartesian_pattern step %d: line %d, objective %.6g (%d lines)",
            step,
            best,
            best_value,
            int(mask.sum()),
        )
        if callback is not None and callback(step, best, best_value) is True:
            break
    work = WorkLedger() + problem.ledger
    wall_time = time.perf_counter() - start
    work.wall_time = wall_time
    binary = sampling_weights(problem, sampling_phi(problem, mask))["pattern"]
    binary = (binary > 0.5).astype(float)
    return GreedyResult(
        lines=mask > 0.5,
        binary=binary,
        rate=float(binary.mean()),
        objective_history=tuple(float(v) for v in history),
        lower_solves=int(work.lower_solves),
        work=work.as_dict(),
        wall_time=wall_time,
        order=tuple(order),
    )
