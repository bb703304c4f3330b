"""Smoothed TV, TV², TGV and the H¹ seminorm: identities, limits, convexity, validation."""

import numpy as np
import odl
import pytest

from odl_bilevel.functionals import H1Seminorm, SmoothedTGV, SmoothedTV, SmoothedTV2
from odl_bilevel.operators import NeumannGradient, unit_cell_space
from odl_bilevel.testing import check_gradient, check_hessian, random_element

BUILDERS = {
    "tv": lambda X: SmoothedTV(X, alpha=1.3, nu=0.1),
    "h1": lambda X: H1Seminorm(X, weight=0.7),
    "tv2": lambda X: SmoothedTV2(X, alpha=0.8, nu=0.2),
    "tgv": lambda X: SmoothedTGV(X, alpha=1.0, beta=0.5, nu=0.1),
}


def _numpy_tv(x, alpha, nu):
    """Hand-written numpy smoothed TV value, gradient and Hessian product (2-D)."""
    gx = np.zeros_like(x)
    gy = np.zeros_like(x)
    gx[:-1] = x[1:] - x[:-1]
    gy[:, :-1] = x[:, 1:] - x[:, :-1]
    w = 1.0 / np.sqrt(gx**2 + gy**2 + nu**2)

    def div_t(px, py):  # grad^T
        out = np.zeros_like(px)
        out[:-1] -= px[:-1]
        out[1:] += px[:-1]
        out[:, :-1] -= py[:, :-1]
        out[:, 1:] += py[:, :-1]
        return out

    def hess(v):
        vx = np.zeros_like(v)
        vy = np.zeros_like(v)
        vx[:-1] = v[1:] - v[:-1]
        vy[:, :-1] = v[:, 1:] - v[:, :-1]
        t = w**3 * (gx * vx + gy * vy)
        return alpha * div_t(w * vx - t * gx, w * vy - t * gy)

    value = alpha * np.sum(1.0 / w)
    return value, alpha * div_t(w * gx, w * gy), hess


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_smoothed_tv_matches_numpy(dtype, rng):
    X = unit_cell_space((13, 17), dtype)
    f = SmoothedTV(X, alpha=1.7, nu=0.2)
    x = random_element(X, rng)
    v = random_element(X, rng)
    value, grad, hess = _numpy_tv(x.data.astype(float), 1.7, 0.2)
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert abs(f(x) - value) <= tol * value
    np.testing.assert_allclose(f.gradient(x).data, grad, rtol=0, atol=tol * np.abs(grad).max())
    hv = hess(v.data.astype(float))
    np.testing.assert_allclose(
        f.gradient.derivative(x)(v).data, hv, rtol=0, atol=tol * np.abs(hv).max()
    )
    assert f.gradient(x).data.dtype == np.dtype(dtype)


