"""Unitary DFT, sampling patterns and the sampled Fourier operator."""

import pickle

import numpy as np
import odl
import pytest

from odl_bilevel.operators import (
    CartesianSampling,
    FourierMultiplier,
    NeumannGradient,
    SampledFourier,
    UnitaryDFT,
    free_sampling,
    unit_cell_space,
)
from odl_bilevel.testing import check_adjoint, random_element

SHAPES = [(16,), (33,), (8, 8), (11, 14), (4, 5, 6)]


def _tol(dtype):
    return 1e-12 if np.dtype(dtype) == np.float64 else 2e-6


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("complex_domain", [False, True])
def test_dft_unitary_and_matches_numpy(shape, dtype, complex_domain, rng):
    X = unit_cell_space(shape, dtype)
    dom = X.complex_space if complex_domain else X
    F = UnitaryDFT(dom)
    assert F.range == X.complex_space
    x = random_element(dom, rng)
    fx = F(x)
    ref = np.fft.fftn(x.data.astype(np.complex128), norm="ortho")
    tol = _tol(dtype)
    assert np.linalg.norm(fx.data - ref) <= tol * np.linalg.norm(ref) * 10
    assert abs(float(fx.norm()) / float(x.norm()) - 1) <= tol * 10
    back = F.inverse(fx)
    assert back.space == dom
    assert np.linalg.norm(back.data - x.data) <= tol * 10 * np.linalg.norm(x.data)
    check_adjoint(F, rng=rng)
    assert F.adjoint.adjoint is F


def test_dft_real_adjoint_takes_real_part(rng):
    X = unit_cell_space((6, 7))
    F = UnitaryDFT(X)
    z = random_element(X.complex_space, rng)
    ref = np.fft.ifftn(z.data, norm="ortho").real
    np.testing.assert_allclose(F.adjoint(z).data, ref, atol=1e-13)


