"""The bounded trust-region subproblem and the geometry helpers of the DFO engine."""

import numpy as np
import pytest
from scipy.optimize import minimize

from odl_bilevel.upper._dfo_model import InterpolationSet, geometry_step
from odl_bilevel.upper._trust_region import clip_to_radius, model_decrease, trust_region_step


def _random_instance(rng):
    q, m = int(rng.integers(1, 6)), int(rng.integers(1, 8))
    J = rng.standard_normal((m, q)) * 10.0 ** rng.uniform(-1.5, 1.5, size=q)
    R = rng.standard_normal(m)
    delta = 10.0 ** rng.uniform(-1.5, 0.5)
    lower = np.where(rng.random(q) < 0.6, -rng.uniform(0.0, 1.0, q), -np.inf)
    upper = np.where(rng.random(q) < 0.6, rng.uniform(0.0, 1.0, q), np.inf)
    return 2.0 * J.T @ R, 2.0 * J.T @ J, delta, lower, upper


def _reference_decrease(g, H, delta, lower, upper, rng):
    """Best decrease found by SLSQP from a few starts."""
    bounds = [(None if np.isinf(lo) else lo, None if np.isinf(hi) else hi)
              for lo, hi in zip(lower, upper, strict=True)]
    best = 0.0
    for _ in range(4):
        x0 = np.clip(rng.standard_normal(g.size) * delta / 3, lower, upper)
        res = minimize(lambda s: g @ s + 0.5 * s @ H @ s, x0, jac=lambda s: g + H @ s,
                       method="SLSQP", bounds=bounds,
                       constraints=[{"type": "ineq", "fun": lambda s: delta**2 - s @ s,
                                     "jac": lambda s: -2.0 * s}],
                       options={"ftol": 1e-14, "maxiter": 500})
        s = res.x
        if np.linalg.norm(s) <= delta * (1 + 1e-7) and np.all(s >= lower - 1e-9) and np.all(
            s <= upper + 1e-9
        ):
            best = max(best, model_decrease(g, H, s))
    return best


def test_step_is_feasible_and_nearly_optimal(rng):
    ratios = []
    for _ in range(40):
        g, H, delta, lower, upper = _random_instance(rng)
        s, decrease = trust_region_step(g, H, delta, lower, upper)
        assert np.linalg.norm(s) <= delta * (1 + 1e-12)
        assert np.all(s >= lower) and np.all(s <= upper)
        assert decrease == pytest.approx(model_decrease(g, H, s))
        # at least the decrease of the projected steepest-descent (Cauchy) arc's first point
        cauchy = clip_to_radius(-g, delta, lower, upper, t_max=np.inf)
        assert decrease >= min(model_decrease(g, H, t * cauchy) for t in (0.0, 1e-3, 1e-2, 0.1))
        reference = _reference_decrease(g, H, delta, lower, upper, rng)
        if reference > 0:
            ratios.append(decrease / reference)
    assert min(ratios) > 0.95


def test_interior_newton_step():
    H = np.array([[4.0, 1.0], [1.0, 3.0]])
    g = np.array([1.0, -2.0])
    s, decrease = trust_region_step(g, H, 10.0, np.full(2, -np.inf), np.full(2, np.inf))
    np.testing.assert_allclose(s, -np.linalg.solve(H, g), atol=1e-12)
    assert decrease == pytest.approx(0.5 * g @ np.linalg.solve(H, g))


def test_clip_to_radius_is_the_projection_onto_ball_and_box(rng):
    for _ in range(30):
        q = int(rng.integers(1, 6))
        lower = -rng.uniform(0.0, 1.0, q)
        upper = np.where(rng.random(q) < 0.5, rng.uniform(0.0, 1.0, q), np.inf)
        z = 2.0 * rng.standard_normal(q)
        delta = float(rng.uniform(0.1, 1.5))
        p = clip_to_radius(z, delta, lower, upper)
        assert np.linalg.norm(p) <= delta * (1 + 1e-12)
        assert np.all(p >= lower) and np.all(p <= upper)
        # no feasible sample point is closer to z than the projection
        for _ in range(200):
            c = np.clip(rng.uniform(-1.5, 1.5, q), lower, upper)
            c *= min(1.0, delta / max(np.linalg.norm(c), 1e-300))  # still in the box
            assert np.linalg.norm(z - p) <= np.linalg.norm(z - c) + 1e-12


def test_geometry_step_maximises_the_lagrange_polynomial(rng):
    a = np.array([1.0, -2.0, 0.5])
    lower, upper = np.array([-0.1, -1.0, -1.0]), np.array([1.0, 0.05, 1.0])
    d = geometry_step(a, 1.0, lower, upper, clip_to_radius)
    assert np.linalg.norm(d) <= 1.0 + 1e-12 and np.all(d >= lower) and np.all(d <= upper)
    for _ in range(500):
        c = np.clip(rng.uniform(-1, 1, 3), lower, upper)
        c *= min(1.0, 1.0 / np.linalg.norm(c))
        assert abs(a @ c) <= abs(a @ d) + 1e-12


def test_interpolation_model_is_exact_for_linear_residuals(rng):
    q, m = 3, 5
    points = rng.standard_normal((q + 1, q))
    J, c = rng.standard_normal((m, q)), rng.standard_normal(m)
    residuals = points @ J.T + c
    zeros = np.zeros(q + 1)
    Y = InterpolationSet(points, residuals, np.sum(residuals**2, axis=1), zeros, zeros, zeros,
                         zeros, 2)
    g, H = Y.model()
    np.testing.assert_allclose(g, 2 * J.T @ residuals[2], rtol=1e-10)
    np.testing.assert_allclose(H, 2 * J.T @ J, rtol=1e-10)
    for t in range(q + 1):  # Lagrange polynomials: l_t(y_j) = delta_tj
        np.testing.assert_allclose(Y.lagrange_values(points[t]), np.eye(q + 1)[t], atol=1e-10)
    state = Y.state()
    again = InterpolationSet.from_state(state)
    np.testing.assert_array_equal(again.points, Y.points)
    assert again.kopt == 2
