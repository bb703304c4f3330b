"""TV and TGV² saddle-point forms, run with ``odl.solvers.pdhg``."""

import numpy as np
import odl
import pytest
import scipy.optimize

from odl_bilevel.functionals import PDHGForm, primal_dual_gap, tgv_pdhg_form, tv_pdhg_form
from odl_bilevel.operators import unit_cell_space
from odl_bilevel.testing import check_adjoint, random_element


def _denoising(y, space):
    return 0.5 * odl.functionals.L2NormSquared(space).translated(space.element(y))


def _run(form, n_chunks, chunk=100):
    """PDHG in chunks (it resumes from x, y, x_relax); the gap after each chunk."""
    z = form.domain.zero()
    y = form.dual_space.zero()
    z_relax = z.copy()
    tau, sigma = form.step_sizes()
    gaps = []
    for _ in range(n_chunks):
        odl.solvers.pdhg(z, form.f, form.g, form.L, chunk, tau=tau, sigma=sigma, y=y,
                         x_relax=z_relax)
        gaps.append(primal_dual_gap(form, z, y))
    return z, y, np.array(gaps)


def _square(n, rng, noise=0.1):
    clean = np.zeros((n, n))
    clean[n // 4 : 3 * n // 4, n // 4 : 3 * n // 4] = 1.0
    return clean + noise * rng.standard_normal((n, n))


def _power_norm2(op, rng, n_iter=300):
    x = random_element(op.domain, rng)
    for _ in range(n_iter):
        x = op.adjoint(op(x))
        x /= x.norm()
    return float(op(x).norm() ** 2)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kind", ["tv", "tgv"])
def test_gap_decreases_to_zero(kind, dtype, rng):
    X = unit_cell_space((12, 12), dtype)
    data_fit = _denoising(_square(12, rng), X)
    form = tv_pdhg_form(data_fit, 0.1) if kind == "tv" else tgv_pdhg_form(data_fit, 0.1, 0.2)
    z, y, gaps = _run(form, 8)
    assert np.all(np.isfinite(gaps))
    assert gaps.min() >= -1e-6 * form.primal_objective(z)  # weak duality
    assert gaps[-1] < 5e-2 * gaps[0]
    assert gaps[-1] < 1e-3 * form.primal_objective(z)


@pytest.mark.parametrize("kind", ["tv", "tgv"])
@pytest.mark.parametrize("shape", [(10,), (6, 7)])
def test_constant_image_is_returned(kind, shape):
    X = unit_cell_space(shape)
    data_fit = _denoising(np.full(shape, 0.7), X)
    form = tv_pdhg_form(data_fit, 0.5) if kind == "tv" else tgv_pdhg_form(data_fit, 0.5, 0.5)
    z, y, gaps = _run(form, 3)
    np.testing.assert_allclose(form.image(z).asarray(), 0.7, atol=1e-6)
    assert abs(gaps[-1]) < 1e-8


def test_tv_1d_step_closed_form():
    # Two plateaus of lengths n1, n2 and jump h: for alpha < h n1 n2 / (n1 + n2) each
    # plateau moves towards the other by alpha / n_i.
    n1, n2, h, alpha = 3, 5, 1.0, 0.4
    X = unit_cell_space(n1 + n2)
    y = np.r_[np.zeros(n1), np.full(n2, h)]
    z, _, gaps = _run(tv_pdhg_form(_denoising(y, X), alpha), 10)
    expected = np.r_[np.full(n1, alpha / n1), np.full(n2, h - alpha / n2)]
    np.testing.assert_allclose(z.asarray(), expected, atol=1e-8)
    assert gaps[-1] < 1e-10


def test_tv_1d_matches_brute_force(rng):
    # min 1/2|x - y|^2 + alpha |Dx|_1 via its dual, a bound-constrained smooth
    # problem: min_{|p| <= alpha} 1/2 |y - D^T p|^2, x = y - D^T p.
    n, alpha = 12, 0.3
    y = np.cumsum(rng.standard_normal(n)) * 0.5
    d = np.diff(np.eye(n), axis=0)  # (n-1) x n forward differences

    def dual(p):
        r = y - d.T @ p
        return 0.5 * r @ r, -d @ r

    res = scipy.optimize.minimize(
        dual, np.zeros(n - 1), jac=True, method="L-BFGS-B",
        bounds=[(-alpha, alpha)] * (n - 1), options={"ftol": 1e-15, "gtol": 1e-12},
    )
    x_ref = y - d.T @ res.x
    X = unit_cell_space(n)
    form = tv_pdhg_form(_denoising(y, X), alpha)
    z, _, gaps = _run(form, 15)
    np.testing.assert_allclose(z.asarray(), x_ref, atol=1e-5)
    primal_ref = 0.5 * np.sum((x_ref - y) ** 2) + alpha * np.abs(np.diff(x_ref)).sum()
    assert form.primal_objective(X.element(x_ref)) == pytest.approx(primal_ref, rel=1e-12)
    assert gaps[-1] < 1e-8


def test_tgv_with_huge_beta_is_tv(rng):
    # A noisy ramp: TV staircases it, TGV with small beta follows the slope, and
    # TGV with large beta (E v = 0 forces v = 0 here) reproduces TV.
    n = 24
    X = unit_cell_space(n)
    y = np.linspace(0, 2, n) + 0.05 * rng.standard_normal(n)
    data_fit = _denoising(y, X)
    x_tv = _run(tv_pdhg_form(data_fit, 0.5), 15)[0].asarray()
    form_big = tgv_pdhg_form(data_fit, 0.5, 50.0)
    z_big = form_big.image(_run(form_big, 15)[0]).asarray()
    form_small = tgv_pdhg_form(data_fit, 0.5, 0.05)
    z_small = form_small.image(_run(form_small, 5)[0]).asarray()
    assert np.abs(z_big - x_tv).max() < 1e-3
    assert np.abs(z_small - x_tv).max() > 0.05


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(9,), (6, 7)])
def test_operators_and_norm_bounds(shape, dtype, rng):
    X = unit_cell_space(shape, dtype)
    data_fit = _denoising(np.zeros(shape), X)
    for form in (tv_pdhg_form(data_fit, 1.0), tgv_pdhg_form(data_fit, 1.0, 2.0)):
        check_adjoint(form.L, rng=rng)
        assert form.L.adjoint is form.L.adjoint
        assert _power_norm2(form.L, rng) <= form.norm_bound * (1 + 1e-4)
        tau, sigma = form.step_sizes(ratio=4.0)
        assert isinstance(tau, float) and isinstance(sigma, float)
        assert sigma == pytest.approx(4 * tau)
        assert tau * sigma * form.norm_bound < 1


