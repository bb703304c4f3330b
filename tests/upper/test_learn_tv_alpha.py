"""Acceptance (issue 3, item 6): L-BFGS-B on the real BilevelProblem.

- a quadratic lower level with a closed form: the learned xi is the analytic optimum;
- one-parameter smoothed-TV denoising (learn alpha, nu and xi fixed): the learned alpha reaches
  the upper objective of a fine grid search to within 0.5 %;
- checkpoint and resume with the real problem state (warm starts and ledger).
"""

import numpy as np
import odl
import pytest

from odl_bilevel.bilevel import BilevelProblem, ParameterMap
from odl_bilevel.functionals import L2DataFit, ParametrisedSum, SmoothedTV, Tikhonov
from odl_bilevel.operators import unit_cell_space
from odl_bilevel.upper import UpperStatus, lbfgsb, load_checkpoint


def _piecewise_constant(rng, length, jumps=4):
    edges = np.sort(rng.choice(np.arange(4, length - 4), size=jumps, replace=False))
    levels = rng.uniform(0.0, 1.0, size=jumps + 1)
    return np.repeat(levels, np.diff(np.concatenate([[0], edges, [length]])))


def _quadratic_problem(rng, n_samples=3, length=32, sigma=0.3):
    X = unit_cell_space((length,))
    targets = [rng.standard_normal(length) for _ in range(n_samples)]
    ys = [t + sigma * rng.standard_normal(length) for t in targets]
    energies = [
        ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y), Tikhonov(X, xi=1.0)) for y in ys
    ]
    problem = BilevelProblem(
        energies,
        [X.element(t) for t in targets],
        parameter_map=ParameterMap.log(("xi",)),
        lower_tol=1e-10,
        cg_tol=1e-10,
    )
    a = sum(float(y @ t) for y, t in zip(ys, targets, strict=True)) / sum(float(y @ y) for y in ys)
    return problem, 1.0 / a - 1.0


def _tv_problem(rng, *, n_samples=2, length=48, sigma=0.1, nu=0.05, xi=1e-3, lower_tol=1e-8):
    X = unit_cell_space((length,))
    targets = [_piecewise_constant(rng, length) for _ in range(n_samples)]
    ys = [t + sigma * rng.standard_normal(length) for t in targets]
    energies = [
        ParametrisedSum(
            L2DataFit(odl.IdentityOperator(X), y),
            SmoothedTV(X, alpha=1.0, nu=nu),
            Tikhonov(X, xi=xi),
        )
        for y in ys
    ]
    # bounds keep line searches away from huge alpha (badly conditioned, costly lower level)
    pmap = ParameterMap.log(
        ("alpha", "nu", "xi"), fixed={"nu": nu, "xi": xi}, bounds=[(np.log(1e-4), np.log(10.0))]
    )
    return BilevelProblem(
        energies,
        [X.element(t) for t in targets],
        parameter_map=pmap,
        lower_tol=lower_tol,
        cg_tol=1e-8,
    )


def test_quadratic_lower_level_learns_analytic_xi(rng):
    problem, xi_star = _quadratic_problem(rng)
    assert 0.05 < xi_star < 5
    res = lbfgsb(problem, [np.log(3.0)], gtol=1e-9, ftol=0.0)
    assert res.status is UpperStatus.CONVERGED, res.message
    assert res.theta[0] == pytest.approx(xi_star, rel=1e-5)
    work = [r.work["lower_solves"] for r in res.history]
    assert work == sorted(work) and work[-1] > work[0]
    assert all(r.error_bound >= 0 for r in res.history)


def _grid_search(problem, lo, hi, *, coarse=25, fine=61):
    """Minimum of U over a log grid on [lo, hi], refined on the two cells around the best point."""

    def values(alphas):
        return [problem.objective(np.log([a])).value for a in alphas]

    grid = np.geomspace(lo, hi, coarse)
    k = int(np.argmin(values(grid)))
    assert 0 < k < coarse - 1, "the coarse grid must bracket the minimiser"
    fine_grid = np.geomspace(grid[k - 1], grid[k + 1], fine)
    fine_values = values(fine_grid)
    j = int(np.argmin(fine_values))
    return fine_grid[j], fine_values[j], fine_grid[1] / fine_grid[0] - 1.0


def test_learned_alpha_matches_fine_grid_search(rng):
    problem = _tv_problem(rng)
    res = lbfgsb(problem, [np.log(1e-3)], gtol=1e-8, ftol=1e-12, max_iter=60)
    assert res.status is UpperStatus.CONVERGED, res.message
    alpha_grid, best, spacing = _grid_search(problem, 1e-3, 3.0)
    assert spacing < 0.012  # a fine grid: about 1 % steps in alpha
    learned = problem.objective(res.phi).value
    assert learned <= 1.005 * best
    assert res.theta[0] == pytest.approx(alpha_grid, rel=0.05)
    # and the learning did something: far better than the start
    assert learned < 0.5 * res.history[0].objective


@pytest.mark.slow
def test_learned_alpha_matches_grid_search_bigger(rng):
    problem = _tv_problem(rng, n_samples=4, length=256, nu=0.01)
    res = lbfgsb(problem, [np.log(1e-2)], gtol=1e-8, ftol=1e-12, max_iter=80)
    assert res.converged, res.message
    _, best, _ = _grid_search(problem, 1e-3, 3.0, coarse=41, fine=101)
    assert problem.objective(res.phi).value <= 1.005 * best


def test_resume_with_real_problem_state(rng, tmp_path):
    seed = int(rng.integers(2**31))
    opts = {"gtol": 1e-8, "ftol": 1e-12, "max_iter": 40}
    ref = lbfgsb(_tv_problem(np.random.default_rng(seed)), [np.log(1e-3)], **opts)

    def interrupt(record):
        if record.iteration == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lbfgsb(
            _tv_problem(np.random.default_rng(seed)),
            [np.log(1e-3)],
            checkpoint=tmp_path,
            callback=interrupt,
            **opts,
        )
    assert len(load_checkpoint(tmp_path)["history"]) == 3
    problem = _tv_problem(np.random.default_rng(seed))
    res = lbfgsb(problem, [np.log(1e-3)], checkpoint=tmp_path, resume=True, **opts)
    assert res.converged, res.message
    assert res.theta[0] == pytest.approx(ref.theta[0], rel=1e-4)
    assert res.objective == pytest.approx(ref.objective, rel=1e-7)
    # the restored ledger keeps counting: work is cumulative over both parts
    assert res.history[3].work["lower_iterations"] > res.history[2].work["lower_iterations"]
    assert res.work == problem.ledger.as_dict()
