"""PDHG in chunks: gap stop, exact resumption, warm starts, validation."""

import math

import numpy as np
import odl
import pytest
from solver_problems import phantom

from odl_bilevel.functionals import tgv_pdhg_form, tv_pdhg_form
from odl_bilevel.operators import unit_cell_space
from odl_bilevel.solvers import PDHG, SolverStatus, pdhg_solve


def _tv_denoising(shape, rng, alpha=0.1):
    X = unit_cell_space(shape)
    if len(shape) == 1:
        data = np.repeat([0.0, 1.0, 0.3, 0.8], shape[0] // 4) + 0.1 * rng.standard_normal(shape)
    else:
        data = phantom(shape[0], rng)
    y = X.element(data)
    return tv_pdhg_form(0.5 * odl.functionals.L2NormSquared(X).translated(y), alpha)


@pytest.mark.parametrize("shape", [(64,), (12, 12)])
def test_gap_bounds_distance_to_reference(shape, rng):
    """P is 1-strongly convex, so ||x - x_hat|| <= sqrt(2 G)."""
    form = _tv_denoising(shape, rng)
    ref_tol = 1e-9 if len(shape) == 1 else 1e-6
    ref = pdhg_solve(form, tol=ref_tol, max_iter=20_000)
    assert ref.converged and ref.certificate <= ref_tol
    for tol in (1e-2, 1e-4):
        res = pdhg_solve(form, tol=tol)
        assert res.converged
        assert 0 <= res.certificate <= tol
        dist = float(np.linalg.norm(res.x.data - ref.x.data))
        assert dist <= math.sqrt(2 * res.certificate) + math.sqrt(2 * ref.certificate)
    assert ref.history[-1] < ref.history[0]
    assert ref.iterations % 50 == 0
    assert ref.operator_applications == 2 * ref.iterations + 2 * len(ref.history)


def test_chunks_resume_exactly(rng):
    form = _tv_denoising((10, 10), rng)
    tau, sigma = form.step_sizes()
    z = form.domain.zero()
    odl.solvers.pdhg(z, form.f, form.g, form.L, 60, tau=tau, sigma=sigma)
    res = pdhg_solve(form, tol=0.0, max_iter=60, chunk=7)
    assert res.status is SolverStatus.MAX_ITER and res.iterations == 60
    assert np.array_equal(res.x.data, z.data)


def test_accelerated_chunks_resume_exactly(rng):
    form = _tv_denoising((10, 10), rng)
    tau, sigma = form.step_sizes()
    z = form.domain.zero()
    odl.solvers.pdhg(z, form.f, form.g, form.L, 40, tau=tau, sigma=sigma, gamma_primal=1.0)
    solver = PDHG(form, tol=0.0, max_iter=40, chunk=9, gamma=1.0)
    res = solver.run()
    assert np.allclose(res.x.data, z.data, rtol=0, atol=1e-13)
    assert solver.step_sizes[0] < tau


def test_warm_start_from_saddle_point(rng):
    form = _tv_denoising((64,), rng)
    ref = pdhg_solve(form, tol=1e-9)
    x0 = ref.x.copy()
    res = pdhg_solve(form, x0, y0=ref.y, tol=1e-8)
    assert res.converged and res.iterations == 0
    assert np.array_equal(x0.data, ref.x.data)


def test_max_iter_and_callback(rng):
    form = _tv_denoising((12, 12), rng)
    res = pdhg_solve(form, tol=1e-12, max_iter=30, chunk=20)
    assert res.status is SolverStatus.MAX_ITER and res.iterations == 30
    assert len(res.history) == 3  # start, after 20, after 30
    stopped = pdhg_solve(form, tol=1e-12, chunk=10, callback=lambda s: s.iteration >= 20)
    assert stopped.status is SolverStatus.STOPPED_BY_CALLBACK and stopped.iterations == 20


def test_relative_gap(rng):
    form = _tv_denoising((64,), rng)
    res = pdhg_solve(form, tol=1e-4, relative=True)
    assert res.converged
    primal = form.primal_objective(res.x)
    gap = primal - form.dual_objective(res.y)
    assert gap <= 1e-4 * abs(primal) * (1 + 1e-9)
    assert res.certificate == pytest.approx(gap / abs(primal))


def test_tgv_form_runs(rng):
    X = unit_cell_space((8, 8))
    y = X.element(phantom(8, rng))
    form = tgv_pdhg_form(0.5 * odl.functionals.L2NormSquared(X).translated(y), 0.1, 0.2)
    res = pdhg_solve(form, tol=0.0, max_iter=200)
    assert res.history[-1] < 0.1 * res.history[0]
    assert form.image(res.x).space == X


def test_validation_names_the_argument(rng):
    form = _tv_denoising((16,), rng)
    with pytest.raises(TypeError, match="`form`"):
        pdhg_solve("form", tol=1e-3)
    with pytest.raises(ValueError, match="`tau`"):
        pdhg_solve(form, tol=1e-3, tau=1.0, sigma=1.0)
    with pytest.raises(ValueError, match="`tau`"):
        pdhg_solve(form, tol=1e-3, tau=-1.0)
    with pytest.raises(ValueError, match="`sigma`"):
        pdhg_solve(form, tol=1e-3, sigma=0.0)
    with pytest.raises(ValueError, match="`chunk`"):
        pdhg_solve(form, tol=1e-3, chunk=0)
    with pytest.raises(ValueError, match="`tol`"):
        pdhg_solve(form, tol=-1e-3)
    with pytest.raises(ValueError, match="`x0`"):
        pdhg_solve(form, np.zeros(5), tol=1e-3)
    with pytest.raises(ValueError, match="`y0`"):
        pdhg_solve(form, y0=form.domain.zero(), tol=1e-3)
    with pytest.raises(ValueError, match="`gamma`"):
        pdhg_solve(form, tol=1e-3, gamma=0.0)
    tau, sigma = PDHG(form, tol=1e-3, tau=0.1, max_iter=0).step_sizes
    assert tau == 0.1 and tau * sigma * form.norm_bound < 1
