"""L-BFGS-B on a closed-form fake problem: optimum, history, bounds, stops, resume, bad input."""

import json

import numpy as np
import pytest
from upper_fakes import make_fake

from odl_bilevel.upper import UpperStatus, lbfgsb, load_checkpoint


def _fresh(seed=0, **kwargs):
    return make_fake(np.random.default_rng(seed), **kwargs)


def test_finds_closed_form_optimum():
    problem = _fresh()
    res = lbfgsb(problem, [np.log(1e-2)], gtol=1e-10, ftol=0.0, max_iter=100)
    xi_star = problem.xi_star()
    assert 0.05 < xi_star < 5  # a meaningful, interior optimum
    assert res.status is UpperStatus.CONVERGED, res.message
    assert res.converged and res.engine == "lbfgsb"
    assert res.theta[0] == pytest.approx(xi_star, rel=1e-6)
    assert res.objective == pytest.approx(problem.upper(xi_star), rel=1e-10)
    assert res.objective < res.history[0].objective
    assert res.message


def test_history_records_accepted_points_without_resolving():
    problem = _fresh()
    res = lbfgsb(problem, [0.0], gtol=1e-10)
    hist = res.history
    assert [r.iteration for r in hist] == list(range(len(hist)))
    assert hist[0].phi.tolist() == [0.0]
    for rec in hist:
        assert rec.theta == pytest.approx(np.exp(rec.phi))
        assert rec.objective == pytest.approx(problem.upper(rec.theta[0]), rel=1e-12)
        assert rec.lower_tol == problem.lower_tol
        assert rec.error_bound == 0.0
    # each point is evaluated once: the history reads the cached line-search evaluation
    points = [c[0].tobytes() for c in problem.calls]
    assert len(points) == len(set(points))
    # cumulative work and wall time never decrease; work is what the ledger says at the end
    for key in hist[0].work:
        values = [r.work[key] for r in hist]
        assert values == sorted(values), key
    assert hist[-1].work["lower_solves"] > hist[0].work["lower_solves"]
    walls = [r.wall_time for r in hist]
    assert walls == sorted(walls)
    assert res.work == problem.ledger.as_dict()
    assert res.iterations == hist[-1].iteration


def test_tolerances_are_passed_to_the_problem():
    problem = _fresh()
    res = lbfgsb(problem, [0.0], lower_tol=1e-5, cg_tol=1e-3, max_iter=3)
    assert {(c[1], c[2]) for c in problem.calls} == {(1e-5, 1e-3)}
    assert all(r.lower_tol == 1e-5 for r in res.history)


@pytest.mark.parametrize("side", ["lower", "upper"])
def test_bounds_are_respected(side):
    problem = _fresh()
    log_star = np.log(problem.xi_star())
    bound = (
        (log_star + 0.5, log_star + 2.0) if side == "lower" else (log_star - 2.0, log_star - 0.5)
    )
    problem.parameter_map.bounds = [bound]
    start = bound[1] if side == "lower" else bound[0]
    res = lbfgsb(problem, [start], gtol=1e-10)
    assert res.status is UpperStatus.CONVERGED, res.message
    active = bound[0] if side == "lower" else bound[1]
    assert res.phi[0] == pytest.approx(active, abs=1e-10)
    for phi, _, _ in problem.calls:
        assert bound[0] <= phi[0] <= bound[1]


def test_phi0_outside_bounds_is_named():
    problem = _fresh(bounds=[(-1.0, 1.0)])
    with pytest.raises(ValueError, match="phi0"):
        lbfgsb(problem, [2.0])


def test_callback_stops():
    problem = _fresh()
    seen = []

    def callback(record):
        seen.append(record.iteration)
        return record.iteration == 2

    res = lbfgsb(problem, [np.log(1e-3)], gtol=0.0, ftol=0.0, callback=callback)
    assert res.status is UpperStatus.STOPPED_BY_CALLBACK
    assert seen == [0, 1, 2]
    assert res.iterations == 2
    assert res.phi.tolist() == list(res.history[-1].phi)


