"""Implicit hypergradients on quadratic lower levels with closed-form solutions; validation."""

import dataclasses
import math

import numpy as np
import odl
import pytest

from odl_bilevel.functionals import (
    FieldsOfExperts,
    H1Seminorm,
    L2DataFit,
    ParametrisedSum,
    SampledDataFit,
    Tikhonov,
)
from odl_bilevel.hypergradients import (
    HypergradientResult,
    finite_difference_gradient,
    implicit_hypergradient,
)
from odl_bilevel.operators import dct_filters, unit_cell_space
from odl_bilevel.solvers import SolverStatus, conjugate_gradient


def _tikhonov_problem(rng, n=20, xi=0.5):
    """E = 1/2|x - y|^2 + xi/2 |x|^2: x_hat = y/(1 + xi)."""
    X = unit_cell_space(n)
    y = X.element(rng.standard_normal(n))
    E = ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y), Tikhonov(X, xi=xi))
    return X, y, E


def _tikhonov_exact(y, x_true, xi):
    """d/dxi |y/(1+xi) - x_true|^2 = -2 <x_hat - x_true, y> / (1+xi)^2."""
    x_hat = y.data / (1 + xi)
    return np.array([-2 * float(np.dot(x_hat - x_true.data, y.data)) / (1 + xi) ** 2])


