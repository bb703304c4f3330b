"""TGV^2 on the joint variable z = (x, v): the upper loss reads the image part only."""

import numpy as np
import pytest
from bilevel_fixtures import tgv_problem

from odl_bilevel.hypergradients import finite_difference_gradient
from odl_bilevel.solvers import SolverStatus


def test_tgv_objective_reads_the_image_part(rng):
    problem = tgv_problem(rng)
    phi = np.log([0.1, 0.2])
    res = problem.objective(phi)
    assert res.status is SolverStatus.CONVERGED, res.message
    for z, t, loss in zip(res.solves.x, problem.targets, res.losses, strict=True):
        assert z.space == problem.domain and t.space == problem.domain[0]
        assert loss == pytest.approx(float(np.sum((z[0].data - t.data) ** 2)), rel=1e-12)
    r = problem.residuals(phi)
    assert r.residuals.size == problem.n_samples * problem.domain[0].size
    assert float(np.dot(r.residuals, r.residuals)) == pytest.approx(res.value, rel=1e-10)


def test_tgv_gradient_matches_finite_differences(rng):
    problem = tgv_problem(rng)
    phi = np.log([0.1, 0.2])
    ev = problem.value_and_gradient(phi)
    assert ev.status is SolverStatus.CONVERGED, ev.message
    fd = finite_difference_gradient(lambda p: problem.objective(p, tol=1e-11).value, phi,
                                    step=1e-5)
    np.testing.assert_allclose(ev.gradient, fd, rtol=1e-4, atol=1e-8)
    assert np.isfinite(ev.error_bound)


def test_tgv_state_dict_flattens_product_elements(rng):
    problem = tgv_problem(rng)
    problem.value_and_gradient(np.log([0.1, 0.2]))
    state = problem.state_dict()
    assert state["x_warm"].shape == (problem.n_samples, 3 * 36)
    fresh = tgv_problem(np.random.default_rng(20261126))
    fresh.load_state_dict(state)
    for a, b in zip(fresh.warm_starts, problem.warm_starts, strict=True):
        for pa, pb in zip(a, b, strict=True):
            np.testing.assert_array_equal(pa.data, pb.data)
    assert fresh.solve(np.log([0.1, 0.2])).iterations == 0
