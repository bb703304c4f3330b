"""Per-sample tasks through executors: a process pool and dask give the serial answer."""

import concurrent.futures
import multiprocessing

import numpy as np
import pytest
from bilevel_fixtures import tv_problem

PHIS = ([np.log(0.05)], [np.log(0.06)])


def _run(problem):
    """Two gradient evaluations (the second warm-started), an objective and residuals."""
    evs = [problem.value_and_gradient(phi) for phi in PHIS]
    obj = problem.objective(PHIS[0])
    res = problem.residuals(PHIS[1])
    return evs, obj, res


def _assert_same(a, b):
    (evs_a, obj_a, res_a), (evs_b, obj_b, res_b) = a, b
    for ea, eb in zip(evs_a, evs_b, strict=True):
        assert ea.value == eb.value
        np.testing.assert_array_equal(ea.gradient, eb.gradient)
        assert ea.error_bound == eb.error_bound
        assert [r.iterations for r in ea.objective.solves.results] == [
            r.iterations for r in eb.objective.solves.results
        ]
        assert ea.work.cg_iterations == eb.work.cg_iterations
    assert obj_a.value == obj_b.value and obj_a.error_bound == obj_b.error_bound
    np.testing.assert_array_equal(res_a.residuals, res_b.residuals)


def _ledger_counts(problem):
    counts = problem.ledger.as_dict()
    counts.pop("wall_time")
    return counts


def test_process_pool_gives_the_serial_answer(rng):
    serial = tv_problem(np.random.default_rng(5), n_samples=3, length=32)
    pooled = tv_problem(np.random.default_rng(5), n_samples=3, length=32)
    expected = _run(serial)
    # spawn: no fork of a threaded parent; workers import odl_bilevel afresh
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=context) as pool:
        pooled.executor = pool
        got = _run(pooled)
    _assert_same(expected, got)
    assert _ledger_counts(serial) == _ledger_counts(pooled)
    for a, b in zip(serial.warm_starts, pooled.warm_starts, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
    for a, b in zip(serial.adjoint_warm_starts, pooled.adjoint_warm_starts, strict=True):
        np.testing.assert_array_equal(a.data, b.data)


def test_dask_distributed_executor_works_unchanged():
    distributed = pytest.importorskip("distributed")
    serial = tv_problem(np.random.default_rng(6), n_samples=2, length=32)
    expected = _run(serial)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        problem = tv_problem(np.random.default_rng(6), n_samples=2, length=32,
                             executor=client.get_executor())
        got = _run(problem)
    _assert_same(expected, got)
    assert _ledger_counts(serial) == _ledger_counts(problem)
