"""Fourier symbols of Hessians and the preconditioner built from them (MRI energies)."""

import numpy as np
import pytest

from odl_bilevel.functionals import (
    H1Seminorm,
    ParametrisedSum,
    SampledDataFit,
    SmoothedTV,
    SmoothedTV2,
    Tikhonov,
)
from odl_bilevel.hypergradients import implicit_hypergradient
from odl_bilevel.operators import FourierMultiplier, unit_cell_space
from odl_bilevel.solvers import conjugate_gradient, fista
from odl_bilevel.testing import random_element

SHAPE = (32, 32)


def _phantom():
    x = np.zeros(SHAPE)
    x[6:26, 8:24] = 0.6
    x[12:18, 11:20] = 1.0
    return x


def _mri_energy(rng, density=0.1, alpha=1e-3, nu=1e-2, xi=1e-2):
    """Sampled data fit with few weights + smoothed TV + Tikhonov, and a minimiser."""
    X = unit_cell_space(SHAPE)
    clean = _phantom()
    y = np.fft.fft2(clean, norm="ortho") + 0.01 * (
        rng.standard_normal(SHAPE) + 1j * rng.standard_normal(SHAPE)
    )
    s = np.where(rng.uniform(size=SHAPE) < density, rng.uniform(0.2, 1.0, SHAPE), 0.0)
    energy = ParametrisedSum(
        SampledDataFit(X, y, s.ravel()), SmoothedTV(X, alpha=alpha, nu=nu), Tikhonov(X, alpha * xi)
    )
    x = fista(energy, tol=1e-8, max_iter=20000).x
    return energy, x, X.element(2 * (x.data - clean))


def _flip(a):
    return np.roll(np.flip(a), 1, axis=tuple(range(a.ndim)))


def test_data_fit_and_tikhonov_symbols_are_exact(rng):
    X = unit_cell_space(SHAPE)
    s = rng.uniform(0, 1, SHAPE)
    fit = SampledDataFit(X, np.zeros(SHAPE, dtype=complex), s.ravel())
    x, v = random_element(X, rng=rng), random_element(X, rng=rng)
    h = fit.fourier_symbol(x)
    np.testing.assert_allclose(h, 0.5 * (s**2 + _flip(s**2)), rtol=1e-15)
    np.testing.assert_allclose(
        FourierMultiplier(X, h)(v).data, fit.gradient.derivative(x)(v).data, atol=1e-12
    )
    assert Tikhonov(X, 0.3).fourier_symbol(x) == 0.3


def test_tv_and_h1_symbols(rng):
    X = unit_cell_space(SHAPE)
    x = X.element(_phantom())
    lam = H1Seminorm(X, 2.0).fourier_symbol(x) / 2.0
    assert lam[0, 0] == 0.0 and lam.max() == pytest.approx(8.0)
    tv = SmoothedTV(X, alpha=0.5, nu=0.1)
    rho = np.sqrt(sum(g.data**2 for g in tv.operator(x)) + 0.01)
    np.testing.assert_allclose(tv.fourier_symbol(x), 0.5 / rho.mean() * lam, rtol=1e-12)
    for h in (lam, tv.fourier_symbol(x)):
        np.testing.assert_array_equal(h, _flip(h))  # real images: h_k = h_-k
    assert SmoothedTV2(X, alpha=0.5, nu=0.1).fourier_symbol(x) is None


def test_sum_symbol_and_preconditioner(rng):
    X = unit_cell_space(SHAPE)
    x = X.element(_phantom())
    fit = SampledDataFit(X, np.zeros(SHAPE, dtype=complex), np.zeros(np.prod(SHAPE)))
    tv, tik = SmoothedTV(X, alpha=0.5, nu=0.1), Tikhonov(X, 1e-2)
    total = ParametrisedSum(fit, tv, tik)
    np.testing.assert_allclose(total.fourier_symbol(x), tv.fourier_symbol(x) + 1e-2)
    M = total.hessian_preconditioner(x)
    assert isinstance(M, FourierMultiplier)
    np.testing.assert_allclose(M.symbol, 1.0 / (tv.fourier_symbol(x) + 1e-2))
    # no preconditioner where a term has no symbol or the symbol vanishes (DC, no weights)
    assert ParametrisedSum(fit, SmoothedTV2(X), tik).hessian_preconditioner(x) is None
    assert ParametrisedSum(fit, tv).hessian_preconditioner(x) is None


def test_preconditioned_cg_on_an_mri_hessian(rng):
    energy, x, g = _mri_energy(rng)
    B = energy.gradient.derivative(x)
    plain = conjugate_gradient(B, g, tol=1e-8, max_iter=5000)
    pre = conjugate_gradient(
        B, g, tol=1e-8, max_iter=5000, preconditioner=energy.hessian_preconditioner(x)
    )
    assert plain.converged and pre.converged
    assert pre.iterations < plain.iterations / 3
    true_res = np.linalg.norm((g - B(pre.x)).data) / np.linalg.norm(g.data)
    assert true_res <= 1e-8 * (1 + 1e-6)


def test_implicit_hypergradient_with_the_automatic_preconditioner(rng):
    energy, x, g = _mri_energy(rng)
    plain = implicit_hypergradient(energy, x, g, lower_error=0.0, cg_tol=1e-10,
                                   cg_max_iter=5000, preconditioner=None)
    auto = implicit_hypergradient(energy, x, g, lower_error=0.0, cg_tol=1e-10, cg_max_iter=5000)
    assert auto.cg.iterations < plain.cg.iterations / 3
    assert np.linalg.norm(auto.gradient - plain.gradient) <= plain.error_bound + auto.error_bound
    np.testing.assert_allclose(auto.gradient, plain.gradient, rtol=1e-6,
                               atol=1e-8 * np.abs(plain.gradient).max())
    with pytest.raises(ValueError, match="`preconditioner`"):
        implicit_hypergradient(energy, x, g, lower_error=0.0, preconditioner="fourier")
