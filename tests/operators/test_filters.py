"""FilterBank, its coefficient derivative and the DCT filter set."""

import numpy as np
import odl
import pytest
import scipy.signal

from odl_bilevel.operators import FilterBank, FilterDerivative, dct_filters, unit_cell_space
from odl_bilevel.testing import check_adjoint, random_element


def _reference(x, kernel, boundary):
    """Centred 'same'-size convolution by scipy.signal (independent of ndimage)."""
    pad = [(n // 2, n // 2) for n in kernel.shape]
    xp = np.pad(x, pad, mode="wrap" if boundary == "periodic" else "constant")
    return scipy.signal.convolve(xp, kernel, mode="valid")


def _matrix(op):
    """Dense matrix of a linear operator between (product) spaces, by columns."""
    cols = []
    for j in range(op.domain.size):
        e = np.zeros(op.domain.size)
        e[j] = 1.0
        if isinstance(op.domain, odl.ProductSpace):
            arr = e.reshape((len(op.domain),) + op.domain[0].shape)
        else:
            arr = e.reshape(op.domain.shape)
        y = op(op.domain.element(arr))
        parts = y if isinstance(op.range, odl.ProductSpace) else [y]
        cols.append(np.concatenate([np.asarray(p.data, dtype=float).ravel() for p in parts]))
    return np.array(cols).T


@pytest.mark.parametrize("boundary", ["periodic", "zero"])
@pytest.mark.parametrize(("shape", "kshape"), [((17,), (3,)), ((17,), (5,)), ((9, 11), (3, 3)),
                                               ((9, 11), (5, 3))])
def test_matches_scipy_convolution(boundary, shape, kshape, rng):
    X = unit_cell_space(shape)
    filters = rng.standard_normal((3, *kshape))
    K = FilterBank(X, filters, boundary=boundary)
    x = random_element(X, rng)
    y = K(x)
    for k in range(3):
        ref = _reference(x.asarray(), filters[k], boundary)
        np.testing.assert_allclose(y[k].asarray(), ref, atol=1e-12)


def test_periodic_matches_fft(rng):
    X = unit_cell_space((8, 10))
    kern = rng.standard_normal((1, 3, 3))
    x = rng.standard_normal((8, 10))
    # kernel centred at the origin of the periodic grid
    big = np.zeros((8, 10))
    big[:3, :3] = kern[0]
    big = np.roll(big, (-1, -1), axis=(0, 1))
    ref = np.fft.ifft2(np.fft.fft2(x) * np.fft.fft2(big)).real
    out = FilterBank(X, kern)(X.element(x))
    np.testing.assert_allclose(out[0].asarray(), ref, atol=1e-12)


@pytest.mark.parametrize("boundary", ["periodic", "zero"])
def test_adjoint_is_matrix_transpose(boundary, rng):
    X = unit_cell_space((5, 4))
    K = FilterBank(X, rng.standard_normal((2, 3, 3)), boundary=boundary)
    np.testing.assert_allclose(_matrix(K.adjoint), _matrix(K).T, atol=1e-12)
    assert K.adjoint.adjoint is K
    assert K.adjoint is K.adjoint  # cached


@pytest.mark.parametrize("boundary", ["periodic", "zero"])
def test_norm_bound(boundary, rng):
    X = unit_cell_space((6, 7))
    K = FilterBank(X, rng.standard_normal((3, 3, 3)), boundary=boundary)
    norm2 = np.linalg.norm(_matrix(K), 2) ** 2
    assert norm2 <= K.norm_bound * (1 + 1e-12)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_and_in_place(dtype, rng):
    X = unit_cell_space((8, 8), dtype)
    K = FilterBank(X, dct_filters((3, 3)))
    x = random_element(X, rng)
    out = K.range.element()
    K(x, out=out)
    assert all(p.dtype == np.dtype(dtype) for p in out)
    np.testing.assert_allclose(out[3].asarray(), K(x)[3].asarray())
    check_adjoint(K, rng=rng)


@pytest.mark.parametrize("boundary", ["periodic", "zero"])
def test_filter_derivative_is_linear_in_filters(boundary, rng):
    X = unit_cell_space((7, 6))
    K = FilterBank(X, rng.standard_normal((2, 3, 3)), boundary=boundary)
    x = random_element(X, rng)
    D = K.filter_derivative(x)
    assert isinstance(D, FilterDerivative)
    assert D.domain == odl.rn(18)
    c = rng.standard_normal(18)
    direct = FilterBank(X, c.reshape(2, 3, 3), boundary=boundary)(x)
    np.testing.assert_allclose(D(c)[1].asarray(), direct[1].asarray(), atol=1e-12)
    np.testing.assert_allclose(_matrix(D.adjoint), _matrix(D).T, atol=1e-12)
    np.testing.assert_array_equal(D.x.asarray(), x.asarray())


def test_filter_derivative_copies_x(rng):
    X = unit_cell_space(9)
    K = FilterBank(X, dct_filters(3))
    x = random_element(X, rng)
    D = K.filter_derivative(x)
    before = D(np.ones(6))[0].asarray().copy()
    x *= 2.0
    np.testing.assert_array_equal(D(np.ones(6))[0].asarray(), before)


@pytest.mark.parametrize("kshape", [(3,), (5,), (3, 3), (5, 3)])
def test_dct_filters(kshape):
    k = dct_filters(kshape)
    n = int(np.prod(kshape))
    assert k.shape == (n - 1, *kshape)
    m = k.reshape(n - 1, -1)
    np.testing.assert_allclose(m.sum(axis=1), 0, atol=1e-12)
    np.testing.assert_allclose(m @ m.T, np.eye(n - 1), atol=1e-12)


@pytest.mark.parametrize("bad", [(2, 3), (4,), (0,), (1,), ()])
def test_dct_filters_validation(bad):
    with pytest.raises(ValueError, match="kernel_shape"):
        dct_filters(bad)


@pytest.mark.parametrize(
    ("filters", "match"),
    [
        (np.ones((2, 3)), "filters"),  # 1-D kernels on a 2-D space
        (np.ones((2, 4, 3)), "odd"),
        (np.ones((0, 3, 3)), "filters"),
        (np.full((1, 3, 3), np.nan), "filters"),
        (np.ones((1, 9, 3)), "exceed"),
    ],
)
def test_filter_bank_validation(filters, match):
    X = unit_cell_space((7, 7))
    with pytest.raises(ValueError, match=match):
        FilterBank(X, filters)


def test_filter_bank_type_errors():
    X = unit_cell_space((7, 7))
    with pytest.raises(TypeError, match="filters"):
        FilterBank(X, np.ones((1, 3, 3)) * 1j)
    with pytest.raises(TypeError, match="filters"):
        FilterBank(X, "abc")
    with pytest.raises(ValueError, match="boundary"):
        FilterBank(X, np.ones((1, 3, 3)), boundary="symmetric")
    with pytest.raises(ValueError, match="space"):
        FilterBank(odl.uniform_discr([0, 0], [1, 1], (7, 7)), np.ones((1, 3, 3)))
    K = FilterBank(X, np.ones((1, 3, 3)))
    with pytest.raises(ValueError, match="`x`"):
        K.filter_derivative(np.ones((7, 6)))
    with pytest.raises(ValueError, match="`x`"):
        K.filter_derivative(np.full((7, 7), np.inf))
