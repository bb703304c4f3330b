"""L2DataFit and SampledDataFit against naive numpy formulas, and their validation."""

import pickle

import numpy as np
import odl
import pytest

from odl_bilevel.functionals import L2DataFit, ParametrisedSum, SampledDataFit, Tikhonov
from odl_bilevel.operators import (
    CartesianSampling,
    SampledFourier,
    UnitaryDFT,
    free_sampling,
    unit_cell_space,
)
from odl_bilevel.testing import (
    check_gradient,
    check_hessian,
    check_param_derivative,
    random_element,
)


def _fft(x):
    return np.fft.fftn(np.asarray(x, dtype=float), norm="ortho")


def _ifft(z):
    return np.fft.ifftn(z, norm="ortho")


def _kspace(shape, rng):
    return rng.standard_normal(shape) + 1j * rng.standard_normal(shape)


# ---------------------------------------------------------------- L2DataFit


def test_l2_identity(rng):
    X = unit_cell_space((5, 6))
    y = random_element(X, rng)
    f = L2DataFit(odl.IdentityOperator(X), y)
    x = random_element(X, rng)
    assert f(x) == pytest.approx(0.5 * np.sum((x.data - y.data) ** 2))
    np.testing.assert_allclose(f.gradient(x).data, x.data - y.data)
    v = random_element(X, rng)
    np.testing.assert_allclose(f.gradient.derivative(x)(v).data, v.data)
    assert (f.grad_lipschitz, f.strong_convexity) == (1.0, 1.0)


def test_l2_has_no_params(rng):
    X = unit_cell_space((7,))
    f = L2DataFit(odl.IdentityOperator(X), X.zero())
    assert f.params.size == 0 and f.param_names == ()
    assert f.param_space == odl.rn(0)
    assert f.with_params([]) is f
    assert f.param_gradient(X.one()).size == 0
    m = f.mixed_derivative(X.one())
    assert m.domain == odl.rn(0) and m.range == X
    assert m(odl.rn(0).zero()).norm() == 0
    assert m.adjoint(X.one()).size == 0
    # (check_param_derivative itself divides by sqrt(p) and so needs p >= 1)
    g = ParametrisedSum(f, Tikhonov(X, xi=0.5))
    assert g.params.tolist() == [0.5] and g.param_names == ("xi",)
    assert g.strong_convexity == pytest.approx(1.5)
    check_param_derivative(g, rng=rng)


def test_l2_sampled_fourier(rng):
    X = unit_cell_space((8, 6))
    s = rng.uniform(size=X.shape)
    A = SampledFourier(X, s)
    y = random_element(A.range, rng)
    f = L2DataFit(A, y)
    x = random_element(X, rng)
    ax = s * _fft(x.data)
    r = ax - (y.data[0] + 1j * y.data[1])
    assert f(x) == pytest.approx(0.5 * np.sum(np.abs(r) ** 2), rel=1e-12)
    np.testing.assert_allclose(f.gradient(x).data, _ifft(s * r).real, atol=1e-12)
    w = s**2
    w_sym = 0.5 * (w + np.roll(np.flip(w), 1, axis=(0, 1)))
    assert f.grad_lipschitz == pytest.approx(w_sym.max(), rel=1e-12)
    assert f.strong_convexity == 0.0
    check_gradient(f, x, rng=rng)
    check_hessian(f, x, rng=rng)


def test_l2_power_iteration_and_explicit_opnorm(rng):
    X = unit_cell_space((6, 6))
    M = rng.standard_normal((5, 36))
    A = odl.MatrixOperator(M, domain=odl.rn(36), range=odl.rn(5))
    R = odl.ReshapeOperator(X, odl.rn(36)) if hasattr(odl, "ReshapeOperator") else None
    op = A if R is None else A @ R
    f = L2DataFit(op, np.zeros(5))
    assert f.grad_lipschitz == pytest.approx(np.linalg.norm(M, 2) ** 2, rel=1e-5)
    g = L2DataFit(op, np.zeros(5), opnorm=2.0, strong_convexity=0.25)
    assert (g.grad_lipschitz, g.strong_convexity) == (4.0, 0.25)
    check_gradient(f, rng=rng)
    check_hessian(f, rng=rng)


def test_l2_complex_range(rng):
    X = unit_cell_space((6,))
    F = UnitaryDFT(X)
    y = random_element(F.range, rng)
    f = L2DataFit(F, y)
    x = random_element(X, rng)
    assert f(x) == pytest.approx(0.5 * np.sum(np.abs(_fft(x.data) - y.data) ** 2))
    assert f.grad_lipschitz == 1.0
    check_gradient(f, x, rng=rng)
    assert L2DataFit(F, y.data).data.space == F.range


