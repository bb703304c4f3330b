"""Penalties J(theta): values and gradients by central finite differences."""

import numpy as np
import pytest

from odl_bilevel.bilevel import ConditionPenalty, L1Penalty, Penalty


def _fd_gradient(fun, theta, step=1e-6):
    g = np.zeros_like(theta)
    for k in range(theta.size):
        e = np.zeros_like(theta)
        e[k] = step
        g[k] = (fun(theta + e) - fun(theta - e)) / (2 * step)
    return g


def _denoising_condition(beta):
    """The talk's 1-D constants: L = 1 + alpha (4/nu + xi), mu = 1 + alpha xi."""
    return ConditionPenalty(
        beta,
        lambda t: 1 + t[0] * (4 / t[1] + t[2]),
        lambda t: 1 + t[0] * t[2],
        lipschitz_gradient=lambda t: np.array([4 / t[1] + t[2], -4 * t[0] / t[1] ** 2, t[0]]),
        strong_convexity_gradient=lambda t: np.array([t[2], 0.0, t[0]]),
    )


def test_condition_penalty_value_and_gradient(rng):
    J = _denoising_condition(0.01)
    for _ in range(3):
        theta = rng.uniform(0.1, 2.0, 3)
        L = 1 + theta[0] * (4 / theta[1] + theta[2])
        mu = 1 + theta[0] * theta[2]
        assert J(theta) == pytest.approx(0.01 * (L / mu) ** 2, rel=1e-14)
        assert J.condition_number(theta) == pytest.approx(L / mu, rel=1e-14)
        np.testing.assert_allclose(J.gradient(theta), _fd_gradient(J, theta), rtol=1e-6)


def test_condition_penalty_rejects_nonpositive_mu():
    J = ConditionPenalty(1.0, lambda t: 1.0, lambda t: t[0],
                         lipschitz_gradient=lambda t: np.zeros(1),
                         strong_convexity_gradient=lambda t: np.ones(1))
    with pytest.raises(ValueError, match="strong_convexity"):
        J([0.0])
    with pytest.raises(ValueError, match="`beta`"):
        ConditionPenalty(-1.0, abs, abs, lipschitz_gradient=abs, strong_convexity_gradient=abs)
    with pytest.raises(TypeError, match="`lipschitz_gradient`"):
        ConditionPenalty(1.0, abs, abs, lipschitz_gradient=3, strong_convexity_gradient=abs)


def test_l1_penalty_inside_box(rng):
    J = L1Penalty(0.3, 0.7)
    s = rng.uniform(0.01, 0.99, 6)
    assert J(s) == pytest.approx(float(np.sum(0.3 * s + 0.7 * s * (1 - s))), rel=1e-14)
    np.testing.assert_allclose(J.gradient(s), 0.3 + 0.7 * (1 - 2 * s), rtol=1e-14)
    np.testing.assert_allclose(J.gradient(s), _fd_gradient(J, s), rtol=1e-7)


def test_l1_penalty_outside_box_and_boundary(rng):
    J = L1Penalty(0.3, 0.7)
    s = np.concatenate([rng.uniform(-2, -0.1, 3), rng.uniform(1.1, 3, 3)])
    np.testing.assert_allclose(J.gradient(s), _fd_gradient(J, s), rtol=1e-7)
    # one-sided derivative from inside the box at the corners
    np.testing.assert_allclose(J.gradient([0.0, 1.0]), [0.3 + 0.7, 0.3 - 0.7])


def test_l1_penalty_indices(rng):
    J = L1Penalty(1.0, 0.5, indices=[1, 2])
    theta = np.array([5.0, 0.2, 0.6])
    assert J(theta) == pytest.approx(0.2 + 0.6 + 0.5 * (0.16 + 0.24))
    g = J.gradient(theta)
    assert g[0] == 0.0
    np.testing.assert_allclose(g, _fd_gradient(J, theta), rtol=1e-7)


def test_penalty_sum(rng):
    J = L1Penalty(1.0) + _denoising_condition(0.1)
    theta = rng.uniform(0.2, 0.9, 3)
    assert isinstance(J, Penalty)
    assert J(theta) == pytest.approx(L1Penalty(1.0)(theta) + _denoising_condition(0.1)(theta))
    np.testing.assert_allclose(J.gradient(theta), _fd_gradient(J, theta), rtol=1e-6)


def test_penalty_rejects_nan_theta():
    with pytest.raises(ValueError, match="`theta`"):
        L1Penalty(1.0)([np.nan])