def test_callback_stop_at_start_point():
    problem = _fresh()
    res = lbfgsb(problem, [0.5], callback=lambda record: True)
    assert res.status is UpperStatus.STOPPED_BY_CALLBACK
    assert res.iterations == 0 and res.phi.tolist() == [0.5]


def test_max_iter_is_reported_as_status():
    problem = _fresh()
    res = lbfgsb(problem, [np.log(1e-4)], max_iter=2, gtol=0.0, ftol=0.0)
    assert res.status is UpperStatus.MAX_ITER
    assert res.iterations == 2
    assert "ITERATIONS" in res.message.upper()


def test_result_is_frozen_and_read_only():
    res = lbfgsb(_fresh(), [0.0], max_iter=2)
    with pytest.raises(AttributeError):
        res.objective = 0.0
    with pytest.raises(ValueError):
        res.phi[0] = 1.0
    assert "lbfgsb" in repr(res)


class _Interrupt:
    """Callback that simulates Ctrl-C after ``k`` iterations."""

    def __init__(self, k):
        self.k = k

    def __call__(self, record):
        if record.iteration == self.k:
            raise KeyboardInterrupt


def test_resume_after_interruption_matches_uninterrupted_run(tmp_path):
    opts = {"gtol": 1e-10, "ftol": 0.0, "max_iter": 60}
    phi0 = [np.log(1e-3)]
    reference = lbfgsb(_fresh(), phi0, checkpoint=tmp_path / "ref", **opts)
    assert reference.converged

    first = _fresh()
    with pytest.raises(KeyboardInterrupt):
        lbfgsb(first, phi0, checkpoint=tmp_path / "run", callback=_Interrupt(2), **opts)
    stored = load_checkpoint(tmp_path / "run")
    assert [r.iteration for r in stored["history"]] == [0, 1, 2]
    assert stored["extra"]["status"] == "running"
    assert stored["problem_state"]["ledger"] == first.ledger.as_dict()

    second = _fresh()  # a fresh process: same problem, empty warm starts and ledger
    res = lbfgsb(second, phi0, checkpoint=tmp_path / "run", resume=True, **opts)
    assert res.converged
    assert res.theta[0] == pytest.approx(reference.theta[0], rel=1e-7)
    assert res.objective == pytest.approx(reference.objective, rel=1e-12)
    iterations = [r.iteration for r in res.history]
    assert iterations == list(range(len(iterations)))
    assert res.history[:3] == stored["history"]
    # ledger and warm starts restored: work continues from the stored counts
    assert res.history[3].work["lower_solves"] > stored["history"][-1].work["lower_solves"]
    assert res.work["lower_solves"] == second.ledger.lower_solves
    # the first evaluation after resuming is warm-started (3 pseudo-iterations, not 20)
    assert second.ledger.lower_iterations - first.ledger.lower_iterations < 20 * len(second.calls)
    assert res.history[2].wall_time <= res.history[3].wall_time


def test_resume_uses_remaining_budget(tmp_path):
    opts = {"gtol": 0.0, "ftol": 0.0, "max_iter": 4}
    with pytest.raises(KeyboardInterrupt):
        lbfgsb(_fresh(), [np.log(1e-4)], checkpoint=tmp_path, callback=_Interrupt(3), **opts)
    res = lbfgsb(_fresh(), [np.log(1e-4)], checkpoint=tmp_path, resume=True, **opts)
    assert res.iterations <= 4
    assert res.status in (UpperStatus.MAX_ITER, UpperStatus.CONVERGED)


def test_resume_of_finished_run_does_no_work(tmp_path):
    done = lbfgsb(_fresh(), [0.0], gtol=1e-10, checkpoint=tmp_path)
    assert done.converged
    stored = load_checkpoint(tmp_path)
    assert stored["extra"]["status"] == "converged"
    problem = _fresh()
    res = lbfgsb(problem, [0.0], gtol=1e-10, checkpoint=tmp_path, resume=True)
    assert problem.calls == []
    assert res.converged and res.theta[0] == done.theta[0]
    assert res.objective == done.objective
    assert res.work == done.work


