"""Linear operators with exact adjoints, working on raw arrays (bottom layer).

Every operator is an :class:`odl.Operator` on unit-cell spaces
(:func:`unit_cell_space`) with a cached exact ``adjoint`` and in-place
evaluation; each passes :func:`odl_bilevel.testing.check_adjoint` in the test
suite, 1-D and 2-D, float32 and float64.
"""

from ._filters import FilterBank, FilterDerivative, dct_filters
from ._finite_diff import (
    NeumannGradient,
    SecondOrderDifferences,
    SymmetrisedGradient,
    symmetric_components,
)
from ._fourier import FourierMultiplier, UnitaryDFT
from ._sampling import CartesianSampling, SampledFourier, free_sampling
from ._spaces import unit_cell_space

__all__ = [
    "CartesianSampling",
    "FilterBank",
    "FilterDerivative",
    "FourierMultiplier",
    "NeumannGradient",
    "SampledFourier",
    "SecondOrderDifferences",
    "SymmetrisedGradient",
    "UnitaryDFT",
    "dct_filters",
    "free_sampling",
    "symmetric_components",
    "unit_cell_space",
]
