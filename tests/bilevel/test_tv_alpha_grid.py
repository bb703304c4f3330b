"""One-parameter smoothed-TV denoising: a grid over alpha against scipy's bounded minimisation.

Prepares the acceptance test of issue 3 (the learned alpha reaches the upper
objective of a fine grid search within 0.5 %), here with a derivative-free
scalar minimiser on the objective alone.
"""

import numpy as np
import pytest
import scipy.optimize
from bilevel_fixtures import tv_problem

LOG_ALPHA_RANGE = (np.log(1e-3), np.log(10.0))


def test_bounded_scalar_minimisation_reaches_grid_search_objective(rng):
    problem = tv_problem(rng, n_samples=2, length=48, sigma=0.1, lower_tol=1e-9)
    grid = np.linspace(*LOG_ALPHA_RANGE, 41)
    values = np.array([problem.objective([g]).value for g in grid])
    best = int(np.argmin(values))
    assert 0 < best < grid.size - 1, "the optimum must be interior for this comparison"

    calls = []

    def objective(log_alpha):
        res = problem.objective([log_alpha])
        assert res.status.name == "CONVERGED", res.message
        calls.append(res.error_bound)
        return res.value

    opt = scipy.optimize.minimize_scalar(objective, bounds=LOG_ALPHA_RANGE, method="bounded",
                                         options={"xatol": 1e-4})
    assert opt.success
    learned = problem.objective([opt.x]).value
    assert learned <= values[best] * 1.005
    assert learned <= values[best] + 1e-9  # a finer search cannot do worse than the grid
    spacing = grid[1] - grid[0]
    assert abs(opt.x - grid[best]) <= spacing
    # the objective is much better than the ends of the range (a real optimum, not a plateau)
    assert learned < 0.9 * min(values[0], values[-1])
    assert max(calls) < 1e-6
    assert problem.objective([opt.x]).value == pytest.approx(learned, rel=1e-9)
