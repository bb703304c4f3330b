"""The Lipschitz constants ``hessian_lipschitz`` (L_B) and ``mixed_lipschitz`` (L_C) are bounds.

Random pairs rarely come near a worst case, so besides random pairs
(x, z, v): |H(x)v - H(z)v| <= L_B |x - z| |v| and
|(C(x) - C(z))d| <= L_C |x - z| |d|, the tests search for bad directions: a
power method on the symmetric third derivative T(d, d, d) = D^3 E(x)[d, d, d]
(whose supremum over unit d is the local Lipschitz constant of the Hessian,
Banach 1938), localised patterns, and the worst frequency of the sampled data
fit. They assert the bound holds and that the search gets within a modest
factor of it (so that the constant is not vacuous either).
"""

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
    SmoothedTGV,
    SmoothedTV,
    SmoothedTV2,
    Tikhonov,
)
from odl_bilevel.operators import CartesianSampling, dct_filters, unit_cell_space

C3 = 48.0 / (25.0 * math.sqrt(5.0))


def _random(space, rng, scale=1.0):
    if isinstance(space, odl.ProductSpace):
        return space.element([scale * rng.standard_normal(space[0].shape) for _ in space])
    return space.element(scale * rng.standard_normal(space.shape))


def _hessian_ratio(f, x, z, v):
    diff = f.gradient.derivative(x)(v) - f.gradient.derivative(z)(v)
    return diff.norm() / ((x - z).norm() * v.norm())


def _mixed_ratio(f, x, z, delta):
    d = f.param_space.element(delta)
    diff = f.mixed_derivative(x)(d) - f.mixed_derivative(z)(d)
    return diff.norm() / ((x - z).norm() * float(np.linalg.norm(delta)))


def _third(f, x, d, h=1e-5):
    """D^3 f(x)[d, d, .] by central differences of Hessian-vector products."""
    return (f.gradient.derivative(x + h * d)(d) - f.gradient.derivative(x - h * d)(d)) * (
        0.5 / h
    )


def _power_third(f, x, rng, iters=40):
    """Largest |T(d, d, d)| found by the power method d <- T(d, d, .)/|.|; and the maximiser."""
    d = _random(f.domain, rng)
    d *= 1.0 / d.norm()
    best, best_d = 0.0, d
    for _ in range(iters):
        t = _third(f, x, d)
        val = t.inner(d)
        if abs(val) > best:
            best, best_d = abs(val), d.copy()
        d = t * (1.0 / t.norm()) if val >= 0 else t * (-1.0 / t.norm())
    return best, best_d


def _param_hessian_norm(f, x, delta, rng, iters=40, h=1e-6):
    """|d/dt H(x; theta + t delta)| (the x-derivative of C(x) delta) by power iteration."""
    theta = f.params
    fp, fm = f.with_params(theta + h * delta), f.with_params(theta - h * delta)
    hp, hm = fp.gradient.derivative(x), fm.gradient.derivative(x)
    d = _random(f.domain, rng)
    lam = 0.0
    for _ in range(iters):
        d *= 1.0 / d.norm()
        t = (hp(d) - hm(d)) * (0.5 / h)
        lam = t.norm()
        d = t
    return lam / float(np.linalg.norm(delta))


# ---------------------------------------------------------------------------
# the pointwise constant c3 of the smoothed norm
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_pointwise_third_derivative_bound_is_sharp(dim, rng):
    """|D(nabla^2 phi)(g)[h]| <= c3/nu^2 |h|, attained in the limit (1-D, g = nu/2)."""
    nu = 0.3
    best = 0.0
    for _ in range(3000):
        g = rng.standard_normal(dim) * nu * rng.choice([0.1, 0.5, 1.0, 3.0])
        h = rng.standard_normal(dim)
        h /= np.linalg.norm(h)
        w = 1.0 / math.sqrt(g @ g + nu * nu)
        e = w * g
        t = e @ h
        m = w * w * (3 * t * np.outer(e, e) - t * np.eye(dim) - np.outer(h, e) - np.outer(e, h))
        best = max(best, float(np.abs(np.linalg.eigvalsh(m)).max()))
    assert best <= C3 / nu**2 * (1 + 1e-12)
    # the maximiser g = nu/2 along h
    g = np.zeros(dim)
    g[0] = nu / 2
    w = 1.0 / math.sqrt(g @ g + nu * nu)
    e, h = w * g, np.eye(dim)[0]
    m = w * w * (3 * e[0] * np.outer(e, e) - e[0] * np.eye(dim) - np.outer(h, e) - np.outer(e, h))
    assert float(np.abs(np.linalg.eigvalsh(m)).max()) == pytest.approx(C3 / nu**2, rel=1e-12)
    assert best >= 0.9 * C3 / nu**2


