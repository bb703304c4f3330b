"""IterationRecord and UpperResult: conversions, validation, immutability."""

import dataclasses
import json

import numpy as np
import pytest

from odl_bilevel.upper import IterationRecord, UpperResult, UpperStatus


def _record(**changes):
    args = {
        "iteration": 1,
        "phi": np.array([0.5]),
        "theta": (np.float64(1.6),),
        "objective": np.float64(2.0),
        "gradient_norm": 0.1,
        "error_bound": 1e-6,
        "lower_tol": 1e-8,
        "work": {"lower_iterations": 4},
        "wall_time": 0.5,
    }
    return IterationRecord(**{**args, **changes})


def test_record_converts_to_python_types_and_round_trips():
    rec = _record()
    assert rec.phi.tolist() == [0.5] and rec.phi.dtype == np.float64
    assert type(rec.objective) is float and rec.theta.dtype == np.float64
    with pytest.raises(ValueError, match="read-only"):
        rec.phi[0] = 1.0
    data = rec.as_dict()
    assert data["phi"] == [0.5] and type(data["phi"][0]) is float
    assert data["work"] == {"lower_iterations": 4}
    assert json.loads(json.dumps(data)) == data
    assert IterationRecord.from_dict(data) == rec
    assert IterationRecord.from_dict(rec.as_dict(arrays=True)) == rec
    assert rec != _record(phi=[0.6]) and rec != _record(objective=3.0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        rec.objective = 1.0


def test_record_validation_names_fields():
    with pytest.raises(TypeError, match="iteration"):
        _record(iteration=1.0)
    with pytest.raises(ValueError, match="iteration"):
        _record(iteration=-1)
    with pytest.raises(TypeError, match="work"):
        _record(work=[1])
    with pytest.raises(ValueError, match="missing.*wall_time"):
        IterationRecord.from_dict(
            {k: v for k, v in _record().as_dict().items() if k != "wall_time"}
        )
    with pytest.raises(ValueError, match="unknown.*bogus"):
        IterationRecord.from_dict({**_record().as_dict(), "bogus": 1})


def test_result_arrays_are_read_only_copies():
    phi = np.array([0.5, 1.0])
    res = UpperResult(
        phi=phi,
        theta=np.exp(phi),
        objective=1.0,
        status=UpperStatus.MAX_ITER,
        message="m",
        history=[_record(iteration=0), _record(iteration=3)],
        work={"lower_iterations": 1},
        engine="lbfgsb",
    )
    phi[0] = 7.0
    assert res.phi.tolist() == [0.5, 1.0]
    assert not res.phi.flags.writeable and not res.theta.flags.writeable
    assert isinstance(res.history, tuple)
    assert res.iterations == 3 and not res.converged
    assert "MAX_ITER" in repr(res)
    with pytest.raises(TypeError, match="status"):
        dataclasses.replace(res, status="converged")


def test_status_values_are_stable_strings():
    assert {s.value for s in UpperStatus} == {
        "converged",
        "max_iter",
        "stopped_by_callback",
        "failed",
    }