def test_resume_without_checkpoint_starts_fresh(tmp_path):
    res = lbfgsb(_fresh(), [0.0], checkpoint=tmp_path / "new", resume=True, max_iter=2)
    assert res.history[0].phi.tolist() == [0.0]


def test_resume_with_another_problem_names_checkpoint(tmp_path):
    lbfgsb(_fresh(), [0.0], checkpoint=tmp_path, max_iter=2)
    with pytest.raises(ValueError, match="checkpoint"):
        lbfgsb(_fresh(n_samples=2), [0.0], checkpoint=tmp_path, resume=True)


def test_checkpoint_of_another_engine_names_checkpoint(tmp_path):
    lbfgsb(_fresh(), [0.0], checkpoint=tmp_path, max_iter=2)
    path = tmp_path / "checkpoint.json"
    doc = json.loads(path.read_text())
    doc["engine"] = "dfo"
    path.write_text(json.dumps(doc))
    with pytest.raises(ValueError, match="checkpoint.*engine"):
        lbfgsb(_fresh(), [0.0], checkpoint=tmp_path, resume=True)


@pytest.mark.parametrize(
    ("kwargs", "error", "name"),
    [
        ({"phi0": [0.0, 1.0]}, ValueError, "phi0"),
        ({"phi0": [np.nan]}, ValueError, "phi0"),
        ({"phi0": [[0.0]]}, ValueError, "phi0"),
        ({"max_iter": 0}, ValueError, "max_iter"),
        ({"max_iter": 2.5}, TypeError, "max_iter"),
        ({"gtol": -1.0}, ValueError, "gtol"),
        ({"ftol": "x"}, TypeError, "ftol"),
        ({"lower_tol": 0.0}, ValueError, "lower_tol"),
        ({"cg_tol": np.inf}, ValueError, "cg_tol"),
        ({"callback": 3}, TypeError, "callback"),
        ({"checkpoint": 3}, TypeError, "checkpoint"),
        ({"resume": "yes"}, TypeError, "resume"),
        ({"resume": True}, ValueError, "checkpoint"),
        ({"memory": 0}, ValueError, "memory"),
        ({"max_line_search": 1.5}, TypeError, "max_line_search"),
    ],
)
def test_bad_inputs_are_named(kwargs, error, name):
    problem = _fresh()
    args = {"phi0": [0.0], **kwargs}
    phi0 = args.pop("phi0")
    with pytest.raises(error, match=name):
        lbfgsb(problem, phi0, **args)
    assert problem.calls == []


def test_problem_without_interface_is_named():
    with pytest.raises(TypeError, match="problem"):
        lbfgsb(object(), [0.0])


@pytest.mark.parametrize(
    ("error_bound", "status"), [(1e-3, UpperStatus.CONVERGED), (0.0, UpperStatus.FAILED)]
)
def test_line_search_failure_within_error_bound_counts_as_converged(error_bound, status):
    # value and gradient carry a deterministic error of 1e-5: gtol = 1e-12 is out of reach
    problem = _fresh(noise=1e-5, error_bound=error_bound)
    res = lbfgsb(problem, [np.log(1e-2)], gtol=1e-12, ftol=0.0, max_iter=100)
    assert res.status is status
    assert "line search" in res.message and "ABNORMAL" in res.message
    assert res.theta[0] == pytest.approx(problem.xi_star(), rel=1e-2)


def test_memory_and_line_search_reach_scipy(monkeypatch):
    import odl_bilevel.upper._lbfgsb as module

    seen = []

    def spy(*args, **kwargs):
        seen.append(kwargs["options"])
        return real(*args, **kwargs)

    real = module.minimize
    monkeypatch.setattr(module, "minimize", spy)
    default = lbfgsb(_fresh(), [0.0], max_iter=3)
    res = lbfgsb(_fresh(), [0.0], max_iter=3, memory=4, max_line_search=5)
    assert (seen[0]["maxcor"], seen[0]["maxls"]) == (10, 20)  # SciPy's defaults
    assert (seen[1]["maxcor"], seen[1]["maxls"]) == (4, 5)
    assert res.theta[0] == pytest.approx(default.theta[0], rel=1e-12)  # 1-D: one pair suffices
