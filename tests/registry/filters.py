"""Filter banks, their coefficient derivatives and fields of experts."""

from odl_bilevel.functionals import FieldsOfExperts
from odl_bilevel.operators import FilterBank, dct_filters
from odl_bilevel.testing import random_element
from registry import Case


def _kernels(X, rng, n_filters=3):
    """A few random 3 (1-D) or 3x3 (2-D) kernels."""
    return rng.standard_normal((n_filters,) + (3,) * X.ndim) / 3


def _foe(potential, boundary="periodic"):
    def build(X, rng):
        filters = dct_filters((3,) * X.ndim)[: 4 if X.ndim == 2 else 2]
        filters = filters + 0.1 * rng.standard_normal(filters.shape)
        weights = rng.uniform(0.5, 1.5, size=len(filters))
        return FieldsOfExperts(
            X, filters, weights, potential=potential, nu=float(rng.uniform(0.8, 1.2)),
            boundary=boundary,
        )

    return build


CASES = [
    Case("FilterBank-periodic", "operator", lambda X, rng: FilterBank(X, _kernels(X, rng))),
    Case(
        "FilterBank-zero",
        "operator",
        lambda X, rng: FilterBank(X, _kernels(X, rng, 2), boundary="zero"),
    ),
    Case(
        "FilterDerivative-periodic",
        "operator",
        lambda X, rng: FilterBank(X, _kernels(X, rng)).filter_derivative(random_element(X, rng)),
    ),
    Case(
        "FilterDerivative-zero",
        "operator",
        lambda X, rng: FilterBank(X, _kernels(X, rng), boundary="zero").filter_derivative(
            random_element(X, rng)
        ),
    ),
    Case("FieldsOfExperts-log", "functional", _foe("log")),
    Case("FieldsOfExperts-charbonnier", "functional", _foe("charbonnier")),
    Case("FieldsOfExperts-log-zero", "functional", _foe("log", "zero")),
]
