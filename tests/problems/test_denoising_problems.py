"""Denoising builders: parameter maps, energies, penalty constants, validation, learning."""

import numpy as np
import pytest

from odl_bilevel.bilevel import BilevelProblem
from odl_bilevel.functionals import SmoothedTGV
from odl_bilevel.hypergradients import finite_difference_gradient
from odl_bilevel.operators import unit_cell_space
from odl_bilevel.problems import (
    JointDenoisingFit,
    denoising_phi,
    denoising_problem,
    denoising_weights,
    reconstruct,
)
from odl_bilevel.testing import check_hessian, random_element
from odl_bilevel.upper import lbfgsb

WEIGHTS = {
    "tv": {"alpha": 0.3, "nu": 0.05},
    "tv_tikhonov": {"alpha": 0.3, "nu": 0.05, "xi": 0.2},
    "tgv": {"alpha": 0.3, "beta": 0.4, "nu": 0.05},
}


def _pairs(rng, shape=(16,), n=2):
    clean = [np.resize(np.linspace(0, 1, int(np.prod(shape))) ** (k + 1), shape) for k in range(n)]
    noisy = [c + 0.1 * rng.standard_normal(shape) for c in clean]
    return clean, noisy


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


# -- parameter maps ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("regulariser", "learn"),
    [
        ("tv_tikhonov", None),
        ("tv_tikhonov", ("alpha", "xi")),
        ("tv_tikhonov", ("xi",)),
        ("tv", None),
        ("tgv", None),
        ("tgv", ("beta", "nu")),
    ],
)
def test_parameter_map_vjp_matches_finite_differences(regulariser, learn, rng):
    clean, noisy = _pairs(rng)
    problem = denoising_problem(
        clean, noisy, regulariser=regulariser, learn=learn, init=WEIGHTS[regulariser]
    )
    T = problem.parameter_map
    phi = denoising_phi(problem) + 0.1 * rng.standard_normal(T.size)
    g = rng.standard_normal(T.forward(phi).size)
    fd = finite_difference_gradient(lambda p: float(np.dot(T.forward(p), g)), phi)
    np.testing.assert_allclose(T.vjp(phi, g), fd, rtol=1e-7, atol=1e-10)
    assert T.jacobian_norm(phi) == pytest.approx(np.linalg.norm(T.jacobian(phi), 2), rel=1e-12)


def test_talk_parametrisation_is_alpha_nu_alpha_xi(rng):
    clean, noisy = _pairs(rng)
    problem = denoising_problem(clean, noisy)
    phi = np.log([0.5, 0.02, 3.0])
    assert problem.parameter_map.names == ("log_alpha", "log_nu", "log_xi")
    np.testing.assert_allclose(problem.theta(phi), [0.5, 0.02, 1.5], rtol=1e-14)
    w = denoising_weights(problem, phi)
    assert w == pytest.approx({"alpha": 0.5, "nu": 0.02, "xi": 3.0}, rel=1e-13)
    np.testing.assert_allclose(denoising_phi(problem, w), phi, rtol=1e-13)
    np.testing.assert_allclose(problem.parameter_map.inverse(problem.theta(phi)), phi, atol=1e-13)


def test_fixed_weights_stay_fixed_and_bounds_are_logs(rng):
    clean, noisy = _pairs(rng)
    problem = denoising_problem(
        clean, noisy, learn=("xi", "alpha"), init={"nu": 0.3, "alpha": 2.0},
        bounds={"alpha": (1e-2, 10.0), "xi": (None, 5.0)},
    )
    T = problem.parameter_map
    assert T.names == ("log_alpha", "log_xi")  # canonical order
    (lo0, hi0), (lo1, hi1) = T.bounds
    assert (lo0, hi0, hi1) == pytest.approx((np.log(1e-2), np.log(10.0), np.log(5.0)))
    assert lo1 is None
    np.testing.assert_allclose(denoising_phi(problem), np.log([2.0, 0.1]))
    for phi in ([0.0, 0.0], [1.0, -2.0]):
        assert denoising_weights(problem, phi)["nu"] == pytest.approx(0.3, rel=1e-14)


# -- energies ---------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(17,), (6, 7)])
def test_talk_energy_matches_numpy_formula(shape, rng):
    clean, noisy = _pairs(rng, shape)
    problem = denoising_problem(clean, noisy)
    alpha, nu, xi = 0.7, 0.03, 0.4
    E = problem.energy(1, np.log([alpha, nu, xi]))
    x = rng.standard_normal(shape)
    y = noisy[1]
    expected = 0.5 * np.sum((x - y) ** 2) + alpha * (_tv(x, nu) + 0.5 * xi * np.sum(x**2))
    assert E(E.domain.element(x)) == pytest.approx(expected, rel=1e-12)


