"""BilevelProblem on lower levels with closed forms, warm starts, ledger, accuracy, validation."""

import concurrent.futures

import numpy as np
import odl
import pytest
from bilevel_fixtures import QuadraticCase, tv_problem

from odl_bilevel.bilevel import BilevelProblem, L1Penalty, ParameterMap, SquaredError, UpperLoss
from odl_bilevel.functionals import L2DataFit, ParametrisedSum, SmoothedTV, Tikhonov
from odl_bilevel.hypergradients import finite_difference_gradient
from odl_bilevel.operators import unit_cell_space
from odl_bilevel.solvers import SolverStatus, WorkLedger


@pytest.mark.parametrize("xi", [0.1, 1.0, 4.0])
def test_quadratic_objective_is_exact(rng, xi):
    case = QuadraticCase(rng)
    res = case.problem.objective([np.log(xi)])
    assert res.status is SolverStatus.CONVERGED and res.solves.all_converged
    assert res.value == pytest.approx(case.value(xi), rel=1e-12)
    assert abs(res.value - case.value(xi)) <= res.error_bound + 1e-14
    assert res.error_bound < 1e-8
    for x, x_hat in zip(res.solves.x, case.x_hat(xi), strict=True):
        np.testing.assert_allclose(x.data, x_hat, atol=1e-10)
    np.testing.assert_allclose(res.theta, [xi], rtol=1e-15)
    assert res.penalty == 0.0 and len(res.losses) == 3


@pytest.mark.parametrize("xi", [0.1, 1.0, 4.0])
def test_quadratic_gradient_matches_analytic_derivative_through_log(rng, xi):
    case = QuadraticCase(rng)
    ev = case.problem.value_and_gradient([np.log(xi)])
    exact = xi * case.dvalue_dxi(xi)  # chain rule through theta = exp(phi)
    assert ev.status is SolverStatus.CONVERGED, ev.message
    assert ev.value == pytest.approx(case.value(xi), rel=1e-12)
    assert ev.gradient.shape == (1,) and ev.gradient.dtype == np.float64
    assert ev.gradient[0] == pytest.approx(exact, rel=1e-8)
    assert abs(ev.gradient[0] - exact) <= ev.error_bound + 1e-14 * abs(exact)  # + rounding
    assert ev.gradient_theta[0] == pytest.approx(case.dvalue_dxi(xi), rel=1e-8)
    assert len(ev.hypergradients) == 3


def test_loose_tolerances_are_certified(rng):
    """With coarse solves, the true errors stay inside the reported bounds."""
    case = QuadraticCase(rng, lower_tol=1e-2, cg_tol=1e-1, solver="gradient_descent")
    xi = 0.7
    case.problem.reset_warm_starts()
    ev = case.problem.value_and_gradient([np.log(xi)])
    assert 0 < ev.objective.error_bound and 0 < ev.error_bound
    assert abs(ev.value - case.value(xi)) <= ev.objective.error_bound
    assert abs(ev.gradient[0] - xi * case.dvalue_dxi(xi)) <= ev.error_bound
    for x, x_hat, err in zip(ev.objective.solves.x, case.x_hat(xi), ev.objective.solves.errors,
                             strict=True):
        assert np.linalg.norm(x.data - x_hat) <= err


def test_penalty_is_added_and_chain_ruled(rng):
    case = QuadraticCase(rng)
    problem = BilevelProblem(case.energies, [case.X.element(t) for t in case.targets],
                             parameter_map=ParameterMap.log(("xi",)), penalty=L1Penalty(0.3),
                             lower_tol=1e-10, cg_tol=1e-10)
    xi = 2.0
    ev = problem.value_and_gradient([np.log(xi)])
    assert ev.objective.penalty == pytest.approx(0.3 * xi)
    assert ev.value == pytest.approx(case.value(xi) + 0.3 * xi, rel=1e-12)
    assert ev.gradient[0] == pytest.approx(xi * (case.dvalue_dxi(xi) + 0.3), rel=1e-8)


def test_tv_gradient_matches_finite_differences_within_bound(rng):
    problem = tv_problem(rng, learn=("alpha", "nu"), lower_tol=1e-10, cg_tol=1e-10)
    phi = np.log([0.05, 0.05])
    ev = problem.value_and_gradient(phi)
    assert ev.status is SolverStatus.CONVERGED, ev.message

    def value(p):
        return problem.objective(p, tol=1e-12).value

    fd = finite_difference_gradient(value, phi, step=1e-5)
    np.testing.assert_allclose(ev.gradient, fd, rtol=1e-5, atol=1e-9)
    assert np.linalg.norm(ev.gradient - fd) <= ev.error_bound + 1e-7


