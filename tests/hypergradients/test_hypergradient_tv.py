"""Implicit hypergradients of smoothed-TV denoising against central finite differences.

Lower level E(x; alpha, nu, xi) = 1/2|x - y|^2 + alpha sum sqrt(|grad x|^2 + nu^2)
+ xi/2 |x|^2 (mu = 1 + xi), upper loss l = |x_hat - x_true|^2. The reference
derivative is a central difference of theta -> l(x_hat(theta)) with the lower
level solved by FISTA to a certificate of 1e-12; its own error is estimated by
comparing two step sizes.
"""

import numpy as np
import odl
import pytest

from odl_bilevel.functionals import (
    HessianOperator,
    L2DataFit,
    ParametrisedFunctional,
    ParametrisedSum,
    ParamLinearOperator,
    SmoothedTGV,
    SmoothedTV,
    Tikhonov,
)
from odl_bilevel.hypergradients import finite_difference_gradient, implicit_hypergradient
from odl_bilevel.operators import unit_cell_space
from odl_bilevel.solvers import fista

THETA = np.array([0.3, 0.05, 0.1])  # alpha, nu, xi
REFERENCE_TOL = 1e-12


def _energy(X, y, theta):
    alpha, nu, xi = theta
    return ParametrisedSum(
        L2DataFit(odl.IdentityOperator(X), y), SmoothedTV(X, alpha, nu), Tikhonov(X, xi)
    )


