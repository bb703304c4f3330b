"""Registry entries: unitary DFT, sampling patterns, sampled Fourier and data fits."""

import odl

from odl_bilevel.functionals import L2DataFit, SampledDataFit
from odl_bilevel.operators import CartesianSampling, SampledFourier, UnitaryDFT
from odl_bilevel.testing import random_element
from registry import Case


def _weights(X, rng):
    return rng.uniform(0.0, 1.0, size=X.shape)


def _kspace(X, rng):
    return rng.standard_normal(X.shape) + 1j * rng.standard_normal(X.shape)


def _theta(n, rng):
    # inside [0.1, 0.9]: parameter perturbations of the checkers stay in [0, 1]
    return rng.uniform(0.1, 0.9, size=n)


CASES = [
    Case("UnitaryDFT-real", "operator", lambda X, rng: UnitaryDFT(X)),
    Case("UnitaryDFT-complex", "operator", lambda X, rng: UnitaryDFT(X.complex_space)),
    Case("UnitaryDFT-numpy", "operator", lambda X, rng: UnitaryDFT(X, impl="numpy")),
    Case(
        "CartesianSampling",
        "operator",
        lambda X, rng: CartesianSampling(X.shape, axis=X.ndim - 1, dtype=X.dtype),
    ),
    Case(
        "CartesianSampling-axis0",
        "operator",
        lambda X, rng: CartesianSampling(X.shape, axis=0, dtype=X.dtype),
        ndims=(2,),
    ),
    Case("SampledFourier", "operator", lambda X, rng: SampledFourier(X, _weights(X, rng))),
    Case(
        "SampledFourier-numpy",
        "operator",
        lambda X, rng: SampledFourier(X, _weights(X, rng), impl="numpy"),
    ),
    Case(
        "SampledFourier.weight_derivative",
        "operator",
        lambda X, rng: SampledFourier(X, _weights(X, rng)).weight_derivative(
            random_element(X, rng)
        ),
    ),
    Case(
        "L2DataFit-identity",
        "functional",
        lambda X, rng: L2DataFit(odl.IdentityOperator(X), random_element(X, rng)),
    ),
    Case(
        "L2DataFit-SampledFourier",
        "functional",
        lambda X, rng: L2DataFit(
            A := SampledFourier(X, _weights(X, rng)), random_element(A.range, rng)
        ),
    ),
    Case(
        "SampledDataFit-free",
        "functional",
        lambda X, rng: SampledDataFit(X, _kspace(X, rng), _theta(X.size, rng)),
    ),
    Case(
        "SampledDataFit-free-numpy",
        "functional",
        lambda X, rng: SampledDataFit(X, _kspace(X, rng), _theta(X.size, rng), impl="numpy"),
    ),
    Case(
        "SampledDataFit-Cartesian",
        "functional",
        lambda X, rng: SampledDataFit(
            X,
            _kspace(X, rng),
            _theta(X.shape[0], rng),
            sampling=CartesianSampling(X.shape, dtype=X.dtype),
        ),
        ndims=(2,),
    ),
]