def test_warm_starts_reduce_iterations_at_nearby_theta(rng):
    problem = tv_problem(rng)
    first = problem.solve([np.log(0.05)])
    assert all(w is not None for w in problem.warm_starts)
    warm = problem.solve([np.log(0.052)])
    cold = problem.solve([np.log(0.052)], warm_start=False)
    assert warm.iterations < 0.7 * cold.iterations
    assert warm.iterations < first.iterations
    # same theta again: the stored solution already meets the tolerance
    again = problem.solve([np.log(0.052)])
    assert again.iterations == 0


def test_adjoint_warm_starts_reduce_cg_iterations(rng):
    problem = tv_problem(rng)
    problem.value_and_gradient([np.log(0.05)])
    assert all(w is not None for w in problem.adjoint_warm_starts)
    warm = problem.value_and_gradient([np.log(0.051)])
    problem.reset_warm_starts()
    assert problem.adjoint_warm_starts == [None] * problem.n_samples
    cold = problem.value_and_gradient([np.log(0.051)])
    assert warm.work.cg_iterations < cold.work.cg_iterations
    np.testing.assert_allclose(warm.gradient, cold.gradient, rtol=1e-6)


def test_values_come_from_this_theta_not_the_stored_solution(rng):
    case = QuadraticCase(rng)
    case.problem.objective([np.log(5.0)])
    res = case.problem.objective([np.log(0.2)])
    assert res.value == pytest.approx(case.value(0.2), rel=1e-12)


def test_ledger_and_per_result_work(rng):
    case = QuadraticCase(rng)
    problem = case.problem
    ev = problem.value_and_gradient([0.0])
    obj = problem.objective([0.3])
    assert isinstance(problem.ledger, WorkLedger)
    assert problem.ledger.lower_solves == 2 * problem.n_samples
    assert problem.ledger.linear_solves == problem.n_samples
    assert ev.work.lower_solves == problem.n_samples == obj.work.lower_solves
    assert ev.work.cg_iterations == problem.ledger.cg_iterations > 0
    total = ev.work + obj.work
    for field in ("lower_iterations", "gradient_evaluations", "hessian_products", "cg_iterations"):
        assert getattr(problem.ledger, field) == getattr(total, field)
    assert problem.ledger.wall_time > 0


def test_max_iter_is_reported_not_hidden(rng):
    problem = tv_problem(rng, lower_max_iter=3)
    res = problem.objective([np.log(0.05)], warm_start=False)
    assert res.status is SolverStatus.MAX_ITER
    assert not res.solves.all_converged
    assert "did not converge" in res.message
    assert all(e > problem.lower_tol for e in res.solves.errors)
    exact = problem.objective([np.log(0.05)], tol=1e-12, max_iter=100_000, warm_start=False)
    assert exact.status is SolverStatus.CONVERGED
    assert abs(res.value - exact.value) <= res.error_bound
    ev = problem.value_and_gradient([np.log(0.05)], warm_start=False)
    assert ev.status is SolverStatus.MAX_ITER
    exact_g = problem.value_and_gradient([np.log(0.05)], tol=1e-12, max_iter=100_000)
    assert np.linalg.norm(ev.gradient - exact_g.gradient) <= ev.error_bound


def test_residuals_match_objective(rng):
    case = QuadraticCase(rng)
    problem = BilevelProblem(case.energies, [case.X.element(t) for t in case.targets],
                             parameter_map=ParameterMap.log(("xi",)), penalty=L1Penalty(0.1),
                             lower_tol=1e-10)
    xi = 0.5
    res = problem.residuals([np.log(xi)])
    expected = np.concatenate([(x - t) / np.sqrt(3) for x, t in
                               zip(case.x_hat(xi), case.targets, strict=True)])
    np.testing.assert_allclose(res.residuals, expected, atol=1e-10)
    assert res.penalty == pytest.approx(0.1 * xi)
    assert res.value == pytest.approx(problem.objective([np.log(xi)]).value, rel=1e-12)
    assert np.linalg.norm(res.residuals - expected) <= res.error_bound + 1e-14  # + rounding
    assert res.residuals.dtype == np.float64 and res.residuals.ndim == 1


