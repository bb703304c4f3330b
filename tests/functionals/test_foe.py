"""Fields of experts: value, derivatives' structure, parameters and validation."""

import numpy as np
import pytest

from odl_bilevel.functionals import FieldsOfExperts, ParametrisedFunctional
from odl_bilevel.operators import dct_filters, unit_cell_space
from odl_bilevel.testing import check_gradient, check_hessian, check_param_derivative


def _naive_value(x, filters, weights, potential, nu):
    """Direct loops: periodic centred convolution, then the potential."""
    total = 0.0
    kshape = filters.shape[1:]
    centre = [n // 2 for n in kshape]
    for k, w in enumerate(weights):
        for i in np.ndindex(*x.shape):
            t = 0.0
            for j in np.ndindex(*kshape):
                idx = tuple(
                    (ii + c - jj) % n for ii, c, jj, n in zip(i, centre, j, x.shape, strict=True)
                )
                t += filters[k][j] * x[idx]
            rho = np.log1p(t**2 / nu**2) if potential == "log" else np.sqrt(t**2 + nu**2)
            total += w * rho
    return total


def _hessian_matrix(f, x):
    hess = f.gradient.derivative(x)
    n = f.domain.size
    cols = [hess(np.eye(n)[j].reshape(f.domain.shape)).asarray().ravel() for j in range(n)]
    return np.array(cols).T


@pytest.mark.parametrize("potential", ["log", "charbonnier"])
@pytest.mark.parametrize(("shape", "kshape"), [((9,), (3,)), ((5, 6), (3, 3))])
def test_value_matches_naive_formula(potential, shape, kshape, rng):
    X = unit_cell_space(shape)
    filters = rng.standard_normal((3, *kshape))
    weights = rng.uniform(0.1, 2.0, 3)
    f = FieldsOfExperts(X, filters, weights, potential=potential, nu=0.7)
    x = rng.standard_normal(shape)
    ref = _naive_value(x, filters, weights, potential, 0.7)
    assert f(X.element(x)) == pytest.approx(ref, rel=1e-12)
    # d/dw_k F is the k-th expert's energy
    pg = f.param_gradient(X.element(x)).asarray()
    e0 = _naive_value(x, filters[:1], [1.0], potential, 0.7)
    assert pg[-3] == pytest.approx(e0, rel=1e-12)


def test_params_layout_and_with_params(rng):
    X = unit_cell_space((6, 6))
    filters = dct_filters((3, 3))[:4]
    weights = np.array([0.1, 0.2, 0.3, 0.4])
    f = FieldsOfExperts(X, filters, weights, potential="charbonnier", nu=0.5)
    assert isinstance(f, ParametrisedFunctional)
    assert f.param_names == ("filters", "weights")
    np.testing.assert_array_equal(f.params, np.concatenate([filters.ravel(), weights]))
    assert f.param_space.size == 40
    theta = f.params.copy()
    theta[-1] = 1.5
    g = f.with_params(theta)
    assert isinstance(g, FieldsOfExperts)
    assert g.weights[-1] == 1.5 and g.potential == "charbonnier" and g.nu == 0.5
    np.testing.assert_array_equal(g.filters, filters)
    with pytest.raises(ValueError, match="weights"):
        f.with_params(-np.abs(theta))


@pytest.mark.parametrize("potential", ["log", "charbonnier"])
def test_constant_image_is_stationary(potential):
    X = unit_cell_space((7, 7))
    f = FieldsOfExperts(X, dct_filters((3, 3)), np.ones(8), potential=potential)
    assert f.gradient(X.element(np.full((7, 7), 3.0))).norm() < 1e-12


def test_hessian_symmetric_and_indefinite_for_log(rng):
    X = unit_cell_space(10)
    filters = dct_filters(3)
    x = X.element(5.0 * rng.standard_normal(10))  # responses beyond nu: negative curvature
    log = FieldsOfExperts(X, filters, [1.0, 1.0], potential="log", nu=1.0)
    h = _hessian_matrix(log, x)
    np.testing.assert_allclose(h, h.T, atol=1e-12)
    assert np.linalg.eigvalsh(h).min() < -1e-3
    assert log.strong_convexity == 0.0
    charb = FieldsOfExperts(X, filters, [1.0, 1.0], potential="charbonnier", nu=1.0)
    assert np.linalg.eigvalsh(_hessian_matrix(charb, x)).min() > -1e-12


@pytest.mark.parametrize("potential", ["log", "charbonnier"])
def test_grad_lipschitz_bounds_hessian(potential, rng):
    X = unit_cell_space((5, 5))
    f = FieldsOfExperts(
        X, rng.standard_normal((3, 3, 3)), rng.uniform(0.5, 1.5, 3), potential=potential, nu=0.8
    )
    for scale in (0.0, 0.3, 3.0):
        x = X.element(scale * rng.standard_normal((5, 5)))
        assert np.abs(np.linalg.eigvalsh(_hessian_matrix(f, x))).max() <= f.grad_lipschitz
    # at x = 0 with a single 1x1 kernel the bound is attained (rho'' peaks at t = 0)
    g = FieldsOfExperts(X, np.ones((1, 1, 1)), [2.0], potential=potential, nu=0.8)
    top = np.linalg.eigvalsh(_hessian_matrix(g, X.zero())).max()
    assert top == pytest.approx(g.grad_lipschitz)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("boundary", ["periodic", "zero"])
def test_derivative_checks_with_dct_filters(dtype, boundary, rng):
    X = unit_cell_space((12, 10), dtype)
    f = FieldsOfExperts(
        X, dct_filters((3, 3)), rng.uniform(0.5, 1.0, 8), nu=1.0, boundary=boundary
    )
    check_gradient(f, rng=rng)
    check_hessian(f, rng=rng)
    check_param_derivative(f, rng=rng)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"nu": 0.0}, ValueError, "nu"),
        ({"nu": -1.0}, ValueError, "nu"),
        ({"nu": np.nan}, ValueError, "nu"),
        ({"weights": [1.0, -0.1]}, ValueError, "weights"),
        ({"weights": [1.0, np.nan]}, ValueError, "weights"),
        ({"weights": [1.0, 2.0, 3.0]}, ValueError, "weights"),
        ({"weights": [1.0, 1j]}, TypeError, "weights"),
        ({"filters": np.ones((2, 3, 3))}, ValueError, "filters"),
        ({"filters": np.ones((2, 2))}, ValueError, "filters"),
        ({"filters": np.array([[np.nan, 1.0, 1.0], [1.0, 1.0, 1.0]])}, ValueError, "filters"),
        ({"potential": "huber"}, ValueError, "potential"),
        ({"boundary": "reflect"}, ValueError, "boundary"),
    ],
)
def test_validation_names_argument(kwargs, exc, match):
    X = unit_cell_space(8)
    args = {"filters": dct_filters(3), "weights": [1.0, 1.0]} | kwargs
    filters, weights = args.pop("filters"), args.pop("weights")
    with pytest.raises(exc, match=match):
        FieldsOfExperts(X, filters, weights, **args)
