"""DFO checkpoints: a resumed run follows the uninterrupted trajectory; bad input is named."""

import numpy as np
import pytest
from test_dfo_fakes import LeastSquaresFake, rosenbrock

from odl_bilevel.upper import (
    UpperStatus,
    dfo,
    load_checkpoint,
    problem_fingerprint,
    save_checkpoint,
)


def _trajectory(res):
    hist = [
        (h.iteration, tuple(h.phi), h.objective, h.gradient_norm, h.error_bound, h.lower_tol,
         h.work["lower_iterations"])
        for h in res.history
    ]
    return hist, [e.as_dict() for e in res.evaluations]


def _stop_at(k):
    return lambda record: record.iteration == k


@pytest.mark.parametrize("accuracy", ["dynamic", "fixed_iterations"])
def test_resume_continues_the_same_trajectory(tmp_path, accuracy):
    kwargs = dict(accuracy=accuracy, fixed_iterations=100, max_evals=70)
    full = dfo(LeastSquaresFake(rosenbrock, 2, noise=1.0), [-1.2, 1.0], **kwargs)

    first = dfo(LeastSquaresFake(rosenbrock, 2, noise=1.0), [-1.2, 1.0],
                checkpoint=tmp_path, callback=_stop_at(7), **kwargs)
    assert first.status is UpperStatus.STOPPED_BY_CALLBACK and first.iterations == 7
    stored = load_checkpoint(tmp_path, engine="dfo")
    assert stored["extra"]["status"] == "stopped_by_callback"
    assert stored["extra"]["state"]["iteration"] == 7

    fresh = LeastSquaresFake(rosenbrock, 2, noise=1.0)  # a new process would start like this
    resumed = dfo(fresh, [5.0, 5.0], checkpoint=tmp_path, resume=True, **kwargs)
    assert _trajectory(resumed) == _trajectory(full)
    np.testing.assert_array_equal(resumed.phi, full.phi)
    assert resumed.status is full.status and resumed.radius == full.radius
    assert len(fresh.calls) == len(full.evaluations)  # restored call count + the new calls


def test_resume_of_a_converged_run_returns_it(tmp_path):
    fake = LeastSquaresFake(rosenbrock, 2)
    done = dfo(fake, [-1.2, 1.0], checkpoint=tmp_path)
    assert done.status is UpperStatus.CONVERGED
    again = LeastSquaresFake(rosenbrock, 2)
    res = dfo(again, [0.0, 0.0], checkpoint=tmp_path, resume=True)
    assert res.status is UpperStatus.CONVERGED and again.calls == [None] * len(fake.calls)
    np.testing.assert_array_equal(res.phi, done.phi)
    assert _trajectory(res) == _trajectory(done)


def test_resume_without_a_checkpoint_starts_fresh(tmp_path):
    res = dfo(LeastSquaresFake(rosenbrock, 2), [-1.2, 1.0], checkpoint=tmp_path / "new",
              resume=True, max_evals=20)
    assert res.evaluations[0].phi == (-1.2, 1.0)


def test_resume_checks_engine_and_accuracy(tmp_path):
    dfo(LeastSquaresFake(rosenbrock, 2), [-1.2, 1.0], checkpoint=tmp_path, max_evals=10)
    with pytest.raises(ValueError, match="checkpoint.*accuracy"):
        dfo(LeastSquaresFake(rosenbrock, 2), [-1.2, 1.0], checkpoint=tmp_path, resume=True,
            accuracy="fixed_tol")
    fake = LeastSquaresFake(rosenbrock, 2)
    save_checkpoint(tmp_path / "other", engine="lbfgsb", phi=[0.0, 0.0], history=[],
                    problem_state=fake.state_dict(), fingerprint=problem_fingerprint(fake))
    with pytest.raises(ValueError, match="checkpoint.*engine"):
        dfo(fake, [-1.2, 1.0], checkpoint=tmp_path / "other", resume=True)
    with pytest.raises(ValueError, match="resume"):
        dfo(LeastSquaresFake(rosenbrock, 2), [-1.2, 1.0], resume=True)


@pytest.mark.parametrize(
    ("kwargs", "name", "error"),
    [
        ({"accuracy": "exact"}, "accuracy", ValueError),
        ({"fixed_iterations": 0}, "fixed_iterations", ValueError),
        ({"fixed_iterations": 2.5}, "fixed_iterations", TypeError),
        ({"fixed_tol": -1.0}, "fixed_tol", ValueError),
        ({"max_evals": 2}, "max_evals", ValueError),
        ({"max_iter": -1}, "max_iter", ValueError),
        ({"radius_init": 0.0}, "radius_init", ValueError),
        ({"radius_init": 3.0}, "radius_init", ValueError),  # bounds are 4 wide
        ({"radius_min": 1.0, "radius_init": 0.5}, "radius_min", ValueError),
        ({"lower_tol_max": 1e-8, "lower_tol_min": 1e-6}, "lower_tol_min", ValueError),
        ({"lower_tol_max": np.inf}, "lower_tol_max", ValueError),
        ({"callback": 3}, "callback", TypeError),
        ({"checkpoint": 3}, "checkpoint", TypeError),
        ({"resume": 1}, "resume", TypeError),
    ],
)
def test_bad_options_name_the_argument(kwargs, name, error):
    fake = LeastSquaresFake(rosenbrock, 2, bounds=[(-2.0, 2.0), (-2.0, 2.0)])
    with pytest.raises(error, match=f"`{name}"):
        dfo(fake, [0.0, 0.0], **kwargs)


def test_bad_problem_and_start_name_the_argument():
    fake = LeastSquaresFake(rosenbrock, 2, bounds=[(-1.0, 1.0), None])
    with pytest.raises(ValueError, match="`phi0"):
        dfo(fake, [1.5, 0.0])
    with pytest.raises(ValueError, match="`phi0`"):
        dfo(fake, [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="`phi0`"):
        dfo(fake, [np.nan, 0.0])
    with pytest.raises(TypeError, match="`problem`"):
        dfo(object(), [0.0])
    negative = LeastSquaresFake(rosenbrock, 2, penalty=lambda p: -1.0)
    with pytest.raises(ValueError, match="`problem`.*negative penalty"):
        dfo(negative, [0.0, 0.0])


def test_default_radius_fits_the_bounds():
    fake = LeastSquaresFake(rosenbrock, 2, bounds=[(0.0, 0.1), (-2.0, 2.0)])
    res = dfo(fake, [0.1, 0.0], max_evals=30)
    first = [c[0] for c in fake.calls[:3]]
    assert first[1][0] == pytest.approx(0.05)  # stepped inwards from the upper bound by 0.05
    assert all(0.0 <= p[0] <= 0.1 for p, *_ in fake.calls)
    assert res.history[0].phi.tolist() == [0.1, 0.0]