def test_residuals_need_a_least_squares_loss(rng):
    case = QuadraticCase(rng)
    loss = UpperLoss(lambda x, t: 0.0, lambda x, t: x.space.zero(), 0.0)
    problem = BilevelProblem(case.energies, [case.X.element(t) for t in case.targets],
                             parameter_map=ParameterMap.log(("xi",)), loss=loss)
    with pytest.raises(TypeError, match="`loss`"):
        problem.residuals([0.0])


def test_reconstruct_leaves_training_state_alone(rng):
    case = QuadraticCase(rng)
    X = case.X
    y_test = rng.standard_normal(16)
    test_energy = ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y_test), Tikhonov(X, 3.0))
    xs = case.problem.reconstruct([np.log(0.5)], [test_energy])
    np.testing.assert_allclose(xs[0].data, y_test / 1.5, atol=1e-9)
    assert case.problem.ledger.lower_solves == 0
    assert case.problem.warm_starts == [None] * 3
    full = case.problem.reconstruct([np.log(0.5)], [test_energy], full_result=True)
    assert full.all_converged
    with pytest.raises(ValueError, match=r"`data_energies\[0\]`"):
        case.problem.reconstruct([0.0], [SmoothedTV(X)])


def test_state_dict_round_trip(rng, tmp_path):
    problem = tv_problem(rng)
    problem.value_and_gradient([np.log(0.05)])
    state = problem.state_dict()
    np.savez(tmp_path / "state.npz", **state)
    loaded = dict(np.load(tmp_path / "state.npz"))
    fresh = tv_problem(np.random.default_rng(20261126))
    fresh.load_state_dict(loaded)
    assert fresh.ledger == problem.ledger
    for a, b in zip(fresh.warm_starts, problem.warm_starts, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    for a, b in zip(fresh.adjoint_warm_starts, problem.adjoint_warm_starts, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    assert fresh.solve([np.log(0.05)]).iterations == 0
    for value in state.values():
        assert isinstance(value, int | float | np.ndarray)


def test_state_dict_from_another_problem_is_rejected(rng):
    state = tv_problem(rng).state_dict()
    other = tv_problem(rng, n_samples=3)
    with pytest.raises(ValueError, match="`state`"):
        other.load_state_dict(state)
    with pytest.raises(ValueError, match="`state`"):
        other.load_state_dict({"version": 1})


@pytest.mark.parametrize("method", ["objective", "value_and_gradient", "residuals", "solve"])
@pytest.mark.parametrize("phi", [[np.nan], [np.inf], [0.0, 1.0]])
def test_bad_phi_names_phi(rng, method, phi):
    case = QuadraticCase(rng, n_samples=1)
    with pytest.raises(ValueError, match="`phi`"):
        getattr(case.problem, method)(phi)
    with pytest.raises(ValueError, match="`phi`"):
        case.problem.energy(0, phi)


def _problem_kwargs(rng):
    case = QuadraticCase(rng, n_samples=2)
    return case, dict(energies=case.energies,
                      targets=[case.X.element(t) for t in case.targets],
                      parameter_map=ParameterMap.log(("xi",)))


@pytest.mark.parametrize(
    ("change", "exc", "match"),
    [
        ({"energies": []}, ValueError, "`energies`"),
        ({"energies": "abc"}, TypeError, "`energies`"),
        ({"energies": [1, 2]}, TypeError, r"`energies\[0\]`"),
        ({"targets": [np.zeros(16)]}, ValueError, "`targets`"),
        ({"targets": [np.zeros(16), np.zeros(5)]}, ValueError, r"`targets\[1\]`"),
        ({"targets": [np.zeros(16), np.full(16, np.nan)]}, ValueError, r"`targets\[1\]`"),
        ({"parameter_map": None}, TypeError, "`parameter_map`"),
        ({"parameter_map": ParameterMap.log(("a", "b"))}, ValueError, "`parameter_map`"),
        ({"solver": "newton"}, ValueError, "`solver`"),
        ({"solver": "pdhg"}, TypeError, r"`energies\[0\]`"),
        ({"lower_tol": 0.0}, ValueError, "`lower_tol`"),
        ({"cg_tol": -1.0}, ValueError, "`cg_tol`"),
        ({"lower_max_iter": 0}, ValueError, "`lower_max_iter`"),
        ({"cg_max_iter": 2.5}, TypeError, "`cg_max_iter`"),
        ({"executor": 4}, TypeError, "`executor`"),
        ({"penalty": 3.0}, TypeError, "`penalty`"),
        ({"loss": "mse"}, TypeError, "`loss`"),
        ({"loss": SquaredError(component=0)}, ValueError, "`component`"),
    ],
)
def test_constructor_validation_names_argument(rng, change, exc, match):
    _, kwargs = _problem_kwargs(rng)
    kwargs.update(change)
    energies, targets = kwargs.pop("energies"), kwargs.pop("targets")
    with pytest.raises(exc, match=match):
        BilevelProblem(energies, targets, **kwargs)


def test_energies_must_agree(rng):
    case, kwargs = _problem_kwargs(rng)
    other = ParametrisedSum(L2DataFit(odl.IdentityOperator(unit_cell_space(8)), np.zeros(8)),
                            Tikhonov(unit_cell_space(8)))
    with pytest.raises(ValueError, match=r"`energies\[1\]`"):
        BilevelProblem([case.energies[0], other], kwargs["targets"],
                       parameter_map=kwargs["parameter_map"])
    with pytest.raises(ValueError, match=r"`energies\[1\]`"):
        BilevelProblem([case.energies[0], SmoothedTV(case.X)], kwargs["targets"],
                       parameter_map=kwargs["parameter_map"])


def test_call_options_are_validated(rng):
    case = QuadraticCase(rng, n_samples=1)
    with pytest.raises(ValueError, match="`tol`"):
        case.problem.objective([0.0], tol=-1.0)
    with pytest.raises(ValueError, match="`cg_tol`"):
        case.problem.value_and_gradient([0.0], cg_tol=-1.0)
    with pytest.raises(ValueError, match="`max_iter`"):
        case.problem.solve([0.0], max_iter=0)
    with pytest.raises(IndexError, match="`i`"):
        case.problem.energy(3, [0.0])
    with pytest.raises(TypeError, match="`executor`"):
        case.problem.executor = "threads"


def test_thread_pool_executor_setter(rng):
    case = QuadraticCase(rng)
    serial = case.problem.value_and_gradient([0.2])
    case.problem.reset_warm_starts()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        case.problem.executor = pool
        threaded = case.problem.value_and_gradient([0.2])
    assert threaded.value == serial.value
    np.testing.assert_array_equal(threaded.gradient, serial.gradient)
    assert case.problem.energy(0, [0.2]).params[0] == pytest.approx(np.exp(0.2))


class _PoisonedTikhonov(Tikhonov):
    """Tikhonov whose gradient is NaN for xi > 10 (a stand-in for a diverging solve)."""

    def _with_params(self, theta):
        return _PoisonedTikhonov(self.domain, xi=theta[0])

    @property
    def gradient(self):
        grad = super().gradient
        if self.xi <= 10:
            return grad
        return grad * float("nan")


def test_nonfinite_solves_are_reported_and_not_stored(rng):
    X = unit_cell_space(8)
    y = rng.standard_normal(8)
    E = ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y), _PoisonedTikhonov(X, 1.0))
    problem = BilevelProblem([E], [X.zero()], parameter_map=ParameterMap.log(("xi",)),
                             lower_tol=1e-10)
    good = problem.objective([0.0])
    stored = problem.warm_starts[0].copy()
    bad = problem.objective([np.log(20.0)])
    assert bad.status is SolverStatus.NONFINITE and not bad.solves.all_converged
    assert np.isnan(bad.value) and bad.error_bound == np.inf
    np.testing.assert_array_equal(problem.warm_starts[0].data, stored.data)
    ev = problem.value_and_gradient([np.log(20.0)])
    assert ev.status is SolverStatus.NONFINITE
    assert np.all(np.isnan(ev.gradient)) and ev.error_bound == np.inf
    assert ev.hypergradients == (None,)
    assert problem.objective([0.0]).value == pytest.approx(good.value, rel=1e-12)


def test_tol_zero_is_fixed_iteration_mode(rng, caplog):
    problem = tv_problem(rng, n_samples=2)
    with caplog.at_level("WARNING", logger="odl_bilevel"):
        res = problem.solve([np.log(0.1)], tol=0.0, max_iter=7, warm_start=False)
    assert [r.iterations for r in res.results] == [7, 7]
    assert "fixed-iteration mode" in res.message
    assert not [r for r in caplog.records if r.levelname == "WARNING"]
    assert all(0 < e < float("inf") for e in res.errors)  # certificates are still reported
