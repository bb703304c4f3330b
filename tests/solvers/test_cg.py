"""Conjugate gradients: residual tolerance, error bound, statuses, validation."""

import numpy as np
import odl
import pytest
from solver_problems import denoising_energy

from odl_bilevel.solvers import ConjugateGradient, SolverStatus, conjugate_gradient, fista


def _spd(rng, n=60, cond=1e3, dtype="float64"):
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    eig = np.geomspace(1.0, cond, n)
    mat = (q * eig) @ q.T
    mat = 0.5 * (mat + mat.T)
    X = odl.rn(n, dtype=dtype)
    return odl.MatrixOperator(mat.astype(dtype), domain=X, range=X), mat, eig.min()


@pytest.mark.parametrize("tol", [1e-4, 1e-10])
def test_solves_random_spd_to_tolerance(tol, rng):
    H, mat, lam_min = _spd(rng)
    b = H.range.element(rng.standard_normal(60))
    res = conjugate_gradient(H, b, tol=tol)
    assert res.converged
    true_res = np.linalg.norm(b.data - mat @ res.x.data)
    b_norm = np.linalg.norm(b.data)
    assert true_res <= tol * b_norm * (1 + 1e-8)
    assert res.certificate == pytest.approx(true_res / b_norm, rel=1e-6, abs=1e-15)
    x_star = np.linalg.solve(mat, b.data)
    assert np.linalg.norm(res.x.data - x_star) <= true_res / lam_min * (1 + 1e-6) + 1e-12
    assert res.hessian_products >= res.iterations
    assert res.solver == "conjugate_gradient"
    assert len(res.history) >= res.iterations


def test_max_iter(rng):
    H, _, _ = _spd(rng)
    b = H.range.element(rng.standard_normal(60))
    res = conjugate_gradient(H, b, tol=1e-12, max_iter=3)
    assert res.status is SolverStatus.MAX_ITER
    assert res.iterations == 3 and not res.converged
    assert res.certificate > 1e-12


def test_nonpositive_curvature():
    X = odl.rn(3)
    H = odl.MatrixOperator(np.diag([1.0, -1.0, 2.0]), domain=X, range=X)
    res = conjugate_gradient(H, X.element([0.0, 1.0, 0.0]), tol=1e-8)
    assert res.status is SolverStatus.NONPOSITIVE_CURVATURE
    assert "positive definite" in res.message
    # Indefinite but a Krylov space that stays positive: no false alarm.
    ok = conjugate_gradient(H, X.element([1.0, 0.0, 1.0]), tol=1e-12)
    assert ok.converged


def test_zero_rhs_returns_zero(rng):
    H, _, _ = _spd(rng, n=5)
    x0 = H.domain.element(rng.standard_normal(5))
    res = conjugate_gradient(H, H.range.zero(), x0, tol=1e-8)
    assert res.converged and res.iterations == 0
    assert np.all(res.x.data == 0)


def test_warm_start_from_solution_and_x0_untouched(rng):
    H, mat, _ = _spd(rng, n=20, cond=10.0)
    b = H.range.element(rng.standard_normal(20))
    x_star = H.domain.element(np.linalg.solve(mat, b.data))
    before = x_star.data.copy()
    res = conjugate_gradient(H, b, x_star, tol=1e-8)
    assert res.converged and res.iterations == 0
    assert res.hessian_products == 1
    assert np.array_equal(x_star.data, before)
    assert not np.shares_memory(res.x.data, x_star.data)


def test_callback_stops(rng):
    H, _, _ = _spd(rng)
    b = H.range.element(rng.standard_normal(60))
    res = conjugate_gradient(H, b, tol=1e-12, callback=lambda s: s.iteration == 4)
    assert res.status is SolverStatus.STOPPED_BY_CALLBACK
    assert res.iterations == 4


def test_steppable(rng):
    H, _, _ = _spd(rng, n=10, cond=5.0)
    b = H.range.element(rng.standard_normal(10))
    solver = ConjugateGradient(H, b, tol=1e-10)
    while solver.step() is None:
        assert solver.certificate > 1e-10
    assert solver.status is SolverStatus.CONVERGED
    assert solver.iteration <= 10
    with pytest.raises(RuntimeError):
        solver.step()


def test_float32(rng):
    H, mat, _ = _spd(rng, n=30, cond=100.0, dtype="float32")
    b = H.range.element(rng.standard_normal(30).astype("float32"))
    res = conjugate_gradient(H, b, tol=1e-4)
    assert res.converged
    assert res.x.space.dtype == np.float32
    true_res = np.linalg.norm(b.data.astype(float) - mat.astype(float) @ res.x.data)
    assert true_res <= 2e-4 * np.linalg.norm(b.data)


