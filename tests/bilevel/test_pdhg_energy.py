"""The solver="pdhg" path: nonsmooth TV energies, gap certificates, dual warm starts."""

import functools

import numpy as np
import odl
import pytest
from bilevel_fixtures import piecewise_constant

from odl_bilevel.bilevel import BilevelProblem, ParameterMap, PDHGEnergy
from odl_bilevel.functionals import tv_pdhg_form
from odl_bilevel.operators import unit_cell_space
from odl_bilevel.solvers import SolverStatus


def tv_denoising_form(noisy, theta):
    """min_x 1/2 |x - y|^2 + alpha TV(x) with alpha = theta[0]."""
    X = unit_cell_space(noisy.shape)
    fit = 0.5 * odl.functionals.L2NormSquared(X).translated(X.element(noisy))
    return tv_pdhg_form(fit, float(theta[0]))


def _problem(rng, n_samples=2, length=16, **options):
    targets = [piecewise_constant(rng, length) for _ in range(n_samples)]
    noisy = [t + 0.1 * rng.standard_normal(length) for t in targets]
    energies = [
        PDHGEnergy(functools.partial(tv_denoising_form, y), [0.1], param_names=("alpha",),
                   strong_convexity=1.0, gamma=1.0)
        for y in noisy
    ]
    # ODL's PDHG is slow and the gap tolerance mu tol^2 / 2 is strict: keep tol coarse here
    options.setdefault("lower_tol", 3e-2)
    options.setdefault("lower_max_iter", 20_000)
    return BilevelProblem(energies, targets, parameter_map=ParameterMap.log(("alpha",)),
                          solver="pdhg", **options)


def test_pdhg_objective_is_certified(rng):
    problem = _problem(rng)
    phi = [np.log(0.08)]
    res = problem.objective(phi)
    assert res.status is SolverStatus.CONVERGED, res.message
    assert all(e <= 3e-2 for e in res.solves.errors)
    reference = problem.objective(phi, tol=1e-2, warm_start=False)
    assert reference.status is SolverStatus.CONVERGED
    assert abs(res.value - reference.value) <= res.error_bound + reference.error_bound
    for x, x_ref, err in zip(res.solves.x, reference.solves.x, res.solves.errors, strict=True):
        assert np.linalg.norm(x.data - x_ref.data) <= err + 1e-2
    assert problem.ledger.operator_applications > 0


def test_pdhg_warm_starts_primal_and_dual(rng):
    problem = _problem(rng)
    problem.objective([np.log(0.08)])
    warm = problem.solve([np.log(0.082)])
    cold = problem.solve([np.log(0.082)], warm_start=False)
    assert warm.all_converged and cold.all_converged
    assert warm.iterations < cold.iterations
    assert all(r.y is not None for r in warm.results)


def test_pdhg_state_dict_keeps_duals():
    problem = _problem(np.random.default_rng(0))
    problem.objective([np.log(0.08)])
    state = problem.state_dict()
    assert state["y_has"].tolist() == [1, 1] and state["y_warm"].shape == (2, 16)
    fresh = _problem(np.random.default_rng(0))
    fresh.load_state_dict(state)
    again = fresh.solve([np.log(0.08)])
    assert again.iterations == 0  # primal and dual restored: the gap is already small


def test_pdhg_residuals_and_no_hypergradients(rng):
    problem = _problem(rng)
    res = problem.residuals([np.log(0.08)])
    assert res.value == pytest.approx(float(np.dot(res.residuals, res.residuals)))
    with pytest.raises(ValueError, match="`solver`"):
        problem.value_and_gradient([np.log(0.08)])


def test_pdhg_energy_validation():
    y = np.zeros(8)
    with pytest.raises(TypeError, match="`build_form`"):
        PDHGEnergy(3, [0.1], strong_convexity=1.0)
    with pytest.raises(ValueError, match="`strong_convexity`"):
        PDHGEnergy(functools.partial(tv_denoising_form, y), [0.1], strong_convexity=0.0)
    with pytest.raises(TypeError, match="PDHGForm"):
        PDHGEnergy(lambda theta: None, [0.1], strong_convexity=1.0)
    E = PDHGEnergy(functools.partial(tv_denoising_form, y), [0.1], strong_convexity=1.0)
    with pytest.raises(ValueError, match="`theta`"):
        E.with_params([0.1, 0.2])
    assert E.error_from_gap(0.5) == pytest.approx(1.0)
    assert E.gap_tolerance(1.0) == pytest.approx(0.5)
