"""Gradient descent and FISTA: certificates, statuses, warm starts, validation."""

import dataclasses

import numpy as np
import odl
import pytest
from solver_problems import DiagonalQuadratic, denoising_energy, quadratic_energy

from odl_bilevel.functionals import Tikhonov
from odl_bilevel.operators import unit_cell_space
from odl_bilevel.solvers import (
    FISTA,
    GradientDescent,
    SolverResult,
    SolverStatus,
    fista,
    gradient_descent,
)

SOLVERS = [
    pytest.param(gradient_descent, GradientDescent, id="gd"),
    pytest.param(fista, FISTA, id="fista"),
]


def _err(x, x_ref):
    return float(np.linalg.norm(x.data - x_ref.data))


def _ill_conditioned(rng, n=200, kappa=1e3):
    X = odl.rn(n)
    diag = np.geomspace(1.0, kappa, n)
    rng.shuffle(diag)
    return DiagonalQuadratic(X, diag, rng.standard_normal(n))


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
@pytest.mark.parametrize("xi", [0.1, 2.0])
def test_quadratic_closed_form(solve, cls, xi, rng):
    X = unit_cell_space((8, 8))
    y = X.element(rng.standard_normal((8, 8)))
    E = quadratic_energy(X, y, xi)
    res = solve(E, tol=1e-10)
    assert isinstance(res, SolverResult)
    assert res.converged and res.status is SolverStatus.CONVERGED
    x_hat = y.data / (1 + xi)
    err = float(np.linalg.norm(res.x.data - x_hat))
    assert err <= res.certificate + 1e-14
    assert res.certificate <= 1e-10
    # kappa = 1: one step of either method is exact
    assert res.iterations <= 1
    assert res.solver == cls.name


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
def test_certificate_bounds_error_every_iteration(solve, cls, rng):
    E = _ill_conditioned(rng, kappa=1e2)
    x_hat = E.minimiser
    pairs = []

    def record(solver):
        pairs.append((_err(solver.x, x_hat), solver.certificate))

    res = solve(E, tol=1e-8, callback=record)
    assert res.converged
    assert len(pairs) == res.iterations
    for err, cert in pairs:
        assert err <= cert * (1 + 1e-10)
    assert _err(res.x, x_hat) <= res.certificate
    assert res.history[-1] == res.certificate
    assert len(res.history) == res.iterations + 1
    assert res.gradient_evaluations == res.iterations + 1


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
def test_certificate_bounds_error_smoothed_tv(solve, cls, rng):
    E = denoising_energy(32, rng)
    ref = fista(E, tol=1e-11)
    assert ref.converged
    for tol in (1e-2, 1e-4):
        res = solve(E, tol=tol)
        assert res.converged and res.certificate <= tol
        assert _err(res.x, ref.x) <= res.certificate + ref.certificate


def test_fista_beats_gd_when_ill_conditioned(rng):
    E = _ill_conditioned(rng, kappa=1e3)
    gd = gradient_descent(E, tol=1e-6, max_iter=50_000)
    fi = fista(E, tol=1e-6)
    assert gd.converged and fi.converged
    assert fi.iterations * 5 < gd.iterations


def test_fista_beats_gd_on_smoothed_tv(rng):
    E = denoising_energy(32, rng, nu=0.01)
    gd = gradient_descent(E, tol=1e-6)
    fi = fista(E, tol=1e-6)
    assert gd.converged and fi.converged
    assert fi.iterations * 2 < gd.iterations


@pytest.mark.parametrize("momentum", ["constant", "nesterov", "restart"])
def test_every_momentum_rule_certifies(momentum, rng):
    E = _ill_conditioned(rng, kappa=1e2)
    res = fista(E, tol=1e-8, momentum=momentum)
    assert res.converged
    assert _err(res.x, E.minimiser) <= res.certificate <= 1e-8


