"""Finite-difference operators: agreement with ODL, adjoints, norms, structure."""

import numpy as np
import odl
import pytest

from odl_bilevel.operators import (
    NeumannGradient,
    SecondOrderDifferences,
    SymmetrisedGradient,
    unit_cell_space,
)
from odl_bilevel.operators._finite_diff import symmetric_components
from odl_bilevel.testing import check_adjoint, random_element

# (8, 8) and (4, 4): column strides that trigger numpy 2.4.6's np.negative bug
# on strided views (see _finite_diff.py); the kernels must not depend on it.
SHAPES = [(2,), (9,), (2, 2), (4, 4), (6, 7), (8, 8), (3, 4, 5)]
OPS = [NeumannGradient, SymmetrisedGradient, SecondOrderDifferences]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", [(2,), (17,), (2, 3), (4, 4), (8, 8), (8, 11), (3, 4, 5)])
def test_gradient_matches_odl_symmetric(shape, dtype, rng):
    X = unit_cell_space(shape, dtype)
    x = random_element(X, rng)
    ours = NeumannGradient(X)(x)
    ref = odl.Gradient(X, pad_mode="symmetric")(x)
    for a, b in zip(ours, ref, strict=True):
        np.testing.assert_allclose(a.data, b.data, rtol=0, atol=1e-6)
    div = NeumannGradient(X).adjoint(ref)
    np.testing.assert_allclose(div.data, odl.Gradient(X, pad_mode="symmetric").adjoint(ref).data,
                               rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("op_class", OPS)
def test_adjoint_exact_and_cached(op_class, shape, dtype, rng):
    op = op_class(unit_cell_space(shape, dtype))
    check_adjoint(op, rng=rng, rtol=1e-13 if dtype == "float64" else 1e-6)
    assert op.adjoint is op.adjoint
    assert op.adjoint.adjoint is op


def _power_iteration(op, rng, n_iter=200):
    v = random_element(op.domain, rng)
    for _ in range(n_iter):
        v = op.adjoint(op(v))
        nrm = float(v.norm())
        if nrm == 0:
            return 0.0
        v = v / nrm
    return float(op(v).norm()) ** 2


@pytest.mark.parametrize("shape", [(1,), (16,), (1, 5), (12, 13), (4, 5, 6)])
@pytest.mark.parametrize("op_class", OPS)
def test_norm_bound(op_class, shape, rng):
    op = op_class(unit_cell_space(shape))
    est = _power_iteration(op, rng)
    assert est <= op.norm_bound * (1 + 1e-12)


def test_norm_bound_nearly_tight_for_gradient(rng):
    op = NeumannGradient(unit_cell_space((64, 64)))
    assert _power_iteration(op, rng, 500) > 0.95 * op.norm_bound


@pytest.mark.parametrize("shape", [(1,), (7,), (1, 1), (5, 6)])
def test_kernels_of_operators(shape):
    X = unit_cell_space(shape)
    d = X.ndim
    # gradient and Hessian vanish on constants
    assert NeumannGradient(X)(X.one()).norm() == 0
    assert SecondOrderDifferences(X)(X.one()).norm() == 0
    # the discrete Hessian of an affine image vanishes away from the far boundary
    if min(shape) >= 3:
        axes = np.meshgrid(*[np.arange(n, dtype=float) for n in shape], indexing="ij")
        x = X.element(sum((k + 1) * a for k, a in enumerate(axes)))
        h = SecondOrderDifferences(X)(x)
        interior = tuple(slice(1, -2) for _ in range(d))
        for part in h:
            assert np.abs(part.data[interior]).max() == 0


def test_second_order_is_E_of_gradient(rng):
    X = unit_cell_space((6, 7))
    x = random_element(X, rng)
    h = SecondOrderDifferences(X)(x)
    ref = SymmetrisedGradient(X)(NeumannGradient(X)(x))
    assert (h - ref).norm() <= 1e-12 * ref.norm()


def test_second_order_1d_is_centred_second_difference(rng):
    X = unit_cell_space(10)
    x = rng.standard_normal(10)
    h = SecondOrderDifferences(X)(X.element(x))[0].data
    np.testing.assert_allclose(h[1:-1], x[2:] - 2 * x[1:-1] + x[:-2], atol=1e-12)


def test_symmetric_layout_is_frobenius(rng):
    X = unit_cell_space((5, 4, 3))
    E = SymmetrisedGradient(X)
    assert E.components == symmetric_components(3)
    assert len(E.range) == 6
    w1, w2 = E(random_element(E.domain, rng)), E(random_element(E.domain, rng))
    frob = float(np.sum(E.to_matrix(w1) * E.to_matrix(w2)))
    assert abs(frob - w1.inner(w2)) <= 1e-12 * abs(frob) + 1e-12


def test_symmetrised_gradient_definition(rng):
    X = unit_cell_space((6, 5))
    E = SymmetrisedGradient(X)
    v = random_element(E.domain, rng)

    def dminus(a, axis):
        # D- = -(D+)^T: a_i [i < n-1] - a_{i-1} [i > 0]
        out = np.zeros_like(a)
        lo = [slice(None)] * a.ndim
        hi = [slice(None)] * a.ndim
        lo[axis], hi[axis] = slice(None, -1), slice(1, None)
        out[tuple(lo)] += a[tuple(lo)]
        out[tuple(hi)] -= a[tuple(lo)]
        return out

    m = E.to_matrix(E(v))
    for i in range(2):
        for j in range(2):
            ref = 0.5 * (dminus(v[i].data, j) + dminus(v[j].data, i))
            np.testing.assert_allclose(m[i, j], ref, atol=1e-12)


@pytest.mark.parametrize("op_class", OPS)
def test_in_place_writes_out(op_class, rng):
    op = op_class(unit_cell_space((5, 6), "float32"))
    x = random_element(op.domain, rng)
    out = op.range.element()
    res = op(x, out=out)
    assert res is out
    assert (out - op(x)).norm() == 0
    y = random_element(op.range, rng)
    out2 = op.domain.element()
    op.adjoint(y, out=out2)
    assert (out2 - op.adjoint(y)).norm() == 0
    assert out.space[0].dtype == np.float32


@pytest.mark.parametrize("op_class", OPS)
def test_rejects_bad_space(op_class):
    with pytest.raises(TypeError, match="space"):
        op_class(odl.ProductSpace(odl.rn(3), 2))
    with pytest.raises(ValueError, match="space"):
        op_class(odl.uniform_discr(0, 1, 10))
