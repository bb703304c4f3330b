"""DFO engine on smooth least-squares test functions: exact and noisy-but-bounded evaluations.

Rosenbrock as residuals and linear least squares, with bounds inactive and active; every
accuracy rule; the reported bound |f - f~| holds for every evaluation; points stay feasible.
"""

import numpy as np
import pytest
from scipy.optimize import lsq_linear
from test_dfo_fakes import LeastSquaresFake, linear, rosenbrock

from odl_bilevel.upper import DFOResult, EvaluationRecord, UpperResult, UpperStatus, dfo

MODES = [
    ("dynamic", {}),
    ("fixed_tol", {"fixed_tol": 1e-9}),
    ("fixed_iterations", {"fixed_iterations": 400}),
]


def _check_bounds_hold(fake, res):
    """Every evaluation's value is within its reported bound of the exact value."""
    assert len(res.evaluations) == len(fake.calls)
    for rec in res.evaluations:
        exact = fake.true_value(rec.phi)
        assert abs(rec.objective - exact) <= rec.error_bound * (1 + 1e-9) + 1e-14, rec


def _check_records(res, max_evals):
    assert isinstance(res, DFOResult) and isinstance(res, UpperResult)
    assert res.engine == "dfo" and res.message
    assert [r.iteration for r in res.history] == list(range(len(res.history)))
    assert [e.index for e in res.evaluations] == list(range(len(res.evaluations)))
    assert all(isinstance(e, EvaluationRecord) for e in res.evaluations)
    assert len(res.evaluations) <= max_evals
    work = [e.lower_iterations for e in res.evaluations]
    assert work == sorted(work)
    hist = [h.work["lower_iterations"] for h in res.history]
    assert hist == sorted(hist) and res.work["lower_iterations"] == work[-1]
    assert res.objective == res.history[-1].objective
    # the iterate's objective never increases by more than its error bounds
    for a, b in zip(res.history, res.history[1:], strict=False):
        assert b.objective <= a.objective + a.error_bound + b.error_bound + 1e-14


@pytest.mark.parametrize(("accuracy", "options"), MODES)
def test_rosenbrock_exact(accuracy, options):
    fake = LeastSquaresFake(rosenbrock, 2)
    res = dfo(fake, [-1.2, 1.0], accuracy=accuracy, max_evals=200, **options)
    assert res.status is UpperStatus.CONVERGED, res.message
    np.testing.assert_allclose(res.phi, [1.0, 1.0], atol=1e-6)
    assert res.objective < 1e-12
    assert res.history[-1].gradient_norm < 1e-5
    _check_records(res, 200)


@pytest.mark.parametrize("noise", [1.0, 50.0])
def test_rosenbrock_noisy_dynamic_converges_and_bounds_hold(noise):
    fake = LeastSquaresFake(rosenbrock, 2, noise=noise)
    res = dfo(fake, [-1.2, 1.0], max_evals=300)
    assert res.status is UpperStatus.CONVERGED, res.message
    np.testing.assert_allclose(res.phi, [1.0, 1.0], atol=1e-5)
    _check_bounds_hold(fake, res)
    _check_records(res, 300)
    # the accuracy follows the step: coarse at first, fine at the end
    tols = [e.lower_tol for e in res.evaluations]
    assert tols[0] == pytest.approx(1e-1) and min(tols) < 1e-6
    # the reported per-iteration bound is the iterate's evaluation bound
    for rec in res.history:
        assert abs(rec.objective - fake.true_value(rec.phi)) <= rec.error_bound + 1e-14


@pytest.mark.parametrize(("accuracy", "options"), MODES[1:])
def test_rosenbrock_noisy_fixed_modes(accuracy, options):
    fake = LeastSquaresFake(rosenbrock, 2, noise=1.0)
    res = dfo(fake, [-1.2, 1.0], accuracy=accuracy, max_evals=200, **options)
    np.testing.assert_allclose(res.phi, [1.0, 1.0], atol=1e-3)
    _check_bounds_hold(fake, res)
    calls = {(c[1], c[2]) for c in fake.calls}
    if accuracy == "fixed_tol":
        assert calls == {(1e-9, None)}
        assert {e.lower_tol for e in res.evaluations} == {1e-9}
    else:
        assert len(calls) == 1 and next(iter(calls))[1] == 400 and next(iter(calls))[0] < 1e-300
        assert {e.lower_tol for e in res.evaluations} == {0.0}