def test_restart_adapts_to_a_pessimistic_mu(rng):
    # true modulus 1, certified mu 100 times smaller: the constant momentum is tuned to mu
    # and slow; the restarted one follows the true conditioning
    E = _ill_conditioned(rng, kappa=1e2)
    constant = fista(E, tol=1e-6, mu=1e-2, momentum="constant")
    restart = fista(E, tol=1e-6, mu=1e-2, momentum="restart")
    assert constant.converged and restart.converged
    assert _err(restart.x, E.minimiser) <= restart.certificate
    assert 2 * restart.iterations < constant.iterations


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
def test_max_iter_status(solve, cls, rng):
    E = _ill_conditioned(rng)
    res = solve(E, tol=1e-12, max_iter=3)
    assert res.status is SolverStatus.MAX_ITER
    assert not res.converged
    assert res.iterations == 3
    assert res.certificate > 1e-12
    assert "max_iter" in res.message


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
def test_fixed_iteration_mode(solve, cls, rng):
    E = _ill_conditioned(rng)
    res = solve(E, tol=0.0, max_iter=17)
    assert res.status is SolverStatus.MAX_ITER
    assert res.iterations == 17
    assert res.gradient_evaluations == 18
    assert np.isfinite(res.certificate)


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
def test_warm_start_from_solution(solve, cls, rng):
    E = denoising_energy(16, rng)
    ref = fista(E, tol=1e-10)
    res = solve(E, ref.x, tol=1e-6)
    assert res.converged
    assert res.iterations <= 1


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
def test_x0_not_modified_nor_aliased(solve, cls, rng):
    E = _ill_conditioned(rng, n=20)
    x0 = E.domain.element(rng.standard_normal(20))
    before = x0.data.copy()
    res = solve(E, x0, tol=1e-8)
    assert np.array_equal(x0.data, before)
    assert not np.shares_memory(res.x.data, x0.data)


def test_x0_as_array_and_default_zero(rng):
    E = _ill_conditioned(rng, n=20)
    arr = rng.standard_normal(20)
    res = fista(E, arr, tol=1e-8)
    assert res.converged
    assert np.linalg.norm(E.gradient(E.domain.zero()).data) / E.strong_convexity == pytest.approx(
        FISTA(E, tol=1e-8).certificate
    )


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
def test_callback_stops(solve, cls, rng):
    E = _ill_conditioned(rng)
    seen = []

    def stop_at_five(solver):
        seen.append(solver.iteration)
        return solver.iteration >= 5

    res = solve(E, tol=1e-12, callback=stop_at_five)
    assert res.status is SolverStatus.STOPPED_BY_CALLBACK
    assert res.iterations == 5
    assert seen == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
def test_nonfinite_status_when_step_too_long(solve, cls, rng):
    E = _ill_conditioned(rng, n=20, kappa=1e3)
    with np.errstate(all="ignore"):
        res = solve(E, tol=1e-8, L=1.0, mu=1.0, max_iter=5000)
    assert res.status is SolverStatus.NONFINITE
    assert not res.converged


def test_steppable_interface(rng):
    E = _ill_conditioned(rng, n=20, kappa=10.0)
    solver = GradientDescent(E, tol=1e-6)
    assert solver.status is None
    assert solver.step_size == pytest.approx(2 / (10.0 + 1.0))
    statuses = []
    while solver.status is None:
        statuses.append(solver.step())
    assert statuses[-1] is SolverStatus.CONVERGED
    assert all(s is None for s in statuses[:-1])
    with pytest.raises(RuntimeError, match="already stopped"):
        solver.step()
    res = solver.result()
    assert res.iterations == solver.iteration == len(statuses)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.iterations = 0


def test_result_is_a_copy(rng):
    E = _ill_conditioned(rng, n=20, kappa=10.0)
    solver = FISTA(E, tol=1e-6)
    res = solver.run()
    assert not np.shares_memory(res.x.data, solver.x.data)
    assert solver.momentum == "restart"
    assert solver.lipschitz == 10.0 and solver.strong_convexity == 1.0


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
def test_float32(solve, cls, rng):
    E = denoising_energy(16, rng, dtype="float32")
    res = solve(E, tol=1e-4)
    assert res.converged
    assert res.x.space.dtype == np.float32
    assert res.certificate <= 1e-4


