"""Fourier majorants of Hessians and the preconditioner of FISTA built from them."""

import numpy as np
import pytest

from odl_bilevel.functionals import (
    H1Seminorm,
    ParametrisedSum,
    SampledDataFit,
    SmoothedTGV,
    SmoothedTV,
    SmoothedTV2,
    Tikhonov,
)
from odl_bilevel.operators import CartesianSampling, FourierMultiplier, unit_cell_space
from odl_bilevel.testing import check_fourier_majorant

SHAPE = (16, 12)


def _fit(rng, cartesian=False):
    X = unit_cell_space(SHAPE)
    y = rng.standard_normal(SHAPE) + 1j * rng.standard_normal(SHAPE)
    if cartesian:
        return SampledDataFit(X, y, rng.uniform(0, 1, SHAPE[0]), sampling=CartesianSampling(SHAPE))
    return SampledDataFit(X, y, rng.uniform(0, 1, SHAPE).ravel())


@pytest.mark.parametrize("cartesian", [False, True])
def test_data_fit_majorant_is_its_exact_hessian(rng, cartesian):
    fit = _fit(rng, cartesian)
    m = fit.fourier_majorant()
    np.testing.assert_array_equal(m, fit.fourier_symbol(None))
    result = check_fourier_majorant(fit, rng=rng)
    assert min(result.details["lambdas"]) == pytest.approx(1.0, abs=1e-6)  # tight: equality


def test_regulariser_majorants(rng):
    X = unit_cell_space(SHAPE)
    lam = H1Seminorm(X, 1.0).fourier_majorant()
    assert lam[0, 0] == 0.0 and lam.max() <= 8.0
    np.testing.assert_allclose(SmoothedTV(X, alpha=0.3, nu=0.05).fourier_majorant(), 6.0 * lam)
    np.testing.assert_allclose(H1Seminorm(X, 2.5).fourier_majorant(), 2.5 * lam)
    assert Tikhonov(X, 0.7).fourier_majorant() == 0.7
    # the TV bound is attained where the image is flat: at zero, the checkerboard
    tv = SmoothedTV(X, alpha=0.3, nu=0.05)
    assert check_fourier_majorant(tv, X.zero(), rng=rng).details["lambdas"][0] > 0.99
    # and far from attained where every gradient is steep (|grad x| >> nu)
    rough = X.element(rng.standard_normal(SHAPE))
    assert check_fourier_majorant(tv, rough, rng=rng).details["lambdas"][0] < 0.5


def test_terms_without_majorant_switch_the_sum_off(rng):
    X = unit_cell_space(SHAPE)
    assert SmoothedTV2(X, alpha=0.1, nu=0.1).fourier_majorant() is None
    assert SmoothedTGV(X, alpha=0.1, beta=0.2, nu=0.1).fourier_majorant() is None
    mri = ParametrisedSum(_fit(rng), SmoothedTV(X, alpha=0.1, nu=0.1), Tikhonov(X, 1e-3))
    assert mri.fourier_majorant() is not None
    tv2 = ParametrisedSum(_fit(rng), SmoothedTV2(X, alpha=0.1, nu=0.1), Tikhonov(X, 1e-3))
    assert tv2.fourier_majorant() is None and tv2.majorant_preconditioner() is None


def test_majorant_preconditioner(rng):
    X = unit_cell_space(SHAPE)
    fit, tv, tik = _fit(rng), SmoothedTV(X, alpha=0.1, nu=0.05), Tikhonov(X, 1e-3)
    energy = ParametrisedSum(fit, tv, tik)
    m = fit.fourier_majorant() + tv.fourier_majorant() + 1e-3
    np.testing.assert_allclose(energy.fourier_majorant(), m, rtol=1e-14)
    check_fourier_majorant(energy, rng=rng)
    precond = energy.majorant_preconditioner()
    assert isinstance(precond, FourierMultiplier)
    np.testing.assert_allclose(precond.symbol, 1.0 / m, rtol=1e-14)
    # a scalar majorant is plain FISTA, and a majorant with zeros cannot be inverted
    assert tik.majorant_preconditioner() is None
    assert ParametrisedSum(tv, H1Seminorm(X, 1.0)).majorant_preconditioner() is None  # m_0 = 0


def test_checker_catches_a_majorant_that_is_too_small(rng):
    X = unit_cell_space(SHAPE)

    class Halved(SmoothedTV):
        def fourier_majorant(self):
            return 0.5 * super().fourier_majorant()

    with pytest.raises(AssertionError, match="Fourier majorant of Halved"):
        check_fourier_majorant(Halved(X, alpha=0.1, nu=0.05), rng=rng)

    class Asymmetric(Tikhonov):
        def fourier_majorant(self):
            m = np.full(SHAPE, 2.0)
            m[1, 0] = 3.0
            return m

    with pytest.raises(AssertionError):
        check_fourier_majorant(Asymmetric(X, 1.0), rng=rng)
    with pytest.raises(ValueError, match="no Fourier majorant"):
        check_fourier_majorant(SmoothedTV2(X, alpha=0.1, nu=0.1), rng=rng)