def _linear_problem(rng, m=9, q=4):
    A = rng.standard_normal((m, q))
    b = rng.standard_normal(m)
    return A, b


@pytest.mark.parametrize("noise", [0.0, 1.0])
def test_linear_least_squares_without_active_bounds(rng, noise):
    A, b = _linear_problem(rng)
    x_star = np.linalg.lstsq(A, b, rcond=None)[0]
    bounds = [(v - 5.0, v + 5.0) for v in x_star]
    fake = LeastSquaresFake(linear(A, b), 4, bounds=bounds, noise=noise)
    res = dfo(fake, np.zeros(4) if np.all(np.abs(x_star) < 4.5) else x_star + 1.0, max_evals=150)
    f_star = float(np.sum((A @ x_star - b) ** 2))
    np.testing.assert_allclose(res.phi, x_star, atol=1e-5)
    assert fake.true_value(res.phi) == pytest.approx(f_star, rel=1e-9)
    if noise:
        _check_bounds_hold(fake, res)


@pytest.mark.parametrize("noise", [0.0, 1.0])
def test_linear_least_squares_with_active_bounds(rng, noise):
    A, b = _linear_problem(rng)
    x_free = np.linalg.lstsq(A, b, rcond=None)[0]
    # box that cuts the unconstrained solution off in two coordinates
    lo = np.where(np.arange(4) == 0, x_free[0] + 0.3, x_free - 2.0)
    hi = np.where(np.arange(4) == 1, x_free[1] - 0.3, x_free + 2.0)
    ref = lsq_linear(A, b, bounds=(lo, hi), tol=1e-14)
    fake = LeastSquaresFake(linear(A, b), 4, bounds=list(zip(lo, hi, strict=True)), noise=noise)
    res = dfo(fake, 0.5 * (lo + hi), max_evals=200)
    np.testing.assert_allclose(res.phi, ref.x, atol=1e-5)
    assert res.phi[0] == pytest.approx(lo[0]) and res.phi[1] == pytest.approx(hi[1])
    for phi, *_ in fake.calls:  # every evaluated point is feasible
        assert np.all(phi >= lo) and np.all(phi <= hi)
    # the recorded model gradient is projected onto the bounds: small at the solution
    assert res.history[-1].gradient_norm < 1e-4


def test_penalty_enters_as_exact_residual():
    # f = |phi - 1|^2 + J(phi), J = 4 phi_0^2: optimum phi = (0.2, 1)
    fake = LeastSquaresFake(lambda p: p - 1.0, 2, penalty=lambda p: 4.0 * p[0] ** 2)
    res = dfo(fake, [0.0, 0.0], max_evals=100)
    np.testing.assert_allclose(res.phi, [0.2, 1.0], atol=1e-6)
    assert res.objective == pytest.approx(0.8, rel=1e-9)


def test_budgets_stop_the_run():
    fake = LeastSquaresFake(rosenbrock, 2)
    res = dfo(fake, [-1.2, 1.0], max_evals=12)
    assert res.status is UpperStatus.MAX_ITER and "max_evals" in res.message
    assert len(fake.calls) == 12 == len(res.evaluations)
    res = dfo(LeastSquaresFake(rosenbrock, 2), [-1.2, 1.0], max_iter=3)
    assert res.status is UpperStatus.MAX_ITER and "max_iter" in res.message
    assert res.iterations == 3


def test_callback_stops_the_run():
    seen = []

    def callback(record):
        seen.append(record.iteration)
        return record.iteration == 2

    res = dfo(LeastSquaresFake(rosenbrock, 2), [-1.2, 1.0], callback=callback)
    assert res.status is UpperStatus.STOPPED_BY_CALLBACK
    assert seen == [0, 1, 2] and res.iterations == 2