def test_tgv_norm_bound_2d_value():
    form = tgv_pdhg_form(_denoising(np.zeros((4, 4)), unit_cell_space((4, 4))), 1.0, 1.0)
    assert form.norm_bound == pytest.approx((17 + np.sqrt(33)) / 2)


@pytest.mark.parametrize("kind", ["tv", "tgv"])
def test_group_norm_proximals(kind, rng):
    X = unit_cell_space((5, 6))
    data_fit = _denoising(np.zeros((5, 6)), X)
    form = tv_pdhg_form(data_fit, 0.3) if kind == "tv" else tgv_pdhg_form(data_fit, 0.3, 0.7)
    g, sigma = form.g, 0.8
    y = random_element(form.dual_space, rng)
    # Moreau: prox_{sigma g*}(y) = y - sigma prox_{g / sigma}(y / sigma)
    lhs = g.convex_conj.proximal(sigma)(y)
    rhs = y - sigma * g.proximal(1.0 / sigma)(y / sigma)
    assert (lhs - rhs).norm() < 1e-12 * y.norm()
    assert g.convex_conj(lhs) == 0.0
    assert g.convex_conj(3.0 * y) == np.inf
    assert g.convex_conj.convex_conj(y) == pytest.approx(g(y))
    # the value agrees with ODL's GroupL1Norm
    blocks = [y] if kind == "tv" else list(y)
    weights = [0.3] if kind == "tv" else [0.3, 0.7]
    ref = sum(
        w * odl.functionals.GroupL1Norm(b.space, exponent=2)(b)
        for w, b in zip(weights, blocks, strict=True)
    )
    assert g(y) == pytest.approx(ref, rel=1e-12)


def test_generic_dual_objective_agrees_for_tv(rng):
    X = unit_cell_space((6, 6))
    form = tv_pdhg_form(_denoising(rng.standard_normal((6, 6)), X), 0.2)
    generic = PDHGForm(form.f, form.g, form.L, form.norm_bound)
    y = 0.5 * form.g.convex_conj.proximal(1.0)(random_element(form.dual_space, rng))
    assert generic.dual_objective(y) == pytest.approx(form.dual_objective(y), rel=1e-12)
    # an infeasible dual point: the generic gap is infinite, the form's is finite
    big = 10.0 * random_element(form.dual_space, rng)
    assert generic.dual_objective(big) == -np.inf
    assert np.isfinite(primal_dual_gap(form, X.zero(), big))


def test_validation():
    X = unit_cell_space((4, 4))
    data_fit = _denoising(np.zeros((4, 4)), X)
    with pytest.raises(ValueError, match="alpha"):
        tv_pdhg_form(data_fit, 0.0)
    with pytest.raises(ValueError, match="alpha"):
        tgv_pdhg_form(data_fit, -1.0, 1.0)
    with pytest.raises(ValueError, match="beta"):
        tgv_pdhg_form(data_fit, 1.0, 0.0)
    with pytest.raises(TypeError, match="alpha"):
        tv_pdhg_form(data_fit, "1")
    with pytest.raises(TypeError, match="data_fit"):
        tv_pdhg_form(X.zero(), 1.0)
    with pytest.raises(ValueError, match="data_fit"):
        tv_pdhg_form(odl.functionals.L2Norm(odl.ProductSpace(X, 2)), 1.0)
    form = tv_pdhg_form(data_fit, 1.0)
    with pytest.raises(ValueError, match="safety"):
        form.step_sizes(safety=1.0)
    with pytest.raises(ValueError, match="ratio"):
        form.step_sizes(ratio=0.0)
    with pytest.raises(TypeError, match="form"):
        primal_dual_gap(None, X.zero(), X.zero())
    with pytest.raises(ValueError, match="`y`"):
        primal_dual_gap(form, X.zero(), X.zero())
    with pytest.raises(ValueError, match="`z`"):
        primal_dual_gap(form, form.dual_space.zero(), form.dual_space.zero())


def test_form_validation():
    X = unit_cell_space(5)
    form = tv_pdhg_form(_denoising(np.zeros(5), X), 1.0)
    with pytest.raises(ValueError, match="norm_bound"):
        PDHGForm(form.f, form.g, form.L, 0.0)
    with pytest.raises(TypeError, match="`L`"):
        PDHGForm(form.f, form.g, odl.functionals.L2Norm(X), 1.0)