def test_l2_validation():
    X = unit_cell_space((4, 4))
    I = odl.IdentityOperator(X)
    with pytest.raises(TypeError, match="operator"):
        L2DataFit(np.eye(16), X.zero())
    with pytest.raises(TypeError, match="operator"):
        L2DataFit(odl.PowerOperator(X, 2), X.zero())
    with pytest.raises(ValueError, match="data"):
        L2DataFit(I, np.full((4, 4), np.nan))
    with pytest.raises(ValueError, match="data"):
        L2DataFit(I, np.zeros((4, 5)))
    with pytest.raises(ValueError, match="data"):
        L2DataFit(I, unit_cell_space((4, 4), "float32").zero())
    with pytest.raises(TypeError, match="data"):
        L2DataFit(I, np.zeros((4, 4), dtype=complex))
    with pytest.raises(ValueError, match="opnorm"):
        L2DataFit(I, X.zero(), opnorm=-1.0)
    with pytest.raises(ValueError, match="strong_convexity"):
        L2DataFit(I, X.zero(), strong_convexity=-1.0)
    with pytest.raises(ValueError, match="operator.domain"):
        L2DataFit(odl.IdentityOperator(odl.uniform_discr(0, 1, 4)), np.zeros(4))


# ------------------------------------------------------------ SampledDataFit


def _naive(x, y, s):
    r = _fft(x) - y
    value = 0.5 * np.sum(s**2 * np.abs(r) ** 2)
    grad = _ifft(s**2 * r).real
    return value, grad, r


@pytest.mark.parametrize("shape", [(16,), (15,), (8, 8), (7, 10), (4, 5, 6)])
@pytest.mark.parametrize("impl", ["pyfftw", "numpy"])
def test_sampled_free_against_naive(shape, impl, rng):
    X = unit_cell_space(shape)
    y = _kspace(shape, rng)
    s = rng.uniform(size=shape)
    f = SampledDataFit(X, y, s, impl=impl)
    x = random_element(X, rng)
    value, grad, r = _naive(x.data, y, s)
    assert f(x) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(f.gradient(x).data, grad, atol=1e-12 * np.abs(grad).max())
    v = random_element(X, rng)
    hv = _ifft(s**2 * _fft(v.data)).real
    np.testing.assert_allclose(f.gradient.derivative(x)(v).data, hv, atol=1e-12)
    np.testing.assert_allclose(f.param_gradient(x).data, (s * np.abs(r) ** 2).ravel())
    ds = rng.standard_normal(shape)
    md = f.mixed_derivative(x)(ds.ravel())
    np.testing.assert_allclose(md.data, _ifft(2 * s * ds * r).real, atol=1e-12)
    assert f.param_names == ("s",)


def test_sampled_cartesian_against_naive(rng):
    shape = (8, 6)
    X = unit_cell_space(shape)
    y = _kspace(shape, rng)
    theta = rng.uniform(0.1, 0.9, size=8)
    P = CartesianSampling(shape)
    f = SampledDataFit(X, y, theta, sampling=P)
    s = np.repeat(theta[:, None], 6, axis=1)
    np.testing.assert_array_equal(f.weights, s)
    x = random_element(X, rng)
    value, grad, r = _naive(x.data, y, s)
    assert f(x) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(f.gradient(x).data, grad, atol=1e-12)
    np.testing.assert_allclose(f.param_gradient(x).data, (s * np.abs(r) ** 2).sum(axis=1))
    assert f.param_names == ("line_weights",)
    check_param_derivative(f, x, rng=rng)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_sampled_float32_and_float64(dtype, rng):
    X = unit_cell_space((12, 10), dtype)
    y = _kspace(X.shape, rng)
    s = rng.uniform(size=X.shape)
    f = SampledDataFit(X, y, s)
    x = random_element(X, rng)
    _, grad, _ = _naive(x.data, y, s)
    g = f.gradient(x)
    assert g.space == X
    tol = 1e-12 if dtype == "float64" else 1e-5
    assert np.linalg.norm(g.data - grad) <= tol * np.linalg.norm(grad)


def test_sampled_constants_and_minimiser(rng):
    X = unit_cell_space((6, 6))
    x_true = random_element(X, rng)
    y = _fft(x_true.data)
    s = rng.uniform(0.3, 1.0, size=X.shape)
    f = SampledDataFit(X, y, s)
    assert f(x_true) == pytest.approx(0.0, abs=1e-24)
    assert np.linalg.norm(f.gradient(x_true).data) <= 1e-13
    # the Hessian's spectrum is the symmetrised weights, within [min s^2, max s^2]
    H = f.gradient.derivative(x_true)
    mat = np.stack([H(X.element(e.reshape(6, 6))).data.ravel() for e in np.eye(36)])
    eig = np.linalg.eigvalsh(mat)
    assert eig.max() == pytest.approx(f.grad_lipschitz, rel=1e-12)
    assert eig.min() == pytest.approx(f.strong_convexity, rel=1e-10)
    assert (s**2).min() <= f.strong_convexity <= f.grad_lipschitz <= (s**2).max()