def _signal(shape):
    if len(shape) == 1:
        x = np.zeros(shape)
        n = shape[0]
        x[n // 4 : n // 2] = 1.0
        x[3 * n // 4 :] = -0.5
    else:
        x = np.zeros(shape)
        x[2:6, 3:7] = 1.0
        x[5:, :3] = 0.5
    return x


@pytest.fixture(scope="module", params=[(64,), (12, 12)], ids=["1d", "2d"])
def problem(request):
    shape = request.param
    rng = np.random.default_rng(7)
    X = unit_cell_space(shape)
    x_true = X.element(_signal(shape))
    y = X.element(_signal(shape) + 0.1 * rng.standard_normal(shape))

    def loss(theta):
        res = fista(_energy(X, y, theta), y, tol=REFERENCE_TOL, max_iter=100_000)
        assert res.converged
        return float(np.sum((res.x.data - x_true.data) ** 2))

    fd = finite_difference_gradient(loss, THETA, step=1e-4)
    fd_coarse = finite_difference_gradient(loss, THETA, step=1e-3)
    fd_error = float(np.linalg.norm(fd - fd_coarse))  # overestimates the error of fd
    E = _energy(X, y, THETA)
    x_ref = fista(E, y, tol=REFERENCE_TOL, max_iter=100_000)
    ref = implicit_hypergradient(
        E, x_ref.x, 2 * (x_ref.x - x_true), lower_error=x_ref.certificate, cg_tol=1e-13
    )
    return {"X": X, "y": y, "x_true": x_true, "E": E, "fd": fd, "fd_error": fd_error,
            "ref": ref}


def test_accurate_hypergradient_matches_finite_differences(problem):
    ref, fd = problem["ref"], problem["fd"]
    assert problem["fd_error"] < 1e-5 * np.linalg.norm(fd)
    assert ref.cg.converged
    assert ref.error_bound < 1e-6 * np.linalg.norm(fd)
    assert np.linalg.norm(ref.gradient - fd) <= ref.error_bound + problem["fd_error"]
    np.testing.assert_allclose(ref.gradient, fd, rtol=1e-6)


def test_bound_covers_finite_differences_and_shrinks(problem):
    E, y, x_true, fd = problem["E"], problem["y"], problem["x_true"], problem["fd"]
    bounds = []
    w = None
    for tol in (1e-2, 1e-4, 1e-6, 1e-8):
        lower = fista(E, y, tol=tol, max_iter=100_000)
        res = implicit_hypergradient(
            E, lower.x, 2 * (lower.x - x_true), lower_error=lower.certificate, cg_tol=tol, w0=w
        )
        w = res.adjoint
        assert res.cg.converged
        assert np.linalg.norm(res.gradient - fd) <= res.error_bound + problem["fd_error"]
        assert np.linalg.norm(res.gradient - problem["ref"].gradient) <= res.error_bound
        bounds.append(res.error_bound)
    assert all(b1 > 10 * b2 for b1, b2 in zip(bounds, bounds[1:], strict=False))
    assert bounds[-1] < 1e-3 * np.linalg.norm(fd)


def test_bound_is_honest_for_inaccurate_lower_level(problem, rng):
    E, y, x_true, ref = problem["E"], problem["y"], problem["x_true"], problem["ref"]
    exact = ref.gradient
    # a loose lower-level solve
    lower = fista(E, y, tol=1e-2, max_iter=100_000)
    res = implicit_hypergradient(
        E, lower.x, 2 * (lower.x - x_true), lower_error=lower.certificate, cg_tol=1e-2
    )
    assert np.linalg.norm(res.gradient - exact) <= res.error_bound
    # deliberate perturbations x = x_hat + eps d with |d| = 1 and a loose / capped CG
    X = problem["X"]
    x_hat = fista(E, y, tol=REFERENCE_TOL, max_iter=100_000).x
    for eps, cg_tol, cg_max_iter in [(1e-1, 1e-1, 1000), (1e-2, 1e-6, 3), (1e-3, 1e-3, 1000)]:
        for _ in range(3):
            d = X.element(rng.standard_normal(X.shape))
            x = x_hat + (eps / d.norm()) * d
            res = implicit_hypergradient(
                E, x, 2 * (x - x_true), lower_error=eps, cg_tol=cg_tol, cg_max_iter=cg_max_iter
            )
            assert np.linalg.norm(res.gradient - exact) <= res.error_bound


# ---------------------------------------------------------------------------
# an energy whose hypergradient error comes only from the Hessian's variation
# ---------------------------------------------------------------------------


class _Frozen(ParametrisedFunctional):
    """``f`` with its parameters frozen (p = 0): only the x-dependence is left."""

    def __init__(self, f):
        super().__init__(f.domain, [], param_names=(), grad_lipschitz=f.grad_lipschitz)
        self._f = f

    def _call(self, x):
        return self._f(x)

    @property
    def gradient(self):
        return self._f.gradient

    @property
    def hessian_lipschitz(self):
        return self._f.hessian_lipschitz

    @property
    def mixed_lipschitz(self):
        return 0.0

    def _with_params(self, theta):
        return self

    def param_gradient(self, x):
        return self.param_space.zero()

    def mixed_derivative(self, x):
        return ParamLinearOperator(
            self.param_space, self.domain, lambda d, out: out.set_zero(),
            lambda v, out: None,
        )


class _ZeroHessian(HessianOperator):
    def _call(self, v, out):
        out.set_zero()


class _TiltGradient(odl.Operator):
    def __init__(self, space, tilt):
        super().__init__(space, space)
        self._tilt = tilt

    def _call(self, x, out):
        out.data[:] = -self._tilt

    def derivative(self, x):
        return _ZeroHessian(self.domain)


class _Tilt(ParametrisedFunctional):
    """E(x; theta) = -sum_k theta_k <a_k, x>: C = -[a_1, a_2, ...] is constant (L_C = 0)."""

    def __init__(self, space, vectors, theta):
        super().__init__(space, theta, param_names=("tilt",), grad_lipschitz=0.0)
        self._a = np.asarray(vectors, dtype=float)

    def _call(self, x):
        return -float(self.params @ (self._a @ x.data))

    @property
    def gradient(self):
        return _TiltGradient(self.domain, self.params @ self._a)

    @property
    def hessian_lipschitz(self):
        return 0.0

    @property
    def mixed_lipschitz(self):
        return 0.0

    def _with_params(self, theta):
        return _Tilt(self.domain, self._a, theta)

    def param_gradient(self, x):
        return self.param_space.element(-(self._a @ x.data))

    def mixed_derivative(self, x):
        a = self._a

        def forward(d, out):
            out.data[:] = -(d @ a)

        def backward(v, out):
            out[:] = -(a @ v.data)

        return ParamLinearOperator(self.param_space, self.domain, forward, backward)


def test_hessian_variation_term_is_needed_and_sufficient(rng):
    """Only B(x) != B(x_hat) makes h inexact here; the bound's L_B term must cover it."""
    n = 32
    X = unit_cell_space(n)
    y = X.element(np.where(np.arange(n) < n // 2, 0.0, 1.0) + 0.05 * rng.standard_normal(n))
    tilt = _Tilt(X, rng.standard_normal((2, n)), [0.1, -0.2])
    E = ParametrisedSum(
        L2DataFit(odl.IdentityOperator(X), y), _Frozen(SmoothedTV(X, 0.5, 0.1)), tilt
    )
    assert E.mixed_lipschitz == 0.0 and E.hessian_lipschitz > 0
    c = X.element(rng.standard_normal(n))  # linear loss <c, x>: gradient c, Lipschitz 0
    x_hat = fista(E, y, tol=REFERENCE_TOL, max_iter=100_000).x
    exact = implicit_hypergradient(E, x_hat, c, lower_error=0.0, loss_lipschitz=0.0,
                                   cg_tol=1e-14).gradient
    ratios = []
    for eps in (1e-1, 1e-3):
        for _ in range(5):
            d = X.element(rng.standard_normal(n))
            x = x_hat + (eps / d.norm()) * d
            res = implicit_hypergradient(E, x, c, lower_error=eps, loss_lipschitz=0.0,
                                         cg_tol=1e-14)
            err = np.linalg.norm(res.gradient - exact)
            assert err > 1e-3 * eps  # the Hessian really varies
            assert err <= res.error_bound
            ratios.append(res.error_bound / err)
    assert min(ratios) < 1e4


# ---------------------------------------------------------------------------
# product spaces: smoothed TGV on the joint variable z = (x, v)
# ---------------------------------------------------------------------------


class _JointIdentity(HessianOperator):
    def _call(self, v, out):
        out.assign(v)


class _JointGradient(odl.Operator):
    def __init__(self, space, center):
        super().__init__(space, space)
        self._center = center

    def _call(self, z, out):
        out.lincomb(1.0, z, -1.0, self._center)

    def derivative(self, z):
        return _JointIdentity(self.domain)


class _JointFit(ParametrisedFunctional):
    """1/2 |z - z0|^2 on the joint space (no parameters, mu = 1, constant Hessian)."""

    def __init__(self, space, center):
        super().__init__(space, [], param_names=(), grad_lipschitz=1.0)
        self._center = center

    def _call(self, z):
        return 0.5 * (z - self._center).norm() ** 2

    @property
    def gradient(self):
        return _JointGradient(self.domain, self._center)

    @property
    def strong_convexity(self):
        return 1.0

    @property
    def hessian_lipschitz(self):
        return 0.0

    @property
    def mixed_lipschitz(self):
        return 0.0

    def _with_params(self, theta):
        return self

    def param_gradient(self, z):
        return self.param_space.zero()

    def mixed_derivative(self, z):
        return ParamLinearOperator(
            self.param_space, self.domain, lambda d, out: out.set_zero(), lambda v, out: None
        )


def test_tgv_on_product_space_matches_finite_differences():
    X = unit_cell_space((6, 6))
    J = SmoothedTGV.joint_space(X)
    x_true = np.zeros((6, 6))
    x_true[:, 3:] = 1.0
    y = x_true + 0.05 * np.random.default_rng(3).standard_normal((6, 6))
    center = J.zero()
    center[0].data[:] = y

    def energy(theta):
        return ParametrisedSum(_JointFit(J, center), SmoothedTGV(X, *theta))

    def loss(theta):
        res = fista(energy(theta), J.zero(), tol=REFERENCE_TOL, max_iter=100_000)
        return float(np.sum((res.x[0].data - x_true) ** 2))

    theta = np.array([0.2, 0.4, 0.05])
    fd = finite_difference_gradient(loss, theta, step=1e-4)
    E = energy(theta)
    bounds = []
    for tol in (1e-3, REFERENCE_TOL):
        lower = fista(E, J.zero(), tol=tol, max_iter=100_000)
        g = J.zero()
        g[0].data[:] = 2 * (lower.x[0].data - x_true)
        res = implicit_hypergradient(
            E, lower.x, g, lower_error=lower.certificate, cg_tol=max(tol, 1e-13)
        )
        assert res.adjoint.space == J and res.cg.converged
        assert np.linalg.norm(res.gradient - fd) <= res.error_bound + 1e-6 * np.linalg.norm(fd)
        bounds.append(res.error_bound)
    np.testing.assert_allclose(res.gradient, fd, rtol=1e-6)
    assert bounds[1] < 1e-6 * bounds[0]
