"""Preconditioned FISTA: the metric of a Fourier majorant, certificates, choice and validation."""

import numpy as np
import odl
import pytest
from solver_problems import DiagonalQuadratic, denoising_energy

from odl_bilevel.functionals import ParametrisedSum, SampledDataFit, SmoothedTV, Tikhonov
from odl_bilevel.operators import FourierMultiplier, unit_cell_space
from odl_bilevel.solvers import FISTA, fista

SHAPE = (48, 48)


def _phantom():
    x = np.zeros(SHAPE)
    x[8:40, 10:38] = 0.5
    x[16:30, 18:30] = 1.0
    return x


def _mri_energy(rng, density=0.25, alpha=3e-4, nu=1e-2, xi=1e-2):
    X = unit_cell_space(SHAPE)
    y = np.fft.fft2(_phantom(), norm="ortho") + 0.003 * (
        rng.standard_normal(SHAPE) + 1j * rng.standard_normal(SHAPE)
    )
    r = np.hypot(*np.meshgrid(np.fft.fftfreq(SHAPE[0]), np.fft.fftfreq(SHAPE[1]), indexing="ij"))
    s = (rng.uniform(size=SHAPE) < np.clip(1.5 * density * (1 - 2 * r) ** 2, 0, 1)).astype(float)
    s[0, 0] = 1.0
    return ParametrisedSum(
        SampledDataFit(X, y, np.maximum(s, 1e-3).ravel()),
        SmoothedTV(X, alpha=alpha, nu=nu),
        Tikhonov(X, alpha * xi),
    )


def test_auto_preconditions_mri_energies_and_certifies(rng):
    E = _mri_energy(rng)
    ref = fista(E, tol=1e-9, max_iter=100_000, preconditioner=None)
    plain = FISTA(E, tol=1e-5, max_iter=100_000, preconditioner=None)
    auto = FISTA(E, tol=1e-5, max_iter=100_000)
    assert plain.preconditioner is None
    assert isinstance(auto.preconditioner, FourierMultiplier)
    assert auto.lipschitz == 1.0  # in the metric of the majorant
    r_plain, r_auto = plain.run(), auto.run()
    assert ref.converged and r_plain.converged and r_auto.converged
    for res in (r_plain, r_auto):  # the certificate bounds the error either way
        err = float(np.linalg.norm(res.x.data - ref.x.data))
        assert err <= res.certificate + ref.certificate
    assert 3 * r_auto.iterations < r_plain.iterations


def test_preconditioned_iterates_decrease_the_energy_from_zero(rng):
    # step 1 in the metric of a majorant: x_1 = -M^{-1} grad E(0) decreases E
    E = _mri_energy(rng)
    solver = FISTA(E, tol=0.0, max_iter=5)
    values = [float(E(solver.x))]
    while solver.step() is None:
        values.append(float(E(solver.x)))
    assert values[1] < values[0] and min(values) < values[0]


def test_energies_without_majorant_run_plain(rng):
    E = denoising_energy(16, rng)  # L2DataFit: no Fourier majorant
    solver = FISTA(E, tol=1e-6)
    assert solver.preconditioner is None and solver.lipschitz == pytest.approx(E.grad_lipschitz)
    X = unit_cell_space((8, 8))
    quad = DiagonalQuadratic(X, np.linspace(1.0, 10.0, 64).reshape(8, 8), np.ones((8, 8)))
    assert FISTA(quad, tol=1e-6).preconditioner is None  # no fourier_majorant at all


def test_constant_momentum_runs_plain_with_auto(rng):
    E = _mri_energy(rng)
    assert FISTA(E, tol=1e-4, momentum="constant").preconditioner is None
    with pytest.raises(ValueError, match="momentum"):
        FISTA(E, tol=1e-4, momentum="constant", preconditioner=E.majorant_preconditioner())


def test_explicit_preconditioner_and_lipschitz_in_its_metric(rng):
    # E = 1/2 <x, D x> - <b, x> with D = Re F^H diag(d) F: M = D makes one step exact
    X = unit_cell_space((8, 8))
    d = np.full((8, 8), 1.0)
    d[1, 2] = d[-1, -2] = 50.0
    d[3, 0] = d[-3, 0] = 0.02
    D = FourierMultiplier(X, d)
    b = X.element(rng.standard_normal((8, 8)))
    E = _Quadratic(D, b)
    mu, x_hat = 0.02, FourierMultiplier(X, 1.0 / d)(b)
    exact = fista(E, tol=1e-10, mu=mu, preconditioner=FourierMultiplier(X, 1.0 / d))
    assert exact.converged and exact.iterations == 1
    assert float(np.linalg.norm(exact.x.data - x_hat.data)) <= 1e-10
    # M = D / 2 underestimates the curvature by 2: L = 2 in its metric keeps it convergent
    half = FourierMultiplier(X, 2.0 / d)
    res = fista(E, tol=1e-8, mu=mu, L=2.0, preconditioner=half)
    assert res.converged and float(np.linalg.norm(res.x.data - x_hat.data)) <= res.certificate
    # mu above the metric's L = 1 is no error (different norms)
    assert fista(E, tol=1e-8, mu=mu * 100, preconditioner=FourierMultiplier(X, 1.0 / d)).converged


class _Quadratic(odl.functionals.Functional):
    """E(x) = <x, Dx> / 2 - <b, x> for a symmetric linear D."""

    def __init__(self, D, b):
        super().__init__(D.domain, linear=False, grad_lipschitz=float(np.abs(D.symbol).max()))
        self._D, self._b = D, b

    def _call(self, x):
        return 0.5 * x.inner(self._D(x)) - x.inner(self._b)

    @property
    def gradient(self):
        return self._D - odl.ConstantOperator(self._b, domain=self.domain)


@pytest.mark.parametrize(
    ("preconditioner", "error", "match"),
    [
        ("diagonal", ValueError, "'auto', None or an operator"),
        (3.0, TypeError, "odl.Operator"),
        (odl.ScalingOperator(unit_cell_space((4, 4)), 1.0), ValueError, "E.domain"),
    ],
)
def test_preconditioner_validation(preconditioner, error, match, rng):
    E = _mri_energy(rng)
    with pytest.raises(error, match=match):
        FISTA(E, tol=1e-4, preconditioner=preconditioner)