def test_tikhonov_closed_form(rng):
    xi = 0.5
    X, y, E = _tikhonov_problem(rng, xi=xi)
    x_true = X.element(rng.standard_normal(X.shape))
    x_hat = X.element(y.data / (1 + xi))
    res = implicit_hypergradient(E, x_hat, 2 * (x_hat - x_true), lower_error=0.0, cg_tol=1e-13)
    exact = _tikhonov_exact(y, x_true, xi)
    assert isinstance(res, HypergradientResult)
    assert res.gradient.dtype == np.float64 and res.gradient.shape == (1,)
    assert abs(res.gradient[0] - exact[0]) <= res.error_bound + 1e-12
    assert res.error_bound < 1e-11 * abs(exact[0])
    assert res.cg.converged and res.components["lower"] == 0.0
    assert res.components["c_norm"] == pytest.approx(x_hat.norm(), rel=1e-12)
    assert res.error_bound == res.components["cg"] + res.components["lower"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.error_bound = 0.0


def test_tikhonov_h1_closed_form(rng):
    """E = 1/2|x-y|^2 + xi/2|x|^2 + gamma/2|grad x|^2: x_hat = (I(1+xi) + gamma L)^-1 y."""
    shape, xi, gamma = (5, 6), 0.3, 0.8
    X = unit_cell_space(shape)
    n = X.size
    y = X.element(rng.standard_normal(shape))
    x_true = X.element(rng.standard_normal(shape))
    E = ParametrisedSum(
        L2DataFit(odl.IdentityOperator(X), y), Tikhonov(X, xi=xi), H1Seminorm(X, weight=gamma)
    )
    lap_op = H1Seminorm(X, weight=1.0).gradient
    L = np.column_stack([lap_op(X.element(e.reshape(shape))).data.ravel() for e in np.eye(n)])
    A = (1 + xi) * np.eye(n) + gamma * L
    x_hat = np.linalg.solve(A, y.data.ravel())
    r = x_hat - x_true.data.ravel()
    # d x_hat / d xi = -A^-1 x_hat, d x_hat / d gamma = -A^-1 L x_hat
    exact = np.array([
        2 * r @ -np.linalg.solve(A, x_hat),
        2 * r @ -np.linalg.solve(A, L @ x_hat),
    ])
    x = X.element(x_hat.reshape(shape))
    res = implicit_hypergradient(E, x, 2 * (x - x_true), lower_error=0.0, cg_tol=1e-12)
    assert res.gradient.shape == (2,)
    assert np.linalg.norm(res.gradient - exact) <= res.error_bound + 1e-12
    np.testing.assert_allclose(res.gradient, exact, rtol=1e-9)
    # the exact C^T C norm of the two columns (x, L x)
    cols = np.column_stack([x_hat, L @ x_hat])
    assert res.components["c_norm"] == pytest.approx(np.linalg.norm(cols, 2), rel=1e-10)
    assert res.components["c_norm_method"] == "exact"
    # finite differences of the closed form agree as well
    def loss(theta):
        a = (1 + theta[0]) * np.eye(n) + theta[1] * L
        return float(np.sum((np.linalg.solve(a, y.data.ravel()) - x_true.data.ravel()) ** 2))

    np.testing.assert_allclose(finite_difference_gradient(loss, [xi, gamma]), exact, rtol=1e-7)


@pytest.mark.parametrize("cg_tol", [1e-14, 1e-1])
def test_bound_is_honest_and_tight_for_worst_perturbation(cg_tol, rng):
    """x = x_hat + eps d with the worst d: the bound holds and is nearly attained.

    For E = 1/2|x-y|^2 + xi/2|x|^2 and l = |x - x_true|^2 with x_true = c y, the
    computed h(x) = -2<x, x - x_true>/(1+xi) and the bound agree to first order
    in eps when d is parallel to x_hat (exact CG).
    """
    xi = 0.5
    X, y, E = _tikhonov_problem(rng, xi=xi)
    x_true = 0.3 * y
    x_hat = y / (1 + xi)
    exact = _tikhonov_exact(y, x_true, xi)
    d = x_hat / x_hat.norm()
    for eps in (1e-1, 1e-3):
        x = x_hat + eps * d
        res = implicit_hypergradient(E, x, 2 * (x - x_true), lower_error=eps, cg_tol=cg_tol)
        err = abs(res.gradient[0] - exact[0])
        assert err <= res.error_bound
        if cg_tol < 1e-10:
            assert res.error_bound <= 1.05 * err


def test_bound_is_honest_for_random_perturbations(rng):
    shape, xi, gamma = (6, 6), 0.2, 0.5
    X = unit_cell_space(shape)
    y = X.element(rng.standard_normal(shape))
    x_true = X.element(rng.standard_normal(shape))
    E = ParametrisedSum(
        L2DataFit(odl.IdentityOperator(X), y), Tikhonov(X, xi=xi), H1Seminorm(X, weight=gamma)
    )
    zero = implicit_hypergradient(E, X.zero(), X.zero(), lower_error=0.0)  # loss gradient 0
    assert np.all(zero.gradient == 0.0) and zero.error_bound == 0.0
    x_hat = conjugate_gradient(E.gradient.derivative(X.zero()), y, tol=1e-14).x
    ref = implicit_hypergradient(E, x_hat, 2 * (x_hat - x_true), lower_error=0.0, cg_tol=1e-14)
    for _ in range(10):
        d = X.element(rng.standard_normal(shape))
        eps = float(rng.choice([1e-1, 1e-2, 1e-4]))
        x = x_hat + (eps / d.norm()) * d
        res = implicit_hypergradient(
            E, x, 2 * (x - x_true), lower_error=eps, cg_tol=float(rng.choice([1e-1, 1e-3]))
        )
        assert np.linalg.norm(res.gradient - ref.gradient) <= res.error_bound


def test_non_converged_cg_and_warm_start(rng):
    shape = (8, 8)
    X = unit_cell_space(shape)
    y = X.element(rng.standard_normal(shape))
    x_true = X.element(rng.standard_normal(shape))
    E = ParametrisedSum(
        L2DataFit(odl.IdentityOperator(X), y), Tikhonov(X, xi=0.1), H1Seminorm(X, weight=2.0)
    )
    x = X.element(rng.standard_normal(shape))
    g = 2 * (x - x_true)
    ref = implicit_hypergradient(E, x, g, lower_error=0.0, cg_tol=1e-14)
    res = implicit_hypergradient(E, x, g, lower_error=0.0, cg_tol=1e-12, cg_max_iter=2)
    assert res.cg.status is SolverStatus.MAX_ITER
    assert res.cg.hessian_products == 3  # two iterations + the true residual
    r = g - E.gradient.derivative(x)(res.adjoint)
    assert res.cg.certificate == pytest.approx(r.norm() / g.norm(), rel=1e-10)
    assert res.components["residual_norm"] == pytest.approx(r.norm(), rel=1e-10)
    assert np.linalg.norm(res.gradient - ref.gradient) <= res.error_bound
    assert res.error_bound > 1e-6
    # warm start from the accurate adjoint: CG has nothing left to do
    warm = implicit_hypergradient(E, x, g, lower_error=0.0, cg_tol=1e-8, w0=ref.adjoint)
    assert warm.cg.iterations == 0 and warm.cg.converged
    np.testing.assert_allclose(warm.gradient, ref.gradient, rtol=1e-12)


def test_zero_strong_convexity_gives_infinite_bound(rng):
    X = unit_cell_space(10)
    y = X.element(rng.standard_normal(10))
    data = L2DataFit(odl.ScalingOperator(X, 2.0), y)  # mu unknown (0) though B = 4I
    E = ParametrisedSum(data, Tikhonov(X, xi=0.0))
    assert E.strong_convexity == 0.0
    x = X.element(y.data / 2)
    res = implicit_hypergradient(E, x, 2 * x, lower_error=0.0, cg_tol=1e-12)
    assert res.error_bound == math.inf
    assert res.cg.converged
    # the gradient itself is still right: d/dxi of |x_hat|^2 at xi = 0, x_hat = 2y/(4+xi)
    assert res.gradient[0] == pytest.approx(-2 * float(np.dot(x.data, x.data)) / 4, rel=1e-10)


def test_unknown_constants_give_infinite_bound(rng):
    X = unit_cell_space((8, 8))
    y = X.element(rng.standard_normal((8, 8)))
    foe = FieldsOfExperts(X, dct_filters((3, 3)), np.full(8, 0.01), potential="charbonnier")
    E = ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y), foe)
    x = y.copy()
    res = implicit_hypergradient(E, x, 2 * x, lower_error=1e-3, cg_tol=1e-8)
    assert res.error_bound == math.inf and res.components["lower"] == math.inf
    assert math.isfinite(res.components["cg"])
    assert res.components["c_norm_method"] == "power_iteration"  # p = 80 > 64
    exact = implicit_hypergradient(E, x, 2 * x, lower_error=0.0, cg_tol=1e-8)
    assert math.isfinite(exact.error_bound)
    # nan loss Lipschitz constant: unknown -> inf, not an exception
    q = ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y), Tikhonov(X, xi=1.0))
    res = implicit_hypergradient(q, x, 2 * x, lower_error=1e-3, loss_lipschitz=float("nan"))
    assert res.error_bound == math.inf
    res = implicit_hypergradient(q, x, 2 * x, lower_error=float("inf"))
    assert res.error_bound == math.inf