@pytest.mark.parametrize("shape", [(32,), (12, 10)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_dft_pyfftw_and_numpy_agree(shape, dtype, rng):
    X = unit_cell_space(shape, dtype)
    x = random_element(X, rng)
    z = random_element(X.complex_space, rng)
    a, b = UnitaryDFT(X), UnitaryDFT(X, impl="numpy")
    assert b.impl == "numpy"
    scale = np.linalg.norm(x.data)
    assert np.linalg.norm(a(x).data - b(x).data) <= 10 * _tol(dtype) * scale
    assert np.linalg.norm(a.adjoint(z).data - b.adjoint(z).data) <= 10 * _tol(dtype) * scale


def test_dft_in_place_and_aliasing(rng):
    X = unit_cell_space((8, 6))
    C = X.complex_space
    F = UnitaryDFT(C)
    x = random_element(C, rng)
    ref = F(x)
    out = C.element()
    assert F(x, out=out) is out
    np.testing.assert_allclose(out.data, ref.data, atol=1e-14)
    y = x.copy()
    F(y, out=y)  # out aliases the input
    np.testing.assert_allclose(y.data, ref.data, atol=1e-14)


def test_dft_is_picklable():
    F = UnitaryDFT(unit_cell_space((4, 4)))
    G = pickle.loads(pickle.dumps(F))
    x = G.domain.one()
    np.testing.assert_allclose(G(x).data, F(x).data)


def test_dft_validation():
    with pytest.raises(TypeError, match="space"):
        UnitaryDFT(odl.ProductSpace(odl.rn(3), 2))
    with pytest.raises(ValueError, match="space"):
        UnitaryDFT(odl.uniform_discr(0, 1, 8))
    X = unit_cell_space((4,))
    with pytest.raises(ValueError, match="impl"):
        UnitaryDFT(X, impl="fftw")
    with pytest.raises(ValueError, match="threads"):
        UnitaryDFT(X, threads=0)
    with pytest.raises(ValueError, match="planner_effort"):
        UnitaryDFT(X, planner_effort="FAST")


def test_cartesian_sampling_spreads_lines(rng):
    P = CartesianSampling((4, 3), axis=0)
    theta = rng.uniform(size=4)
    s = P(theta).data
    np.testing.assert_array_equal(s, np.repeat(theta[:, None], 3, axis=1))
    np.testing.assert_allclose(P.adjoint(P.range.one()).data, np.full(4, 3.0))
    Q = CartesianSampling((4, 3), axis=-1)
    assert Q.axis == 1 and Q.domain.shape == (3,)
    np.testing.assert_array_equal(Q(np.arange(3.0)).data, np.tile(np.arange(3.0), (4, 1)))
    assert P.norm(estimate=False) == pytest.approx(np.sqrt(3))
    check_adjoint(Q, rng=rng)


def test_free_sampling_is_identity():
    P = free_sampling((3, 4))
    assert isinstance(P, odl.IdentityOperator)
    assert P.domain == odl.rn((3, 4))


def test_cartesian_sampling_validation():
    with pytest.raises(ValueError, match="axis"):
        CartesianSampling((4, 3), axis=2)
    with pytest.raises(TypeError, match="axis"):
        CartesianSampling((4, 3), axis=0.5)
    with pytest.raises(ValueError, match="shape"):
        CartesianSampling((4, 0))
    with pytest.raises(ValueError, match="dtype"):
        CartesianSampling((4, 3), dtype="int32")


@pytest.mark.parametrize("shape", [(16,), (8, 10)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sampled_fourier_matches_numpy(shape, dtype, rng):
    X = unit_cell_space(shape, dtype)
    s = rng.uniform(size=shape)
    A = SampledFourier(X, s)
    x = random_element(X, rng)
    ref = s * np.fft.fftn(x.data.astype(float), norm="ortho")
    ax = A(x)
    assert ax.space == odl.rn((2, *shape), dtype=dtype)
    tol = 10 * _tol(dtype) * np.linalg.norm(ref)
    assert np.linalg.norm(ax.data[0] - ref.real) <= tol
    assert np.linalg.norm(ax.data[1] - ref.imag) <= tol
    check_adjoint(A, rng=rng)
    # the exact norm: sqrt(max_k (s_k^2 + s_{-k}^2) / 2)
    n = X.size
    H = np.stack([A.adjoint(A(X.element(e.reshape(shape)))).data.ravel() for e in np.eye(n)])
    lam_max = float(np.linalg.eigvalsh(H.astype(float)).max())
    assert A.norm(estimate=False) ** 2 == pytest.approx(lam_max, rel=10 * _tol(dtype))


def test_sampled_fourier_in_broadcast_operator(rng):
    X = unit_cell_space((8, 8))
    A = SampledFourier(X, rng.uniform(size=X.shape))
    G = odl.Gradient(X, pad_mode="symmetric")
    K = odl.BroadcastOperator(A, G)
    x = random_element(X, rng)
    kx = K(x)
    np.testing.assert_allclose(kx[0].data, A(x).data)
    np.testing.assert_allclose(kx[1][0].data, G(x)[0].data)
    check_adjoint(K, rng=rng)


def test_weight_derivative_is_the_derivative(rng):
    X = unit_cell_space((6, 5))
    s = rng.uniform(0.2, 0.8, size=X.shape)
    x = random_element(X, rng)
    ds = rng.standard_normal(X.shape)
    D = SampledFourier(X, s).weight_derivative(x)
    h = 1e-3
    fd = (SampledFourier(X, s + h * ds)(x) - SampledFourier(X, s - h * ds)(x)) * (0.5 / h)
    np.testing.assert_allclose(D(ds).data, fd.data, atol=1e-10)
    assert D.domain == odl.rn(X.shape)
    check_adjoint(D, rng=rng)


def test_sampled_fourier_validation(rng):
    X = unit_cell_space((4, 4))
    with pytest.raises(ValueError, match="weights"):
        SampledFourier(X, np.full((4, 4), 1.5))
    with pytest.raises(ValueError, match="weights"):
        SampledFourier(X, np.full((4, 4), -0.1))
    with pytest.raises(ValueError, match="weights"):
        SampledFourier(X, np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="weights"):
        SampledFourier(X, np.ones((4, 5)))
    with pytest.raises(TypeError, match="weights"):
        SampledFourier(X, np.ones((4, 4), dtype=complex))
    with pytest.raises(ValueError, match="space"):
        SampledFourier(X.complex_space, np.ones((4, 4)))
    with pytest.raises(TypeError, match="space"):
        SampledFourier("X", np.ones((4, 4)))
    A = SampledFourier(X, np.ones((4, 4)))
    with pytest.raises(ValueError, match="`x`"):
        A.weight_derivative(unit_cell_space((4, 5)).one())


def _symmetric(rng, shape):
    m = rng.uniform(0.5, 2.0, shape)
    return 0.5 * (m + np.roll(np.flip(m), 1, axis=tuple(range(len(shape)))))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("impl", ["pyfftw", "numpy"])
def test_fourier_multiplier_matches_numpy_and_is_self_adjoint(shape, dtype, impl, rng):
    X = unit_cell_space(shape, dtype=dtype)
    m = _symmetric(rng, shape)
    M = FourierMultiplier(X, m, impl=impl)
    v = random_element(X, rng=rng)
    ref = np.real(np.fft.ifftn(m * np.fft.fftn(v.data.astype(float))))
    np.testing.assert_allclose(M(v).data, ref, rtol=0, atol=50 * _tol(dtype))
    assert check_adjoint(M, rng=rng).passed and M.adjoint is M
    np.testing.assert_array_equal(M.symbol, m)


def test_fourier_multiplier_validation(rng):
    X = unit_cell_space((6, 5))
    with pytest.raises(ValueError, match="`symbol`.*shape"):
        FourierMultiplier(X, np.ones((5, 6)))
    with pytest.raises(ValueError, match="`symbol`.*NaN"):
        FourierMultiplier(X, np.full((6, 5), np.nan))
    with pytest.raises(ValueError, match="`symbol`.*symmetric"):
        FourierMultiplier(X, rng.uniform(1, 2, (6, 5)))
    with pytest.raises(ValueError, match="`symbol`"):
        FourierMultiplier(X, np.ones((6, 5), dtype=complex))


@pytest.mark.parametrize("shape", [(16,), (8, 6)])
def test_gradient_gram_symbol_is_the_periodic_laplacian(shape, rng):
    X = unit_cell_space(shape)
    lam = NeumannGradient(X).gram_symbol()
    v = random_element(X, rng=rng).data
    # periodic -Laplacian: sum over axes of 2v - v(+1) - v(-1)
    lap = sum(2 * v - np.roll(v, 1, a) - np.roll(v, -1, a) for a in range(len(shape)))
    np.testing.assert_allclose(np.real(np.fft.ifftn(lam * np.fft.fftn(v))), lap, atol=1e-12)