def test_tv_energy_matches_numpy_formula(rng):
    clean, noisy = _pairs(rng, (5, 8))
    problem = denoising_problem(clean, noisy, regulariser="tv")
    E = problem.energy(0, np.log([0.4, 0.2]))
    x = rng.standard_normal((5, 8))
    expected = 0.5 * np.sum((x - noisy[0]) ** 2) + 0.4 * _tv(x, 0.2)
    assert E(E.domain.element(x)) == pytest.approx(expected, rel=1e-12)


def _dminus(v, k):
    """Backward differences D^- = -(D^+)^T along axis ``k`` (D^+ with Neumann boundary)."""
    out = np.zeros_like(v)
    n = v.shape[k]
    head = [slice(None)] * v.ndim
    head[k] = slice(0, n - 1)
    tail = [slice(None)] * v.ndim
    tail[k] = slice(1, n)
    out[tuple(head)] += v[tuple(head)]
    out[tuple(tail)] -= v[tuple(head)]
    return out


def _sym_grad_sq(v):
    """Pointwise |Ev|_F^2 of the symmetrised gradient (Bredies 2014) by hand."""
    d = len(v)
    total = sum(_dminus(v[i], i) ** 2 for i in range(d))
    for i in range(d):
        for j in range(i + 1, d):
            total = total + 2 * (0.5 * (_dminus(v[i], j) + _dminus(v[j], i))) ** 2
    return total


@pytest.mark.parametrize("tau", [1e-2, 0.5])
def test_tgv_energy_is_data_term_plus_tgv(tau, rng):
    clean, noisy = _pairs(rng, (6, 5))
    problem = denoising_problem(clean, noisy, regulariser="tgv", tgv_tau=tau)
    alpha, beta, nu = 0.3, 0.7, 0.05
    E = problem.energy(0, np.log([alpha, beta]))
    z = random_element(E.domain, rng)
    x, v = z[0].data, np.stack([p.data for p in z.parts[1:]])
    tgv = alpha * np.sum(np.sqrt(np.sum((_grad(x) - v) ** 2, axis=0) + nu**2))
    tgv += beta * np.sum(np.sqrt(_sym_grad_sq(v) + nu**2))
    expected = 0.5 * np.sum((x - noisy[0]) ** 2) + 0.5 * tau * np.sum(v**2) + tgv
    assert E(z) == pytest.approx(expected, rel=1e-12)


def test_joint_fit_derivatives_and_constants(rng):
    Z = SmoothedTGV.joint_space(unit_cell_space((4, 3)))
    y = rng.standard_normal((4, 3))
    f = JointDenoisingFit(Z, y, tau=0.25)
    z = random_element(Z, rng)
    g = f.gradient(z)
    np.testing.assert_allclose(g[0].data, z[0].data - y)
    np.testing.assert_allclose(g[2].data, 0.25 * z[2].data)
    assert (f.grad_lipschitz, f.strong_convexity) == (1.0, 0.25)
    assert (f.hessian_lipschitz, f.mixed_lipschitz) == (0.0, 0.0)
    assert check_hessian(f, rng=rng).passed
    with pytest.raises(ValueError, match="`tau`"):
        JointDenoisingFit(Z, y, tau=-1.0)
    with pytest.raises(ValueError, match="`data`"):
        JointDenoisingFit(Z, y[:2], tau=0.1)
    with pytest.raises(TypeError, match="`space`"):
        JointDenoisingFit(Z[0], y)


# -- condition penalty -------------------------------------------------------------------


@pytest.mark.parametrize("regulariser", ["tv", "tv_tikhonov", "tgv"])
@pytest.mark.parametrize("shape", [(12,), (5, 6)])
def test_condition_penalty_uses_the_energy_constants(regulariser, shape, rng):
    clean, noisy = _pairs(rng, shape)
    beta = 1e-3
    problem = denoising_problem(
        clean, noisy, regulariser=regulariser, penalty="condition", penalty_weight=beta,
        init=WEIGHTS[regulariser], tgv_tau=0.2,
    )
    phi = denoising_phi(problem) + 0.2 * rng.standard_normal(problem.parameter_map.size)
    theta = problem.theta(phi)
    E = problem.energy(0, phi)
    kappa = E.grad_lipschitz / E.strong_convexity
    assert problem.penalty(theta) == pytest.approx(beta * kappa**2, rel=1e-12)
    # gradient of J on theta by finite differences
    fd = finite_difference_gradient(problem.penalty, theta)
    np.testing.assert_allclose(problem.penalty.gradient(theta), fd, rtol=1e-6)