def test_hessian_of_smoothed_tv_energy(rng):
    """The adjoint system of the hypergradient: B w = v with B the lower-level Hessian."""
    E = denoising_energy(24, rng)
    x_hat = fista(E, tol=1e-8).x
    B = E.gradient.derivative(x_hat)
    v = E.domain.element(rng.standard_normal((24, 24)))
    res = conjugate_gradient(B, v, tol=1e-8)
    assert res.converged
    r = v - B(res.x)
    assert np.linalg.norm(r.data) <= 1e-8 * np.linalg.norm(v.data) * (1 + 1e-6)
    # error bound with lambda_min(B) >= mu
    assert E.strong_convexity > 0


def test_validation_names_the_argument(rng):
    H, _, _ = _spd(rng, n=5)
    b = H.range.element(rng.standard_normal(5))
    with pytest.raises(ValueError, match="`b`"):
        conjugate_gradient(H, np.zeros(4), tol=1e-6)
    with pytest.raises(ValueError, match="`b`"):
        conjugate_gradient(H, np.full(5, np.nan), tol=1e-6)
    with pytest.raises(ValueError, match="`x0`"):
        conjugate_gradient(H, b, odl.rn(4).zero(), tol=1e-6)
    with pytest.raises(ValueError, match="`tol`"):
        conjugate_gradient(H, b, tol=-1.0)
    with pytest.raises(ValueError, match="`max_iter`"):
        conjugate_gradient(H, b, tol=1e-6, max_iter=-2)
    with pytest.raises(TypeError, match="`H`"):
        conjugate_gradient(np.eye(5), b, tol=1e-6)
    rect = odl.MatrixOperator(np.ones((3, 5)))
    with pytest.raises(ValueError, match="`H`"):
        conjugate_gradient(rect, b, tol=1e-6)
    with pytest.raises(TypeError, match="`callback`"):
        conjugate_gradient(H, b, tol=1e-6, callback="no")


def test_preconditioned_cg_solves_faster_to_the_same_tolerance(rng):
    H, mat, _ = _spd(rng, cond=1e5)
    b = H.range.element(rng.standard_normal(60))
    X = H.domain
    plain = conjugate_gradient(H, b, tol=1e-8)
    exact = odl.MatrixOperator(np.linalg.inv(mat), domain=X, range=X)
    # M = H^{-1}: one iteration; a rough M (H^{-1} of a perturbed matrix): fewer than plain
    one = conjugate_gradient(H, b, tol=1e-8, preconditioner=exact)
    assert one.converged and one.iterations <= 2
    eig, q = np.linalg.eigh(mat)  # rough: every eigenvalue off by up to a factor 2
    rough = (q / (eig * rng.uniform(0.5, 2.0, eig.size))) @ q.T
    rough = 0.5 * (rough + rough.T)
    pre = conjugate_gradient(
        H, b, tol=1e-8, preconditioner=odl.MatrixOperator(rough, domain=X, range=X)
    )
    for res in (one, pre):
        true_res = np.linalg.norm(b.data - mat @ res.x.data) / np.linalg.norm(b.data)
        assert res.converged and true_res <= 1e-8 * (1 + 1e-6)
        assert res.certificate == pytest.approx(true_res, rel=1e-6, abs=1e-15)
    assert pre.iterations < plain.iterations / 3


def test_preconditioner_must_be_positive_and_an_operator(rng):
    H, _, _ = _spd(rng)
    b = H.range.element(rng.standard_normal(60))
    X = H.domain
    negative = odl.MatrixOperator(-np.eye(60), domain=X, range=X)
    res = conjugate_gradient(H, b, tol=1e-10, preconditioner=negative)
    assert res.status is SolverStatus.NONPOSITIVE_CURVATURE and "preconditioner" in res.message
    with pytest.raises(TypeError, match="preconditioner"):
        conjugate_gradient(H, b, tol=1e-6, preconditioner=np.eye(60))
    with pytest.raises(TypeError, match="preconditioner"):
        conjugate_gradient(H, b, tol=1e-6, preconditioner=odl.IdentityOperator(odl.rn(3)))


def test_a_warm_start_worse_than_zero_is_dropped(rng):
    H, mat, _ = _spd(rng)
    b = H.range.element(rng.standard_normal(60))
    far = H.domain.element(1e3 * rng.standard_normal(60))  # residual >> |b|
    cold = conjugate_gradient(H, b, tol=1e-8)
    warm = conjugate_gradient(H, b, far, tol=1e-8)
    assert warm.iterations == cold.iterations
    np.testing.assert_allclose(warm.x.data, cold.x.data, rtol=1e-10, atol=1e-14)
    near = H.domain.element(cold.x.data + 1e-6)  # a good warm start is kept
    assert conjugate_gradient(H, b, near, tol=1e-8).iterations < cold.iterations
