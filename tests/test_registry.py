"""Run the public checkers over every registered operator and functional.

1-D and 2-D, float32 and float64, two sizes each, seeded random inputs.
"""

import zlib

import numpy as np
import pytest
from registry import all_cases

from odl_bilevel.operators import unit_cell_space
from odl_bilevel.testing import (
    check_adjoint,
    check_fourier_majorant,
    check_gradient,
    check_hessian,
    check_param_derivative,
)

SHAPES = {1: [(16,), (33,)], 2: [(8, 8), (11, 14)]}
DTYPES = ["float64", "float32"]


def _params():
    for case in all_cases():
        for ndim in case.ndims:
            for shape in SHAPES[ndim]:
                for dtype in DTYPES:
                    sid = "x".join(map(str, shape))
                    yield pytest.param(case, shape, dtype, id=f"{case.name}-{sid}-{dtype}")


def _setup(case, shape, dtype):
    seed = zlib.crc32(f"{case.name}{shape}{dtype}".encode())
    rng = np.random.default_rng(seed)
    return case.build(unit_cell_space(shape, dtype), rng), rng


def _point(case, obj, rng):
    return None if case.point is None else case.point(obj, rng)


@pytest.mark.parametrize(("case", "shape", "dtype"), list(_params()))
def test_registry(case, shape, dtype):
    obj, rng = _setup(case, shape, dtype)
    if case.kind == "operator":
        assert obj.is_linear
        check_adjoint(obj, rng=rng)
        # in-place evaluation agrees with out-of-place
        from odl_bilevel.testing import random_element

        x = random_element(obj.domain, rng)
        out = obj.range.element()
        obj(x, out=out)
        ref = obj(x)
        assert (out - ref).norm() <= 1e-5 * max(ref.norm(), 1.0)
    elif case.kind == "functional":
        x = _point(case, obj, rng)
        check_gradient(obj, x, rng=rng)
        check_hessian(obj, x, rng=rng)
        if hasattr(obj, "params") and obj.params.size:
            check_param_derivative(obj, x, rng=rng)
        if getattr(obj, "fourier_majorant", lambda: None)() is not None:
            check_fourier_majorant(obj, rng=rng)  # at zero and at a random point
            if x is not None:
                check_fourier_majorant(obj, x, rng=rng)
    else:  # pragma: no cover - registry typo
        raise ValueError(case.kind)