def test_talk_condition_constants_formula(rng):
    clean, noisy = _pairs(rng, (16,))
    problem = denoising_problem(clean, noisy, penalty="condition", penalty_weight=1.0)
    alpha, nu, xi = 0.5, 0.1, 2.0
    E = problem.energy(0, np.log([alpha, nu, xi]))
    L, mu = 1 + alpha * (4 / nu + xi), 1 + alpha * xi  # ||grad||^2 <= 4 in 1-D
    assert E.grad_lipschitz == pytest.approx(L, rel=1e-14)
    assert E.strong_convexity == pytest.approx(mu, rel=1e-14)
    assert problem.penalty(problem.theta(np.log([alpha, nu, xi]))) == pytest.approx((L / mu) ** 2)


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"regulariser": "tv2"}, ValueError, "`regulariser`"),
        ({"regulariser": 3}, TypeError, "`regulariser`"),
        ({"learn": ("alpha", "beta")}, ValueError, "`learn`"),
        ({"learn": ()}, ValueError, "`learn`"),
        ({"learn": ("nu", "nu")}, ValueError, "`learn`"),
        ({"init": {"alpha": -1.0}}, ValueError, "init"),
        ({"init": {"gamma": 1.0}}, ValueError, "`init`"),
        ({"init": [0.1]}, TypeError, "`init`"),
        ({"bounds": {"alpha": (1.0, 0.5)}}, ValueError, "bounds"),
        ({"bounds": {"alpha": (0.0, 1.0)}}, ValueError, "bounds"),
        ({"learn": ("alpha",), "bounds": {"nu": (0.1, 1.0)}}, ValueError, "`bounds`"),
        ({"penalty": "l1"}, ValueError, "`penalty`"),
        ({"penalty": 1.0}, TypeError, "`penalty`"),
        ({"penalty_weight": -1.0}, ValueError, "`penalty_weight`"),
        ({"tgv_tau": 0.0}, ValueError, "`tgv_tau`"),
        ({"solver": "pdhg"}, ValueError, "`solver`"),
        ({"lower_tol": -1.0}, ValueError, "`lower_tol`"),
        ({"cg_tol": 0.0}, ValueError, "`cg_tol`"),
        ({"lower_max_iter": 0}, ValueError, "`lower_max_iter`"),
        ({"executor": "pool"}, TypeError, "`executor`"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match, rng):
    clean, noisy = _pairs(rng)
    with pytest.raises(error, match=match):
        denoising_problem(clean, noisy, **kwargs)


def test_bad_data_is_named(rng):
    clean, noisy = _pairs(rng)
    with pytest.raises(ValueError, match="same length"):
        denoising_problem(clean, noisy[:1])
    with pytest.raises(ValueError, match=r"`noisy\[1\]`"):
        denoising_problem(clean, [noisy[0], noisy[1][:-1]])
    with pytest.raises(ValueError, match=r"`clean\[0\]`"):
        denoising_problem([clean[0][:-1], clean[1]], noisy)
    bad = [noisy[0].copy(), noisy[1]]
    bad[0][3] = np.nan
    with pytest.raises(ValueError, match=r"`noisy\[0\]`.*NaN"):
        denoising_problem(clean, bad)
    with pytest.raises(ValueError, match="`clean`"):
        denoising_problem([], [])
    with pytest.raises(ValueError, match=r"`clean\[0\]` must be 1-D or 2-D"):
        denoising_problem([np.zeros((2, 2, 2))], [np.zeros((2, 2, 2))])
    with pytest.raises(TypeError, match="`noisy`"):
        denoising_problem(clean, 3.0)
    with pytest.raises(TypeError, match="`problem`"):
        reconstruct("problem", [0.0], noisy)


def test_stacked_arrays_are_samples(rng):
    clean, noisy = _pairs(rng)
    problem = denoising_problem(np.stack(clean), np.stack(noisy), regulariser="tv")
    assert isinstance(problem, BilevelProblem)
    assert problem.n_samples == 2


# -- the TGV loss sees only x ------------------------------------------------------------


