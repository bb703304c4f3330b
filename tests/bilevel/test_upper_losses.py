"""Upper losses: squared error, component losses, callables, and the value error bound."""

import numpy as np
import odl
import pytest

from odl_bilevel.bilevel import SquaredError, UpperLoss
from odl_bilevel.functionals import SmoothedTGV
from odl_bilevel.operators import unit_cell_space


def test_squared_error_value_gradient_residual(rng):
    X = unit_cell_space((4, 3))
    x, t = X.element(rng.standard_normal((4, 3))), X.element(rng.standard_normal((4, 3)))
    loss = SquaredError()
    d = x.data - t.data
    assert loss(x, t) == pytest.approx(float(np.sum(d * d)), rel=1e-14)
    np.testing.assert_allclose(loss.gradient(x, t).data, 2 * d)
    np.testing.assert_allclose(loss.residual(x, t), d.ravel())
    assert loss.lipschitz == 2.0 and loss.residual_lipschitz == 1.0
    assert loss.target_space(X) is X


def test_error_bound_holds_and_is_tight_for_squared_error(rng):
    X = unit_cell_space(20)
    loss = SquaredError()
    x_hat, t = X.element(rng.standard_normal(20)), X.element(rng.standard_normal(20))
    for _ in range(20):
        e = rng.standard_normal(20)
        e *= 0.1 / np.linalg.norm(e)
        x = x_hat + X.element(e)
        bound = loss.error_bound(x, t, 0.1)
        assert abs(loss(x, t) - loss(x_hat, t)) <= bound * (1 + 1e-12)
    # worst case: x_hat - x along grad l(x) = 2 (x - t), i.e. x = x_hat - eps u, u || x_hat - t
    u = (x_hat.data - t.data) / np.linalg.norm(x_hat.data - t.data)
    x = x_hat - X.element(0.1 * u)
    assert abs(loss(x, t) - loss(x_hat, t)) == pytest.approx(loss.error_bound(x, t, 0.1), rel=1e-9)
    assert loss.error_bound(x, t, np.inf) == np.inf


def test_component_loss_on_tgv_joint_variable(rng):
    X = unit_cell_space((5, 4))
    Z = SmoothedTGV.joint_space(X)
    z = Z.element([rng.standard_normal((5, 4)) for _ in range(3)])
    t = X.element(rng.standard_normal((5, 4)))
    loss = SquaredError(component=0)
    assert loss.target_space(Z) == X
    assert loss(z, t) == pytest.approx(float(np.sum((z[0].data - t.data) ** 2)), rel=1e-14)
    g = loss.gradient(z, t)
    assert g.space == Z
    np.testing.assert_allclose(g[0].data, 2 * (z[0].data - t.data))
    assert not np.any(g[1].data) and not np.any(g[2].data)
    np.testing.assert_allclose(loss.residual(z, t), (z[0].data - t.data).ravel())
    with pytest.raises(ValueError, match="`component`"):
        SquaredError(component=3).target_space(Z)
    with pytest.raises(ValueError, match="`component`"):
        loss.target_space(X)


def _half_value(x, t):
    return 0.5 * float((x - t).inner(x - t))


def _half_gradient(x, t):
    return x - t


def test_callable_loss_and_component(rng):
    X = unit_cell_space(6)
    Z = odl.ProductSpace(X, 2)
    z, t = Z.element([rng.standard_normal(6), rng.standard_normal(6)]), X.zero()
    loss = UpperLoss(_half_value, _half_gradient, 1.0, component=1)
    assert loss(z, t) == pytest.approx(0.5 * float(np.sum(z[1].data ** 2)))
    g = loss.gradient(z, t)
    np.testing.assert_allclose(g[1].data, z[1].data)
    assert not np.any(g[0].data)
    with pytest.raises(NotImplementedError):
        loss.residual(z, t)


def test_loss_validation():
    with pytest.raises(TypeError, match="`value`"):
        UpperLoss(1, _half_gradient, 1.0)
    with pytest.raises(TypeError, match="`gradient`"):
        UpperLoss(_half_value, None, 1.0)
    with pytest.raises(ValueError, match="`lipschitz`"):
        UpperLoss(_half_value, _half_gradient, -1.0)
    with pytest.raises(ValueError, match="`component`"):
        SquaredError(component=-1)
    with pytest.raises(TypeError, match="`component`"):
        SquaredError(component=0.5)
    X = unit_cell_space(3)
    bad = UpperLoss(_half_value, lambda x, t: 1.0, 1.0)
    with pytest.raises(ValueError, match="`gradient`"):
        bad.gradient(X.one(), X.zero())