def test_power_iteration_norm_for_many_parameters(rng):
    shape = (9, 9)  # free pattern: 81 > 64 parameters
    X = unit_cell_space(shape)
    kdata = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    theta = rng.uniform(0.5, 1.0, shape)
    E = ParametrisedSum(SampledDataFit(X, kdata, theta), Tikhonov(X, xi=0.5))
    x = X.element(rng.standard_normal(shape))
    res = implicit_hypergradient(E, x, 2 * x, lower_error=0.0, cg_tol=1e-10)
    assert res.components["c_norm_method"] == "power_iteration"
    C = E.mixed_derivative(x)
    p = E.params.size
    cols = np.column_stack([C(C.domain.element(e)).data.ravel() for e in np.eye(p)])
    true_norm = np.linalg.norm(cols, 2)
    assert true_norm <= res.components["c_norm"] <= 1.1 * true_norm * (1 + 1e-9)
    # the gradient is the exact -C^T w
    w = res.adjoint.data.ravel()
    np.testing.assert_allclose(res.gradient, -cols.T @ w, rtol=1e-10, atol=1e-12)


def test_validation(rng):
    X, y, E = _tikhonov_problem(rng, n=6)
    x = y.copy()
    g = 2 * x
    other = unit_cell_space(7)
    with pytest.raises(TypeError, match="`energy`"):
        implicit_hypergradient(odl.functionals.L2NormSquared(X), x, g, lower_error=0.0)
    with pytest.raises(ValueError, match="`x`"):
        implicit_hypergradient(E, other.one(), g, lower_error=0.0)
    with pytest.raises(ValueError, match="`loss_gradient`"):
        implicit_hypergradient(E, x, other.one(), lower_error=0.0)
    with pytest.raises(ValueError, match="`loss_gradient`"):
        implicit_hypergradient(E, x, np.zeros(7), lower_error=0.0)
    with pytest.raises(ValueError, match="`loss_gradient`"):
        implicit_hypergradient(E, x, np.full(6, np.nan), lower_error=0.0)
    with pytest.raises(ValueError, match="`w0`"):
        implicit_hypergradient(E, x, g, lower_error=0.0, w0=other.one())
    with pytest.raises(ValueError, match="`lower_error`"):
        implicit_hypergradient(E, x, g, lower_error=-1e-3)
    with pytest.raises(ValueError, match="`lower_error`"):
        implicit_hypergradient(E, x, g, lower_error=float("nan"))
    with pytest.raises(TypeError, match="`lower_error`"):
        implicit_hypergradient(E, x, g, lower_error="small")
    with pytest.raises(ValueError, match="`loss_lipschitz`"):
        implicit_hypergradient(E, x, g, lower_error=0.0, loss_lipschitz=-2.0)
    with pytest.raises(ValueError, match="`cg_tol`"):
        implicit_hypergradient(E, x, g, lower_error=0.0, cg_tol=-1.0)
    with pytest.raises(TypeError, match="`cg_max_iter`"):
        implicit_hypergradient(E, x, g, lower_error=0.0, cg_max_iter=10.5)
    with pytest.raises(ValueError, match="`cg_max_iter`"):
        implicit_hypergradient(E, x, g, lower_error=0.0, cg_max_iter=-1)
    with pytest.raises(TypeError):
        implicit_hypergradient(E, x, g, 0.0)  # lower_error is keyword-only
    # arrays of the right shape are accepted for x and loss_gradient
    res = implicit_hypergradient(E, x.data.copy(), g.data.copy(), lower_error=0.0)
    assert res.gradient.shape == (1,)


def test_finite_difference_gradient():
    def f(t):
        return float(t[0] ** 3 + np.sin(t[1]) + 5.0 * t[2])

    theta = np.array([2.0, 0.3, 0.0])
    exact = np.array([12.0, np.cos(0.3), 5.0])
    np.testing.assert_allclose(finite_difference_gradient(f, theta), exact, rtol=1e-8)
    np.testing.assert_allclose(
        finite_difference_gradient(f, theta, step=1e-5, relative=False), exact, rtol=1e-8
    )
    # the function gets copies: it may modify its argument
    def g(t):
        t[:] = 0.0
        return 1.0

    assert np.all(finite_difference_gradient(g, theta) == 0.0)
    with pytest.raises(TypeError, match="`fun`"):
        finite_difference_gradient(3.0, theta)
    with pytest.raises(ValueError, match="`step`"):
        finite_difference_gradient(f, theta, step=0.0)
    with pytest.raises(ValueError, match="`theta`"):
        finite_difference_gradient(f, [np.nan, 1.0, 1.0])
    with pytest.raises(TypeError, match="`theta`"):
        finite_difference_gradient(f, ["a", "b"])
    with pytest.raises(TypeError, match="`relative`"):
        finite_difference_gradient(f, theta, relative=1)