def test_sampled_in_place_and_aliasing(rng):
    X = unit_cell_space((9, 8))
    f = SampledDataFit(X, _kspace(X.shape, rng), rng.uniform(size=X.shape))
    x = random_element(X, rng)
    ref = f.gradient(x)
    out = X.element()
    f.gradient(x, out=out)
    np.testing.assert_array_equal(out.data, ref.data)
    y = x.copy()
    f.gradient(y, out=y)
    np.testing.assert_allclose(y.data, ref.data, atol=1e-14)
    h = f.gradient.derivative(x)
    assert f.gradient.derivative(random_element(X, rng)) is h
    assert f.gradient is f.gradient


def test_sampled_with_params_and_pickle(rng):
    X = unit_cell_space((6, 6))
    y = _kspace(X.shape, rng)
    f = SampledDataFit(X, y, np.full(6, 0.5), sampling=CartesianSampling(X.shape))
    g = f.with_params(np.full(6, 0.25))
    assert g.grad_lipschitz == pytest.approx(0.0625)
    assert f.grad_lipschitz == pytest.approx(0.25)
    h = pickle.loads(pickle.dumps(g))
    x = random_element(X, rng)
    np.testing.assert_allclose(h.gradient(x).data, g.gradient(x).data)
    # a free pattern given explicitly as the identity agrees with sampling=None
    s = rng.uniform(size=X.shape)
    a = SampledDataFit(X, y, s)
    b = SampledDataFit(X, y, s, sampling=free_sampling(X.shape))
    np.testing.assert_allclose(a.gradient(x).data, b.gradient(x).data)
    assert b.param_names == ("theta",)
    with pytest.raises(ValueError, match="theta"):
        f.with_params(np.full(6, 1.5))


def test_sampled_validation(rng):
    X = unit_cell_space((4, 4))
    y = _kspace(X.shape, rng)
    s = np.full(X.shape, 0.5)
    with pytest.raises(ValueError, match="theta"):
        SampledDataFit(X, y, np.full(X.shape, 1.1))
    with pytest.raises(ValueError, match="theta"):
        SampledDataFit(X, y, np.full(X.shape, -0.1))
    with pytest.raises(ValueError, match="theta"):
        SampledDataFit(X, y, np.full(X.shape, np.nan))
    with pytest.raises(ValueError, match="theta"):
        SampledDataFit(X, y, np.full(5, 0.5))
    with pytest.raises(ValueError, match="theta"):
        SampledDataFit(X, y, np.full(3, 0.5), sampling=CartesianSampling(X.shape))
    with pytest.raises(TypeError, match="theta"):
        SampledDataFit(X, y, s.astype(complex))
    bad = y.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="data"):
        SampledDataFit(X, bad, s)
    with pytest.raises(ValueError, match="data"):
        SampledDataFit(X, y[:, :3], s)
    with pytest.raises(TypeError, match="data"):
        SampledDataFit(X, np.array([["a"] * 4] * 4), s)
    with pytest.raises(TypeError, match="sampling"):
        SampledDataFit(X, y, s, sampling=np.eye(16))
    with pytest.raises(ValueError, match="sampling"):
        SampledDataFit(X, y, np.full(4, 0.5), sampling=CartesianSampling((4, 5)))
    with pytest.raises(ValueError, match="space"):
        SampledDataFit(odl.uniform_discr([0, 0], [1, 1], (4, 4)), y, s)
    with pytest.raises(ValueError, match="space"):
        SampledDataFit(X.complex_space, y, s)
    with pytest.raises(TypeError, match="space"):
        SampledDataFit(None, y, s)
    f = SampledDataFit(X, y, s)
    with pytest.raises(ValueError, match="`x`"):
        f.param_gradient(unit_cell_space((4, 4), "float32").one())


def test_sampled_gradient_is_thread_safe(rng):
    """FFT plans and buffers are per thread: concurrent gradients stay correct."""
    from concurrent.futures import ThreadPoolExecutor

    X = unit_cell_space((32, 32))
    fits = [SampledDataFit(X, _kspace(X.shape, rng), rng.uniform(size=X.shape)) for _ in range(4)]
    xs = [random_element(X, rng) for _ in range(4)]
    refs = [_naive(x.data, f.data, f.weights)[1] for f, x in zip(fits, xs, strict=True)]

    def work(k):
        out = X.element()
        for _ in range(50):
            fits[k].gradient(xs[k], out=out)
        return out.data.copy()

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(work, range(4)))
    for res, ref in zip(results, refs, strict=True):
        np.testing.assert_allclose(res, ref, atol=1e-12)