def test_tgv_loss_reads_only_the_image(rng):
    clean, noisy = _pairs(rng, (5, 4))
    problem = denoising_problem(clean, noisy, regulariser="tgv")
    Z = problem.domain
    assert Z == SmoothedTGV.joint_space(Z[0])
    z = random_element(Z, rng)
    target = problem.targets[0]
    assert target.space == Z[0]
    value = problem.loss.value(z, target)
    z2 = z.copy()
    z2[1].data[...] += 7.0  # change v only
    assert problem.loss.value(z2, target) == value
    assert value == pytest.approx(np.sum((z[0].data - clean[0]) ** 2), rel=1e-13)
    g = problem.loss.gradient(z, target)
    assert all(np.all(p.data == 0) for p in g.parts[1:])
    # and the objective's per-sample losses are the x errors of the solutions
    res = problem.objective(denoising_phi(problem))
    for x, c, loss in zip(res.solves.x, clean, res.losses, strict=True):
        assert loss == pytest.approx(np.sum((x[0].data - c) ** 2), rel=1e-12)


# -- reconstruct and a short learning run ------------------------------------------------


@pytest.mark.parametrize("regulariser", ["tv", "tv_tikhonov", "tgv"])
def test_reconstruct_solves_the_energy(regulariser, rng):
    clean, noisy = _pairs(rng, (6, 6))
    problem = denoising_problem(
        clean, noisy, regulariser=regulariser, init=WEIGHTS[regulariser], lower_tol=1e-9,
        tgv_tau=0.5,
    )
    phi = denoising_phi(problem)
    test = [rng.standard_normal((5, 7))]  # another shape is fine
    [x_hat] = reconstruct(problem, phi, test)
    assert x_hat.shape == (5, 7)
    train = reconstruct(problem, phi, noisy)
    solves = problem.solve(phi, tol=1e-9)
    for x, s in zip(train, solves.x, strict=True):
        ref = s[0].data if regulariser == "tgv" else s.data
        np.testing.assert_allclose(x, ref, atol=1e-7)
    with pytest.raises(ValueError, match="`noisy"):
        reconstruct(problem, phi, [np.zeros(5)])


def test_short_learning_run_decreases_objective(rng):
    x_true = np.repeat([0.2, 0.9, 0.4, 0.6], 16)
    noisy = x_true + 0.1 * rng.standard_normal(x_true.size)
    problem = denoising_problem(
        [x_true], [noisy], penalty="condition", penalty_weight=1e-6, lower_tol=1e-6,
        cg_tol=1e-6,
    )
    phi0 = denoising_phi(problem)
    res = lbfgsb(problem, phi0, max_iter=5)
    objectives = [r.objective for r in res.history]
    assert objectives[-1] < 0.8 * objectives[0]
    assert res.objective == pytest.approx(problem.objective(res.phi, tol=1e-8).value, rel=1e-4)
    [x_hat] = reconstruct(problem, res.phi, [noisy])
    assert np.sum((x_hat - x_true) ** 2) < 0.5 * np.sum((noisy - x_true) ** 2)


@pytest.mark.parametrize("regulariser", ["tv", "tv_tikhonov", "tgv"])
def test_energies_pickle_for_process_pools(regulariser, rng):
    import pickle

    clean, noisy = _pairs(rng, (4, 5))
    problem = denoising_problem(clean, noisy, regulariser=regulariser, penalty="condition")
    phi = denoising_phi(problem)
    E = problem.energy(1, phi)
    E2 = pickle.loads(pickle.dumps(E))
    z = random_element(E.domain, rng)
    assert E2(z) == E(z)
    theta = problem.theta(phi)
    penalty = pickle.loads(pickle.dumps(problem.penalty))
    assert penalty(theta) == problem.penalty(theta)


@pytest.mark.parametrize(
    ("regulariser", "learn"), [("tv_tikhonov", None), ("tv_tikhonov", ("alpha", "xi")),
                               ("tgv", None)]
)
def test_hypergradient_in_phi_matches_finite_differences(regulariser, learn, rng):
    clean, noisy = _pairs(rng, (24,))
    problem = denoising_problem(
        clean, noisy, regulariser=regulariser, learn=learn, init=WEIGHTS[regulariser],
        penalty="condition", penalty_weight=1e-4, lower_tol=1e-11, cg_tol=1e-11,
        lower_max_iter=100_000, tgv_tau=0.5,
    )
    phi = denoising_phi(problem)
    evaluation = problem.value_and_gradient(phi)
    fd = finite_difference_gradient(lambda p: problem.objective(p).value, phi, step=1e-5)
    np.testing.assert_allclose(evaluation.gradient, fd, rtol=1e-5, atol=1e-8)
