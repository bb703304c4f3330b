"""MRI sampling builder: k-space simulation, energy, parameter map, penalty, validation."""

import pickle

import numpy as np
import pytest

from odl_bilevel.bilevel import BilevelProblem, L1Penalty
from odl_bilevel.functionals import H1Seminorm, SmoothedTV
from odl_bilevel.hypergradients import finite_difference_gradient
from odl_bilevel.operators import CartesianSampling, UnitaryDFT, unit_cell_space
from odl_bilevel.problems import (
    denoising_problem,
    sampling_phi,
    sampling_problem,
    sampling_weights,
    simulate_kspace,
)
from odl_bilevel.testing import random_element


def _data(rng, shape=(16,), n=2, sigma=0.05):
    size = int(np.prod(shape))
    clean = [np.resize(np.repeat(rng.uniform(size=4), -(-size // 4)), shape) for _ in range(n)]
    return clean, simulate_kspace(clean, sigma, rng=rng)


def _grad(x):
    """Forward differences, Neumann boundary (last difference zero), stacked on axis 0."""
    out = np.zeros((x.ndim, *x.shape))
    for k in range(x.ndim):
        d = np.diff(x, axis=k)
        pad = [(0, 0)] * x.ndim
        pad[k] = (0, 1)
        out[k] = np.pad(d, pad)
    return out


def _tv(x, nu):
    return float(np.sum(np.sqrt(np.sum(_grad(x) ** 2, axis=0) + nu**2)))


# -- k-space data -----------------------------------------------------------------------


def test_simulate_kspace_is_unitary_dft_plus_seeded_noise(rng):
    clean, _ = _data(rng, (6, 8))
    [y0] = simulate_kspace(clean[:1], 0.0)
    F = UnitaryDFT(unit_cell_space((6, 8)))
    np.testing.assert_allclose(y0, F(clean[0]).data, atol=1e-12)
    a, b = simulate_kspace(clean, 0.3, rng=5), simulate_kspace(clean, 0.3, rng=5)
    for ya, yb in zip(a, b, strict=True):
        np.testing.assert_array_equal(ya, yb)
        assert ya.dtype == np.complex128 and ya.shape == (6, 8)
    [noise] = simulate_kspace([np.zeros((128, 128))], 0.3, rng=1)
    assert np.mean(np.abs(noise) ** 2) == pytest.approx(0.09, rel=0.02)
    assert np.mean(noise.real**2) == pytest.approx(0.045, rel=0.03)


def test_simulate_kspace_bad_arguments_are_named(rng):
    with pytest.raises(ValueError, match="`sigma`"):
        simulate_kspace([np.zeros(4)], -1.0)
    with pytest.raises(TypeError, match="`images"):
        simulate_kspace([np.zeros(4, dtype=complex)], 0.1)


# -- energy and parameter map -----------------------------------------------------------


@pytest.mark.parametrize(
    ("shape", "sampling"), [((16,), "free"), ((6, 8), "free"), ((6, 8), "cartesian")]
)
def test_energy_matches_numpy_formula(shape, sampling, rng):
    clean, kspace = _data(rng, shape)
    alpha, nu, xi = 0.3, 0.05, 0.2
    problem = sampling_problem(clean, kspace, sampling=sampling, alpha=alpha, nu=nu, xi=xi)
    m = problem.parameter_map.size - 1
    sigma = rng.uniform(size=m)
    E = problem.energy(1, sampling_phi(problem, sigma, alpha))
    s = sigma.reshape(shape) if sampling == "free" else np.repeat(sigma[:, None], shape[1], 1)
    x = rng.standard_normal(shape)
    r = np.fft.fftn(x, norm="ortho") - kspace[1]
    expected = 0.5 * np.sum(s**2 * np.abs(r) ** 2) + alpha * (_tv(x, nu) + 0.5 * xi * np.sum(x**2))
    assert E(E.domain.element(x)) == pytest.approx(expected, rel=1e-12)
    w = sampling_weights(problem, sampling_phi(problem, sigma, alpha))
    np.testing.assert_allclose(w["pattern"], s, rtol=1e-15)
    assert w["alpha"] == pytest.approx(alpha, rel=1e-14)
    assert w["xi"] == pytest.approx(xi, rel=1e-14)


def test_strong_convexity_stays_positive_with_zero_weights(rng):
    clean, kspace = _data(rng)
    problem = sampling_problem(clean, kspace, alpha=0.5, xi=1e-3)
    phi = sampling_phi(problem, 0.0)
    E = problem.energy(0, phi)
    assert E.strong_convexity == pytest.approx(0.5 * 1e-3, rel=1e-12)
    res = problem.solve(phi, tol=1e-6)
    assert res.all_converged


@pytest.mark.parametrize("learn_alpha", [True, False])
def test_parameter_map_vjp_matches_finite_differences(learn_alpha, rng):
    clean, kspace = _data(rng)
    problem = sampling_problem(clean, kspace, learn_alpha=learn_alpha, alpha=0.2, xi=0.3)
    T = problem.parameter_map
    phi = sampling_phi(problem, rng.uniform(size=16))
    g = rng.standard_normal(T.forward(phi).size)
    fd = finite_difference_gradient(lambda p: float(np.dot(T.forward(p), g)), phi)
    np.testing.assert_allclose(T.vjp(phi, g), fd, rtol=1e-7, atol=1e-10)
    assert T.jacobian_norm(phi) == pytest.approx(np.linalg.norm(T.jacobian(phi), 2), rel=1e-12)
    np.testing.assert_allclose(T.inverse(T.forward(phi)), phi, rtol=1e-14)
    assert len(T.theta_names) == T.forward(phi).size
    assert T.theta_names[-3:] == ("alpha", "nu", "alpha_xi")


@pytest.mark.parametrize(("sampling", "learn_alpha"), [("free", True), ("cartesian", False)])
def test_hypergradient_matches_finite_differences(sampling, learn_alpha, rng):
    clean, kspace = _data(rng, (4, 6))
    problem = sampling_problem(
        clean,
        kspace,
        sampling=sampling,
        alpha=0.05,
        nu=0.1,
        xi=0.1,
        learn_alpha=learn_alpha,
        penalty=(1e-3, 2e-3),
        lower_tol=1e-12,
        cg_tol=1e-12,
        lower_max_iter=100_000,
    )
    m = 24 if sampling == "free" else 4
    phi = sampling_phi(problem, rng.uniform(0.2, 0.8, size=m))
    evaluation = problem.value_and_gradient(phi)
    fd = finite_difference_gradient(lambda p: problem.objective(p).value, phi, step=1e-4)
    np.testing.assert_allclose(evaluation.gradient, fd, rtol=1e-5, atol=1e-9)


# -- bounds, penalty, helpers -----------------------------------------------------------


def test_bounds_names_and_start(rng):
    clean, kspace = _data(rng)
    problem = sampling_problem(
        clean,
        kspace,
        alpha=0.1,
        init_weights=0.25,
        weight_bounds=(0.001, 0.99),
        alpha_bounds=(1e-4, 1.0),
    )
    T = problem.parameter_map
    assert T.names == (*(f"s[{j}]" for j in range(16)), "log_alpha")
    assert T.bounds[:16] == ((0.001, 0.99),) * 16
    assert T.bounds[16] == pytest.approx((np.log(1e-4), 0.0))
    phi0 = sampling_phi(problem)
    np.testing.assert_allclose(phi0, [0.25] * 16 + [np.log(0.1)], rtol=1e-15)
    fixed = sampling_problem(clean, kspace, learn_alpha=False)
    assert fixed.parameter_map.names == tuple(f"s[{j}]" for j in range(16))
    assert fixed.parameter_map.bounds == ((0.0, 1.0),) * 16


def test_l1_penalty_acts_on_the_sampling_weights_only(rng):
    clean, kspace = _data(rng)
    problem = sampling_problem(clean, kspace, penalty=(0.1, 0.4), alpha=0.3)
    assert isinstance(problem.penalty, L1Penalty)
    sigma = rng.uniform(size=16)
    theta = problem.theta(sampling_phi(problem, sigma, 0.3))
    expected = 0.1 * np.sum(sigma) + 0.4 * np.sum(sigma * (1 - sigma))
    assert problem.penalty(theta) == pytest.approx(expected, rel=1e-12)
    g = problem.penalty.gradient(theta)
    np.testing.assert_allclose(g[:16], 0.1 + 0.4 * (1 - 2 * sigma), rtol=1e-12)
    np.testing.assert_array_equal(g[16:], 0.0)  # alpha, nu, alpha * xi
    only_beta1 = sampling_problem(clean, kspace, penalty=0.2)
    assert only_beta1.penalty(theta) == pytest.approx(0.2 * np.sum(sigma), rel=1e-12)


def test_custom_regulariser_factory(rng):
    clean, kspace = _data(rng, (5, 6))
    problem = sampling_problem(clean, kspace, regulariser=H1Seminorm, alpha=0.4, xi=0.5)
    E = problem.energy(0, sampling_phi(problem, 0.5, 0.7))
    assert isinstance(E.terms[1], H1Seminorm)
    assert E.params[30] == pytest.approx(0.7) and E.params[-1] == pytest.approx(0.35)
    assert sampling_weights(problem, sampling_phi(problem))["alpha"] == pytest.approx(0.4)


def test_sampling_phi_and_weights_round_trip(rng):
    clean, kspace = _data(rng, (6, 8))
    problem = sampling_problem(clean, kspace, sampling="cartesian", alpha=0.2)
    sigma = rng.uniform(size=6)
    w = sampling_weights(problem, sampling_phi(problem, sigma, 0.5))
    np.testing.assert_allclose(w["s"], sigma, rtol=1e-15)
    np.testing.assert_allclose(w["pattern"], np.repeat(sigma[:, None], 8, axis=1), rtol=1e-15)
    assert w["alpha"] == pytest.approx(0.5, rel=1e-14)
    fixed = sampling_problem(clean, kspace, sampling="cartesian", learn_alpha=False, alpha=0.2)
    np.testing.assert_allclose(sampling_phi(fixed, sigma), sigma.ravel())
    with pytest.raises(ValueError, match="`alpha`"):
        sampling_phi(fixed, sigma, 0.3)
    with pytest.raises(ValueError, match="`s`"):
        sampling_phi(problem, np.ones(5))
    with pytest.raises(ValueError, match="`s`"):
        sampling_phi(problem, 1.5)


def test_helpers_reject_other_problems(rng):
    clean, noisy = [np.zeros(8)], [np.ones(8)]
    problem = denoising_problem(clean, noisy)
    with pytest.raises(TypeError, match="sampling_problem"):
        sampling_weights(problem, np.zeros(3))
    with pytest.raises(TypeError, match="`problem`"):
        sampling_phi("problem")


def test_problem_and_energies_pickle(rng):
    clean, kspace = _data(rng, (4, 6))
    problem = sampling_problem(clean, kspace, sampling="cartesian", penalty=(0.1, 0.0))
    phi = sampling_phi(problem)
    E = problem.energy(1, phi)
    E2 = pickle.loads(pickle.dumps(E))
    z = random_element(E.domain, rng)
    assert E2(z) == E(z)
    T = pickle.loads(pickle.dumps(problem.parameter_map))
    np.testing.assert_array_equal(T.forward(phi), problem.theta(phi))
    assert isinstance(problem, BilevelProblem)


def test_short_learning_run_decreases_objective(rng):
    from odl_bilevel.upper import lbfgsb

    clean, kspace = _data(rng, (16,), n=2)
    problem = sampling_problem(
        clean,
        kspace,
        learn_alpha=False,
        alpha=0.02,
        xi=1e-2,
        penalty=(1e-2, 0.0),
        lower_tol=1e-6,
        cg_tol=1e-6,
    )
    res = lbfgsb(problem, sampling_phi(problem), max_iter=5)
    assert res.history[-1].objective < 0.9 * res.history[0].objective
    s = sampling_weights(problem, res.phi)["s"]
    assert s.min() >= 0.0 and s.max() <= 1.0


# -- bad arguments ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sampling": "radial"}, ValueError, "`sampling`"),
        ({"sampling": np.eye(3)}, TypeError, "`sampling`"),
        ({"sampling": CartesianSampling((5, 5))}, ValueError, "`sampling`"),
        ({"regulariser": "tgv"}, ValueError, "`regulariser`"),
        ({"regulariser": 3}, TypeError, "`regulariser`"),
        ({"regulariser": lambda X, a: SmoothedTV(X, alpha=2 * a)}, ValueError, "first param"),
        ({"regulariser": lambda X, a: a}, TypeError, "ParametrisedFunctional"),
        ({"alpha": 0.0}, ValueError, "`alpha`"),
        ({"alpha": 1e3}, ValueError, "`alpha`"),
        ({"nu": -1.0}, ValueError, "`nu`"),
        ({"xi": -1.0}, ValueError, "`xi`"),
        ({"learn_alpha": "yes"}, TypeError, "`learn_alpha`"),
        ({"init_weights": 1.5}, ValueError, "`init_weights`"),
        ({"init_weights": np.ones(3)}, ValueError, "`init_weights`"),
        ({"weight_bounds": (0.5, 0.2)}, ValueError, "`weight_bounds`"),
        ({"weight_bounds": (0.0, 2.0)}, ValueError, "`weight_bounds`"),
        ({"alpha_bounds": (0.0, 1.0)}, ValueError, "`alpha_bounds"),
        ({"penalty": (1.0,)}, ValueError, "`penalty`"),
        ({"penalty": (-1.0, 0.0)}, ValueError, "`penalty"),
        ({"penalty": "l1"}, TypeError, "`penalty`"),
        ({"solver": "pdhg"}, ValueError, "`solver`"),
        ({"lower_tol": 0.0}, ValueError, "`lower_tol`"),
        ({"impl": "cuda"}, ValueError, "`impl`"),
        ({"planner_effort": "FFTW_FAST"}, ValueError, "`planner_effort`"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match, rng):
    clean, kspace = _data(rng, (4, 4))
    with pytest.raises(error, match=match):
        sampling_problem(clean, kspace, **kwargs)


def test_bad_data_is_named(rng):
    clean, kspace = _data(rng, (8,))
    with pytest.raises(ValueError, match="same length"):
        sampling_problem(clean, kspace[:1])
    with pytest.raises(ValueError, match=r"`kspace\[1\]`"):
        sampling_problem(clean, [kspace[0], kspace[1][:4]])
    with pytest.raises(ValueError, match=r"`kspace\[0\]`"):
        sampling_problem(clean, [np.full(8, np.nan), kspace[1]])
    with pytest.raises(TypeError, match="`kspace`"):
        sampling_problem(clean, 3)
    with pytest.raises(ValueError, match=r"`clean\[1\]`"):
        sampling_problem([clean[0], np.zeros(4)], kspace)
    with pytest.raises(TypeError, match=r"`clean\[0\]`"):
        sampling_problem([kspace[0], kspace[1]], kspace)


def test_solver_options_switch_the_preconditioner(rng):
    clean, kspace = _data(rng, (24, 24), n=2, sigma=0.01)
    kwargs = dict(alpha=1e-3, nu=1e-2, xi=1e-2, lower_tol=1e-6, cg_tol=1e-8)
    pre = sampling_problem(clean, kspace, **kwargs)
    plain = sampling_problem(clean, kspace, solver_options={"preconditioner": None}, **kwargs)
    assert pre.solver_options == {} and plain.solver_options == {"preconditioner": None}
    phi = sampling_phi(pre, np.where(rng.uniform(size=24 * 24) < 0.3, 1.0, 0.05))
    a, b = pre.value_and_gradient(phi), plain.value_and_gradient(phi)
    # same certified answer, fewer lower-level iterations with the preconditioner
    assert a.value == pytest.approx(b.value, rel=1e-6)
    scale = np.abs(b.gradient).max()
    np.testing.assert_allclose(a.gradient, b.gradient, rtol=1e-3, atol=1e-3 * scale)
    assert 2 * pre.ledger.lower_iterations < plain.ledger.lower_iterations
    with pytest.raises(ValueError, match="`solver_options`"):
        sampling_problem(clean, kspace, solver_options={"tol": 1e-3})
    with pytest.raises(TypeError, match="`solver_options`"):
        sampling_problem(clean, kspace, solver_options=[("momentum", "nesterov")])
