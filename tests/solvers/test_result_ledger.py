"""SolverResult, SolverStatus and WorkLedger; the solvers' public surface."""

import dataclasses
import importlib

import numpy as np
import odl
import pytest

import odl_bilevel.solvers as solvers
from odl_bilevel.solvers import (
    SolverResult,
    SolverStatus,
    WorkLedger,
    conjugate_gradient,
    fista,
)


def _result(**kw):
    base = dict(x=None, status=SolverStatus.CONVERGED, message="", iterations=3,
                certificate=1e-9, tol=1e-8)
    base.update(kw)
    return SolverResult(**base)


def test_result_is_frozen_and_reports_convergence():
    res = _result()
    assert res.converged
    assert not _result(status=SolverStatus.MAX_ITER).converged
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.certificate = 0.0
    assert "CONVERGED" in repr(res)
    assert SolverStatus.DIVERGED is SolverStatus.NONFINITE


def test_ledger_books_lower_and_linear_solves():
    X = odl.rn(4)
    E = 0.5 * odl.functionals.L2NormSquared(X).translated(X.one())
    lower = fista(E, tol=1e-8, mu=1.0)
    H = odl.MatrixOperator(np.diag([1.0, 2.0, 3.0, 4.0]), domain=X, range=X)
    lin = conjugate_gradient(H, X.one(), tol=1e-10)
    ledger = WorkLedger().add(lower).add(lin).add(lin)
    assert ledger.lower_solves == 1 and ledger.linear_solves == 2
    assert ledger.lower_iterations == lower.iterations
    assert ledger.cg_iterations == 2 * lin.iterations
    assert ledger.gradient_evaluations == lower.gradient_evaluations
    assert ledger.hessian_products == 2 * lin.hessian_products
    assert ledger.wall_time == pytest.approx(lower.wall_time + 2 * lin.wall_time)
    total = ledger + WorkLedger().add(lower)
    assert total.lower_solves == 2 and ledger.lower_solves == 1
    d = total.as_dict()
    assert set(d) == {f.name for f in dataclasses.fields(WorkLedger)}
    with pytest.raises(TypeError, match="`result`"):
        ledger.add({"iterations": 1})
    with pytest.raises(TypeError):
        ledger + 1


@pytest.mark.parametrize("name", solvers.__all__)
def test_public_name_has_docstring(name):
    obj = getattr(solvers, name)
    assert obj.__doc__ and obj.__doc__.strip()


def test_all_matches_public_imports():
    public = {
        n for n, v in vars(solvers).items()
        if not n.startswith("_") and not isinstance(v, type(solvers))
    }
    assert public == set(solvers.__all__)


@pytest.mark.parametrize("module", ["_result", "_smooth", "_cg", "_pdhg", "_vector", "_common"])
def test_modules_have_all(module):
    assert hasattr(importlib.import_module(f"odl_bilevel.solvers.{module}"), "__all__")