@pytest.mark.parametrize("shape", [(10,), (5, 6), (3, 4, 2)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_tv_of_constant_is_alpha_n_nu(shape, dtype):
    X = unit_cell_space(shape, dtype)
    f = SmoothedTV(X, alpha=2.5, nu=0.3)
    n = int(np.prod(shape))
    assert f(3.0 * X.one()) == pytest.approx(2.5 * n * 0.3, rel=1e-6)
    assert f.gradient(X.one()).norm() == 0
    assert SmoothedTV2(X, alpha=2.5, nu=0.3)(X.one()) == pytest.approx(2.5 * n * 0.3, rel=1e-6)


def test_smoothed_tv_tends_to_tv_on_step():
    X = unit_cell_space((12, 10))
    arr = np.zeros((12, 10))
    arr[5:, :] = 2.0  # a horizontal edge of height 2 across 10 columns
    x = X.element(arr)
    alpha, n = 0.7, arr.size
    tv = alpha * 2.0 * 10
    gaps = []
    for nu in [1e-1, 1e-2, 1e-3, 1e-4]:
        gap = SmoothedTV(X, alpha=alpha, nu=nu)(x) - tv
        assert 0 <= gap <= alpha * n * nu * (1 + 1e-12)
        gaps.append(gap)
    assert gaps[-1] < 1e-3 * gaps[0]
    # and it agrees with ODL's isotropic TV (Neumann gradient + L1 of pointwise norms)
    odl_tv = odl.functionals.GroupL1Norm(NeumannGradient(X).range) @ NeumannGradient(X)
    assert float(odl_tv(x)) * alpha == pytest.approx(tv)


@pytest.mark.parametrize("name", list(BUILDERS))
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_hessian_is_positive_semidefinite(name, dtype, rng):
    f = BUILDERS[name](unit_cell_space((9, 8), dtype))
    z = 2.0 * random_element(f.domain, rng)
    hess = f.gradient.derivative(z)
    assert hess.adjoint is hess
    for _ in range(5):
        v = random_element(f.domain, rng)
        hv = hess(v)
        quad = hv.inner(v)
        assert quad >= -1e-6 * float(hv.norm()) * float(v.norm())


@pytest.mark.parametrize("name", list(BUILDERS))
def test_grad_lipschitz_bounds_hessian(name, rng):
    f = BUILDERS[name](unit_cell_space((12, 9)))
    hess = f.gradient.derivative(0.3 * random_element(f.domain, rng))
    v = random_element(f.domain, rng)
    for _ in range(100):
        v = hess(v)
        v /= float(v.norm())
    assert float(hess(v).norm()) <= f.grad_lipschitz
    assert f.strong_convexity == 0.0


@pytest.mark.parametrize("name", list(BUILDERS))
def test_hessian_owns_its_data_and_buffers_are_safe(name, rng):
    f = BUILDERS[name](unit_cell_space((7, 6)))
    z1, z2 = random_element(f.domain, rng), random_element(f.domain, rng)
    v1, v2 = random_element(f.domain, rng), random_element(f.domain, rng)
    hess = f.gradient.derivative(z1)
    ref = hess(v1)
    f.gradient(z2)
    f(z2)
    f.gradient.derivative(z2)(v2)
    hess(v2)
    assert (hess(v1) - ref).norm() == 0
    # in place with out aliasing the input
    g = f.gradient(z1)
    f.gradient(z1, out=z1)
    assert (z1 - g).norm() == 0


@pytest.mark.parametrize("name", ["tv", "tgv", "tv2"])
def test_three_dimensional(name, rng):
    f = BUILDERS[name](unit_cell_space((4, 5, 3)))
    x = 0.5 * random_element(f.domain, rng)
    check_gradient(f, x, rng=rng)
    check_hessian(f, x, rng=rng)


def test_tgv_layout_split_join_and_limits(rng):
    X = unit_cell_space((8, 7))
    f = SmoothedTGV(X, alpha=0.9, beta=1.7, nu=0.15)
    assert f.domain == SmoothedTGV.joint_space(X) == odl.ProductSpace(X, 3)
    assert f.image_space == X
    x = random_element(X, rng)
    grad_x = NeumannGradient(X)(x)
    z = f.join(x, grad_x)
    x2, v2 = f.split(z)
    assert (x2 - x).norm() == 0 and (v2 - grad_x).norm() == 0
    n = x.size
    # v = grad x: the first term is alpha n nu, the second smoothed TV² with weight beta
    expected = 0.9 * n * 0.15 + SmoothedTV2(X, alpha=1.7, nu=0.15)(x)
    assert f(z) == pytest.approx(expected, rel=1e-12)
    # v = 0: smoothed TV with weight alpha plus beta n nu
    z0 = f.join(x, [X.zero(), X.zero()])
    assert f(z0) == pytest.approx(SmoothedTV(X, alpha=0.9, nu=0.15)(x) + 1.7 * n * 0.15)
    # the joint space itself is accepted as `space`
    assert SmoothedTGV(f.domain).domain == f.domain
    with pytest.raises(ValueError, match="`v`"):
        f.join(x, [X.zero()])


def test_with_params_round_trip():
    X = unit_cell_space((5, 5))
    for f in [SmoothedTV(X, 1.0, 0.1), H1Seminorm(X, 2.0), SmoothedTV2(X, 0.5, 0.3),
              SmoothedTGV(X, 1.0, 2.0, 0.1)]:
        g = f.with_params(2 * f.params)
        assert type(g) is type(f)
        np.testing.assert_array_equal(g.params, 2 * f.params)
        assert g.param_names == f.param_names
    assert SmoothedTGV(X).param_names == ("alpha", "beta", "nu")
    assert SmoothedTV(X).param_names == ("alpha", "nu")


@pytest.mark.parametrize(
    ("cls", "kwargs", "arg"),
    [
        (SmoothedTV, {"alpha": -1.0}, "alpha"),
        (SmoothedTV, {"nu": 0.0}, "nu"),
        (SmoothedTV, {"nu": -0.1}, "nu"),
        (SmoothedTV2, {"alpha": -0.5}, "alpha"),
        (SmoothedTV2, {"nu": 0.0}, "nu"),
        (SmoothedTGV, {"alpha": -1.0}, "alpha"),
        (SmoothedTGV, {"beta": -1.0}, "beta"),
        (SmoothedTGV, {"nu": 0.0}, "nu"),
        (H1Seminorm, {"weight": -1.0}, "weight"),
        (SmoothedTV, {"nu": float("nan")}, "nu"),
    ],
)
def test_validation_names_argument(cls, kwargs, arg):
    with pytest.raises(ValueError, match=f"`{arg}`"):
        cls(unit_cell_space((4, 4)), **kwargs)


@pytest.mark.parametrize("cls", [SmoothedTV, SmoothedTV2, SmoothedTGV, H1Seminorm])
def test_wrong_space(cls):
    with pytest.raises(ValueError, match="`space`"):
        cls(odl.uniform_discr([0, 0], [1, 1], (4, 4)))  # not unit cells
    with pytest.raises(ValueError, match="`space`"):
        cls(odl.cn(4))
    with pytest.raises((TypeError, ValueError), match="`space`"):
        cls(odl.ProductSpace(unit_cell_space(4), 3))
    with pytest.raises(TypeError, match="`alpha`|`weight`"):
        cls(unit_cell_space(4), "1.0")
    with pytest.raises(ValueError, match="`theta`"):
        cls(unit_cell_space(4)).with_params([1.0] * 7)


@pytest.mark.parametrize(
    "f_of",
    [
        lambda X: SmoothedTV(X, alpha=0.0, nu=0.1),
        lambda X: SmoothedTV2(X, alpha=0.0, nu=0.1),
        lambda X: SmoothedTGV(X, alpha=0.0, beta=1.0, nu=0.1),
        lambda X: SmoothedTGV(X, alpha=1.0, beta=0.0, nu=0.1),
        lambda X: H1Seminorm(X, weight=0.0),
    ],
)
def test_zero_weight_is_allowed(f_of, rng):
    f = f_of(unit_cell_space((6, 5)))
    x = random_element(f.domain, rng)
    check_gradient(f, x, rng=rng)
    check_hessian(f, x, rng=rng)
    # a zero weight removes its term from the Lipschitz bound
    assert np.isfinite(f.grad_lipschitz)
