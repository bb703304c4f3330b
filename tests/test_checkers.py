"""The checkers must pass correct derivatives and raise on wrong ones."""

import numpy as np
import odl
import pytest

from odl_bilevel.functionals import Tikhonov
from odl_bilevel.operators import unit_cell_space
from odl_bilevel.testing import (
    check_adjoint,
    check_gradient,
    check_hessian,
    check_param_derivative,
    random_element,
)


class _WrongAdjoint(odl.Operator):
    def __init__(self, space):
        super().__init__(space, space, linear=True)

    def _call(self, x, out):
        out.data[:] = np.roll(x.data, 1)

    @property
    def adjoint(self):
        return self  # wrong: the adjoint of a roll is the opposite roll


class _QuadWrongGrad(odl.functionals.Functional):
    """f(x) = 0.5 |x|^2 + sum x^3/3 with a gradient that misses a term."""

    def __init__(self, space, wrong="gradient"):
        super().__init__(space)
        self.wrong = wrong

    def _call(self, x):
        return 0.5 * float(np.sum(x.data**2)) + float(np.sum(x.data**3)) / 3

    @property
    def gradient(self):
        return _Grad(self)


class _Grad(odl.Operator):
    def __init__(self, f):
        super().__init__(f.domain, f.domain)
        self.f = f

    def _call(self, x):
        g = x.data + x.data**2
        if self.f.wrong == "gradient":
            g = x.data.copy()
        return self.domain.element(g)

    def derivative(self, x):
        w = 1 + 2 * x.data
        if self.f.wrong == "hessian":
            w = 1 + x.data
        return odl.MultiplyOperator(self.domain.element(w), domain=self.domain)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_adjoint_checker_detects_wrong_adjoint(dtype, rng):
    X = unit_cell_space((7, 5), dtype)
    with pytest.raises(AssertionError, match="relative error"):
        check_adjoint(_WrongAdjoint(X), rng=rng)
    assert check_adjoint(odl.ScalingOperator(X, 3.0), rng=rng).rel_error < 1e-6


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_gradient_checker(dtype, rng):
    X = unit_cell_space((6, 6), dtype)
    x = random_element(X, rng) * 0.5
    check_gradient(_QuadWrongGrad(X, wrong="none"), x, rng=rng)
    check_hessian(_QuadWrongGrad(X, wrong="none"), x, rng=rng)
    with pytest.raises(AssertionError, match="gradient"):
        check_gradient(_QuadWrongGrad(X, wrong="gradient"), x, rng=rng)
    with pytest.raises(AssertionError, match="Hessian"):
        check_hessian(_QuadWrongGrad(X, wrong="hessian"), x, rng=rng)


def test_gradient_checker_reports_orders(rng):
    X = unit_cell_space((9,))
    res = check_gradient(_QuadWrongGrad(X, wrong="none"), rng=rng)
    assert res.passed and res.rel_error < 1e-8
    assert abs(res.details["orders"][0] - 2) < 0.3
    bad = check_gradient(_QuadWrongGrad(X, wrong="gradient"), rng=rng, rtol=np.inf)
    assert abs(bad.details["orders"][-1] - 1) < 0.3


def test_param_checker_detects_wrong_mixed_derivative(rng, monkeypatch):
    X = unit_cell_space((8,))
    f = Tikhonov(X, xi=0.7)
    check_param_derivative(f, rng=rng)
    original = Tikhonov.mixed_derivative

    def doubled(self, x):
        op = original(self, x)
        return 2.0 * op

    monkeypatch.setattr(Tikhonov, "mixed_derivative", doubled)
    with pytest.raises(AssertionError, match="mixed_derivative"):
        check_param_derivative(f, rng=rng)
