"""Bad input raises an error that names the argument."""

import numpy as np
import odl
import pytest

from odl_bilevel import _validation as v
from odl_bilevel.functionals import ParametrisedSum, Tikhonov
from odl_bilevel.operators import unit_cell_space


def test_unit_cell_space():
    X = unit_cell_space((3, 5), "float32")
    assert X.shape == (3, 5) and X.dtype == np.float32 and X.cell_volume == 1
    assert unit_cell_space(7).shape == (7,)
    with pytest.raises(ValueError, match="`shape`"):
        unit_cell_space((0, 3))
    with pytest.raises(ValueError, match="`dtype`"):
        unit_cell_space((3,), "int32")


def test_require_unit_cell_space():
    with pytest.raises(ValueError, match="unit cells"):
        v.require_unit_cell_space(odl.uniform_discr([0, 0], [1, 1], (4, 4)))
    with pytest.raises(ValueError, match="real"):
        v.require_unit_cell_space(unit_cell_space((4,)).complex_space)
    with pytest.raises(TypeError, match="`space`"):
        v.require_unit_cell_space("not a space")


@pytest.mark.parametrize(
    ("func", "value", "error"),
    [
        (v.require_positive, 0.0, ValueError),
        (v.require_positive, -1.0, ValueError),
        (v.require_nonnegative, -1e-3, ValueError),
        (v.as_float, np.nan, ValueError),
        (v.as_float, np.inf, ValueError),
        (v.as_float, "1.0", TypeError),
        (v.as_float, True, TypeError),
    ],
)
def test_scalar_checks_name_argument(func, value, error):
    with pytest.raises(error, match="`nu`"):
        func(value, "nu")


def test_require_element():
    X = unit_cell_space((4,))
    assert v.require_element(np.arange(4), X, "x").space == X
    with pytest.raises(ValueError, match="`x`.*shape"):
        v.require_element(np.zeros(5), X, "x")
    with pytest.raises(ValueError, match="`x`.*NaN"):
        v.require_element(np.array([0, np.nan, 0, 0]), X, "x")
    with pytest.raises(ValueError, match="`x` must be an element"):
        v.require_element(unit_cell_space((4,), "float32").one(), X, "x")
    with pytest.raises(TypeError, match="`x`"):
        v.require_element(np.zeros(4, dtype=complex), X, "x")


def test_unit_interval():
    v.require_in_unit_interval([0, 0.5, 1], "weights")
    with pytest.raises(ValueError, match="`weights`.*\\[0, 1\\]"):
        v.require_in_unit_interval([0, 1.5], "weights")


def test_tikhonov_validation():
    X = unit_cell_space((4,))
    with pytest.raises(ValueError, match="`xi`"):
        Tikhonov(X, xi=-1.0)
    with pytest.raises(ValueError, match="`theta`"):
        Tikhonov(X).with_params([1.0, 2.0])
    with pytest.raises(ValueError, match="`theta`"):
        Tikhonov(X).with_params([np.nan])
    with pytest.raises(ValueError, match="`xi`"):
        Tikhonov(X).with_params([-2.0])


def test_parametrised_sum():
    X = unit_cell_space((5,))
    f = ParametrisedSum(Tikhonov(X, xi=1.0), Tikhonov(X, xi=3.0))
    assert f.param_names == ("xi", "xi")
    g = f.with_params([2.0, 5.0])
    assert g.params.tolist() == [2.0, 5.0] and g.strong_convexity == 7.0
    assert not f.params.flags.writeable
    with pytest.raises(ValueError, match="`functionals"):
        ParametrisedSum(Tikhonov(X), Tikhonov(unit_cell_space((6,))))
    with pytest.raises(TypeError, match="`functionals\\[1\\]`"):
        ParametrisedSum(Tikhonov(X), odl.functionals.L2Norm(X))
    with pytest.raises(ValueError, match="`functionals`"):
        ParametrisedSum()
