"""Item 4: upper losses given by values only (1 - SSIM, -PSNR, mean absolute error) with DFO.

The losses are written with numpy here (the bilevel layer never imports the metrics leaf) and
wrapped in NonsmoothLoss, whose residual sqrt(l - c) gives the least-squares form.
"""

import math

import numpy as np
import odl
import pytest

from odl_bilevel.bilevel import BilevelProblem, NonsmoothLoss
from odl_bilevel.datasets import piecewise_constant_signals
from odl_bilevel.problems import denoising_phi, denoising_problem
from odl_bilevel.upper import UpperStatus, dfo

LENGTH, SAMPLES = 32, 2


def one_minus_ssim(x, target):
    """1 - global SSIM of two signals with data range 1 (no window)."""
    a, b = x.asarray().ravel(), target.asarray().ravel()
    c1, c2 = 0.01**2, 0.03**2
    ma, mb = a.mean(), b.mean()
    va, vb = a.var(), b.var()
    cov = np.mean((a - ma) * (b - mb))
    ssim = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
    return 1.0 - float(ssim)


def negative_psnr(x, target):
    """-PSNR in dB for peak 1; at least -100 while the MSE stays above 1e-10."""
    mse = float(np.mean((x.asarray() - target.asarray()) ** 2))
    return 10.0 * math.log10(max(mse, 1e-10))


def mean_absolute_error(x, target):
    """(1/N) |x - t|_1: Lipschitz with constant 1/sqrt(N), not differentiable at 0."""
    return float(np.mean(np.abs(x.asarray() - target.asarray())))


def _problem(loss):
    rng = np.random.default_rng(5)
    clean = np.asarray(piecewise_constant_signals(SAMPLES, LENGTH, rng=5))
    noisy = clean + 0.1 * rng.standard_normal(clean.shape)
    base = denoising_problem(clean, noisy, learn=("alpha", "nu"))
    problem = BilevelProblem(base.energies, base.targets, parameter_map=base.parameter_map,
                             loss=loss)
    return problem, denoising_phi(base)


@pytest.mark.parametrize(
    ("value", "lower_bound"), [(one_minus_ssim, 0.0), (negative_psnr, -100.0)]
)
def test_dfo_learns_with_a_loss_without_error_bound(value, lower_bound):
    problem, phi0 = _problem(NonsmoothLoss(value, lower_bound=lower_bound))
    res = dfo(problem, phi0, max_evals=25)
    assert res.status in (UpperStatus.MAX_ITER, UpperStatus.CONVERGED)
    assert res.objective < res.history[0].objective  # it learns
    # values are mean(l - c): compare with the loss itself at the learned point
    x = problem.solve(res.phi, tol=1e-10).x
    mean_loss = np.mean([value(xi, t) for xi, t in zip(x, problem.targets, strict=True)])
    assert res.objective + lower_bound == pytest.approx(mean_loss, rel=1e-4, abs=1e-6)
    # no certified bound: reported as inf, and the nominal schedule still varies the accuracy
    assert all(math.isinf(e.error_bound) for e in res.evaluations)
    assert len({e.lower_tol for e in res.evaluations}) > 3
    with pytest.raises(ValueError, match="`loss`"):
        problem.value_and_gradient(phi0)


def test_lipschitz_nonsmooth_loss_gives_bounds_that_hold():
    loss = NonsmoothLoss(mean_absolute_error, value_lipschitz=1.0 / math.sqrt(LENGTH))
    problem, phi0 = _problem(loss)
    res = dfo(problem, phi0, max_evals=20)
    assert res.objective < res.history[0].objective
    exact, _ = _problem(loss)
    for rec in res.evaluations:
        value = exact.objective(rec.phi, tol=1e-11, warm_start=False)
        assert np.isfinite(rec.error_bound)
        assert abs(rec.objective - value.value) <= rec.error_bound + 1e-12
        # the objective's own bound L * eps is finite too
        assert np.isfinite(value.error_bound)


def test_nonsmooth_loss_residual_form_and_validation():
    X = odl.rn(4)
    loss = NonsmoothLoss(mean_absolute_error, value_lipschitz=0.5)
    x, t = X.element([1.0, -1.0, 0.5, 0.0]), X.zero()
    assert loss(x, t) == pytest.approx(0.625)
    np.testing.assert_allclose(loss.residual(x, t), [math.sqrt(0.625)])
    assert loss.residual_error_bound(x, t, 0.0) == 0.0
    assert loss.residual_error_bound(x, t, np.inf) == math.inf
    assert loss.residual_error_bound(x, t, 1e-2) == pytest.approx(0.005 / math.sqrt(0.625))
    assert loss.error_bound(x, t, 1e-2) == pytest.approx(0.005)
    assert math.isnan(loss.lipschitz) and not loss.differentiable
    with pytest.raises(NotImplementedError, match="derivative-free"):
        loss.gradient(x, t)
    unbounded = NonsmoothLoss(mean_absolute_error)
    assert unbounded.error_bound(x, t, 1e-3) == math.inf
    shifted = NonsmoothLoss(mean_absolute_error, lower_bound=1.0)
    with pytest.raises(ValueError, match="lower_bound"):
        shifted.residual(x, t)
    with pytest.raises(TypeError, match="`value`"):
        NonsmoothLoss(3.0)
    with pytest.raises(ValueError, match="`value_lipschitz`"):
        NonsmoothLoss(mean_absolute_error, value_lipschitz=-1.0)
    with pytest.raises(ValueError, match="`lower_bound`"):
        NonsmoothLoss(mean_absolute_error, lower_bound=np.inf)