# ---------------------------------------------------------------------------
# smoothed TV family: L_B by power method on the third derivative and pairs
# ---------------------------------------------------------------------------

SMOOTH_CASES = [
    ("tv-1d", lambda: SmoothedTV(unit_cell_space(32), alpha=0.5, nu=0.1), (0.02, 0.05), 0.3),
    ("tv-2d", lambda: SmoothedTV(unit_cell_space((8, 8)), alpha=0.5, nu=0.1), (0.02, 0.05), 0.2),
    ("tv2-2d", lambda: SmoothedTV2(unit_cell_space((8, 8)), alpha=0.5, nu=0.1), (0.005, 0.01),
     0.05),
    ("tgv-2d", lambda: SmoothedTGV(unit_cell_space((8, 8)), alpha=0.5, beta=1.0, nu=0.1),
     (0.01, 0.03), 0.05),
]


@pytest.mark.parametrize(("name", "make", "scales", "fraction"), SMOOTH_CASES,
                         ids=[c[0] for c in SMOOTH_CASES])
def test_hessian_lipschitz_smoothed_norms(name, make, scales, fraction, rng):
    f = make()
    lb = f.hessian_lipschitz
    assert math.isfinite(lb) and lb > 0
    best = 0.0
    for scale in scales:
        x = _random(f.domain, rng, scale)
        val, d = _power_third(f, x, rng)
        best = max(best, val)
        # realised pairs along the worst direction found and along random ones
        for s in (1e-3, 1e-1, 1.0):
            z = x + s * d
            assert _hessian_ratio(f, x, z, d) <= lb
            v = _random(f.domain, rng)
            assert _hessian_ratio(f, x, x + s * _random(f.domain, rng), v) <= lb
    assert best <= lb * (1 + 1e-6)
    assert best >= fraction * lb, f"{name}: search reached only {best / lb:.3f} of L_B"


def test_hessian_lipschitz_tv_localised_pattern():
    """1-D TV on a ramp of slope nu/2 (worst pointwise g) with spike directions."""
    n, nu = 32, 0.1
    f = SmoothedTV(unit_cell_space(n), alpha=0.5, nu=nu)
    X = f.domain
    x = X.element(np.arange(n) * nu / 2)
    eye = np.eye(n)
    j = n // 2
    patterns = [eye[j], (eye[j] - eye[j + 1]) / math.sqrt(2),
                (2 * eye[j] - eye[j - 1] - eye[j + 1]) / math.sqrt(6)]
    ratios = [
        _hessian_ratio(f, x, x + 1e-5 * X.element(d), X.element(v))
        for d in patterns
        for v in patterns
    ]
    assert max(ratios) <= f.hessian_lipschitz
    assert max(ratios) >= 0.3 * f.hessian_lipschitz


@pytest.mark.parametrize(("name", "make", "scales", "fraction"), SMOOTH_CASES,
                         ids=[c[0] for c in SMOOTH_CASES])
def test_mixed_lipschitz_smoothed_norms(name, make, scales, fraction, rng):
    f = make()
    lc = f.mixed_lipschitz
    p = f.params.size
    best = 0.0
    for scale in (0.0, *scales):
        x = _random(f.domain, rng, scale)
        for delta in [*np.eye(p), rng.standard_normal(p)]:
            best = max(best, _param_hessian_norm(f, x, delta, rng))
        for s in (1e-3, 1e-1, 1.0):
            z = x + s * _random(f.domain, rng)
            assert _mixed_ratio(f, x, z, rng.standard_normal(p)) <= lc
    assert best <= lc * (1 + 1e-6)
    assert best >= 0.3 * lc, f"{name}: search reached only {best / lc:.3f} of L_C"


# ---------------------------------------------------------------------------
# quadratic functionals and data fits
# ---------------------------------------------------------------------------