def test_float32_agrees_with_float64():
    E32 = denoising_energy(16, np.random.default_rng(1), dtype="float32")
    E64 = denoising_energy(16, np.random.default_rng(1))
    r32 = fista(E32, tol=1e-4)
    r64 = fista(E64, tol=1e-9)
    assert np.linalg.norm(r32.x.data - r64.x.data) <= 1e-4 + 1e-9 + 1e-5


def test_product_space_fallback():
    P = odl.ProductSpace(odl.rn(3), 2)
    y = P.element([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    E = 0.5 * odl.functionals.L2NormSquared(P).translated(y) + 0.5 * odl.functionals.L2NormSquared(
        P
    )
    for solve in (gradient_descent, fista):
        res = solve(E, tol=1e-10, mu=2.0)
        assert res.converged
        for part, y_part in zip(res.x, y, strict=True):
            assert np.allclose(part.data, y_part.data / 2)


# -- validation -------------------------------------------------------------------------


@pytest.mark.parametrize(("solve", "cls"), SOLVERS)
def test_validation_names_the_argument(solve, cls, rng):
    X = unit_cell_space((4, 4))
    E = quadratic_energy(X, X.one(), 0.5)
    with pytest.raises(ValueError, match="`mu`"):
        solve(E, tol=1e-6, mu=0.0)
    with pytest.raises(ValueError, match="`mu`"):
        solve(E, tol=1e-6, mu=-1.0)
    with pytest.raises(ValueError, match="`mu`"):
        solve(Tikhonov(X, xi=0.0), tol=1e-6, L=1.0)
    with pytest.raises(ValueError, match="`mu`"):
        solve(E, tol=1e-6, mu=10.0)  # mu > L
    with pytest.raises(ValueError, match="`L`"):
        solve(0.5 * odl.functionals.L2NormSquared(X), tol=1e-6, mu=1.0, L=-1.0)
    with pytest.raises(ValueError, match="`mu`"):
        solve(0.5 * odl.functionals.L2NormSquared(X), tol=1e-6)  # no strong_convexity
    with pytest.raises(ValueError, match="`x0`"):
        solve(E, unit_cell_space((4, 5)).zero(), tol=1e-6)
    with pytest.raises(ValueError, match="`x0`"):
        solve(E, unit_cell_space((4, 4), dtype="float32").zero(), tol=1e-6)
    with pytest.raises(ValueError, match="`x0`"):
        solve(E, np.full((4, 4), np.nan), tol=1e-6)
    with pytest.raises(ValueError, match="`x0`"):
        solve(E, np.zeros(3), tol=1e-6)
    with pytest.raises(ValueError, match="`tol`"):
        solve(E, tol=-1.0)
    with pytest.raises(ValueError, match="`max_iter`"):
        solve(E, tol=1e-6, max_iter=-1)
    with pytest.raises(TypeError, match="`max_iter`"):
        solve(E, tol=1e-6, max_iter=2.5)
    with pytest.raises(TypeError, match="`callback`"):
        solve(E, tol=1e-6, callback=3)
    with pytest.raises(TypeError, match="`E`"):
        solve(object(), tol=1e-6)
    with pytest.raises(TypeError):
        solve(E, None, 1e-6)  # tol is keyword-only


def test_fista_momentum_validation():
    X = unit_cell_space((4, 4))
    with pytest.raises(ValueError, match="`momentum`"):
        fista(quadratic_energy(X, X.one(), 0.5), tol=1e-6, momentum="heavy-ball")


def test_l_unknown_raises():
    X = unit_cell_space((4, 4))

    class NoLipschitz(odl.functionals.Functional):
        """Gradient without a Lipschitz constant."""

        strong_convexity = 1.0

        def __init__(self):
            super().__init__(X, linear=False)

        @property
        def gradient(self):
            return odl.IdentityOperator(X)

    with pytest.raises(ValueError, match="`L`"):
        gradient_descent(NoLipschitz(), tol=1e-6)
    assert gradient_descent(NoLipschitz(), tol=1e-6, L=1.0).converged