def test_quadratic_regularisers(rng):
    X = unit_cell_space((6, 7))
    for f, lc in [(Tikhonov(X, xi=0.7), 1.0), (H1Seminorm(X, weight=0.7), 8.0)]:
        assert f.hessian_lipschitz == 0.0
        assert f.mixed_lipschitz == lc
        for _ in range(5):
            x, z, v = (_random(X, rng) for _ in range(3))
            assert _hessian_ratio(f, x, z, v) <= 1e-12
            assert _mixed_ratio(f, x, z, rng.standard_normal(1)) <= lc * (1 + 1e-12)
    # H1: the checkerboard attains |grad|^2 (= 8 on a periodic grid) up to the boundary
    f = H1Seminorm(X, weight=0.7)
    board = X.element((-1.0) ** np.add.outer(np.arange(6), np.arange(7)))
    assert _mixed_ratio(f, X.zero(), board, np.ones(1)) >= 0.6 * f.mixed_lipschitz
    # Tikhonov: exact
    f = Tikhonov(X, xi=0.7)
    x, z = _random(X, rng), _random(X, rng)
    assert _mixed_ratio(f, x, z, np.ones(1)) == pytest.approx(1.0, rel=1e-12)


def test_l2_data_fit():
    X = unit_cell_space(8)
    f = L2DataFit(odl.IdentityOperator(X), X.one())
    assert (f.hessian_lipschitz, f.mixed_lipschitz) == (0.0, 0.0)


@pytest.mark.parametrize("pattern", ["cartesian", "free"])
def test_sampled_data_fit(pattern, rng):
    shape = (8, 8)
    X = unit_cell_space(shape)
    y = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    if pattern == "cartesian":
        theta = rng.uniform(0.1, 0.9, 8)
        theta[0] = 0.95  # the DC line carries the largest weight
        f = SampledDataFit(X, y, theta, sampling=CartesianSampling(shape))
    else:
        theta = rng.uniform(0.1, 0.9, shape)
        theta[0, 0] = 0.95
        f = SampledDataFit(X, y, theta)
    assert f.hessian_lipschitz == 0.0
    assert f.mixed_lipschitz == pytest.approx(2 * 0.95)
    p = f.params.size
    for _ in range(5):
        x, z, v = (_random(X, rng) for _ in range(3))
        assert _hessian_ratio(f, x, z, v) <= 1e-12
        assert _mixed_ratio(f, x, z, rng.standard_normal(p)) <= f.mixed_lipschitz
    # worst case: x - z constant (only the DC frequency), delta on the DC weight
    delta = np.zeros(p)
    delta[0] = 1.0
    ratio = _mixed_ratio(f, X.zero(), X.one(), delta)
    assert ratio == pytest.approx(f.mixed_lipschitz, rel=1e-10)


def test_fields_of_experts_unknown():
    X = unit_cell_space((8, 8))
    f = FieldsOfExperts(X, dct_filters((3, 3)), np.full(8, 0.1), nu=1.0)
    assert math.isnan(f.hessian_lipschitz) and math.isnan(f.mixed_lipschitz)


def test_parametrised_sum_adds_constants():
    X = unit_cell_space(16)
    tv, tik, h1 = SmoothedTV(X, alpha=0.5, nu=0.1), Tikhonov(X, xi=0.2), H1Seminorm(X, 0.3)
    data = L2DataFit(odl.IdentityOperator(X), X.zero())
    f = ParametrisedSum(data, tv, tik, h1)
    assert f.hessian_lipschitz == pytest.approx(tv.hessian_lipschitz)
    assert f.mixed_lipschitz == pytest.approx(tv.mixed_lipschitz + 1.0 + 4.0)
    g = ParametrisedSum(tv, SmoothedTV(X, alpha=1.0, nu=0.2))
    assert g.hessian_lipschitz == pytest.approx(
        tv.hessian_lipschitz + g.terms[1].hessian_lipschitz
    )
    # unknown stays unknown
    foe = FieldsOfExperts(unit_cell_space((8, 8)), dct_filters((3, 3)), np.full(8, 0.1))
    s = ParametrisedSum(foe, Tikhonov(foe.domain, xi=1.0))
    assert math.isnan(s.hessian_lipschitz) and math.isnan(s.mixed_lipschitz)
