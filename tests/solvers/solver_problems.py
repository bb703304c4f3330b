"""Small test problems with known solutions for the solver tests."""

import numpy as np
import odl

from odl_bilevel.functionals import L2DataFit, ParametrisedSum, Tikhonov
from odl_bilevel.operators import unit_cell_space

try:
    from odl_bilevel.functionals import SmoothedTV
except ImportError:  # not yet re-exported by the functionals layer
    from odl_bilevel.functionals._smooth_tv import SmoothedTV

__all__ = [
    "DiagonalQuadratic",
    "denoising_energy",
    "phantom",
    "quadratic_energy",
]


class _DiagonalHessian(odl.Operator):
    def __init__(self, space, diag):
        super().__init__(space, space, linear=True)
        self._diag = diag

    def _call(self, v, out):
        np.multiply(v.data, self._diag, out=out.data)

    @property
    def adjoint(self):
        return self


class _DiagonalGradient(odl.Operator):
    def __init__(self, func):
        super().__init__(func.domain, func.domain)
        self._f = func
        self._hess = _DiagonalHessian(func.domain, func.diag)

    def _call(self, x, out):
        np.multiply(x.data, self._f.diag, out=out.data)
        out.data[...] -= self._f.b

    def derivative(self, x):
        return self._hess


class DiagonalQuadratic(odl.functionals.Functional):
    r"""``E(x) = 0.5 <x, D x> - <b, x>`` with ``D = diag(d)``; minimiser ``b / d``."""

    def __init__(self, space, diag, b):
        self.diag = np.asarray(diag, dtype=space.dtype).reshape(space.shape)
        self.b = np.asarray(b, dtype=space.dtype).reshape(space.shape)
        super().__init__(space, linear=False, grad_lipschitz=float(self.diag.max()))
        self._gradient = _DiagonalGradient(self)

    @property
    def strong_convexity(self):
        return float(self.diag.min())

    @property
    def minimiser(self):
        return self.domain.element(self.b / self.diag)

    def _call(self, x):
        return float(0.5 * np.vdot(x.data, self.diag * x.data) - np.vdot(self.b, x.data))

    @property
    def gradient(self):
        return self._gradient


def quadratic_energy(space, y, xi):
    r"""``0.5 ||x - y||^2 + xi/2 ||x||^2``; minimiser ``y / (1 + xi)``."""
    return ParametrisedSum(L2DataFit(odl.IdentityOperator(space), y), Tikhonov(space, xi=xi))


def phantom(n, rng, noise=0.1):
    """A noisy piecewise-constant ``n x n`` image as a numpy array."""
    img = np.zeros((n, n))
    img[n // 4 : 3 * n // 4, n // 4 : 3 * n // 4] = 1.0
    img[n // 3 : n // 2, n // 8 : 7 * n // 8] = 0.5
    return img + noise * rng.standard_normal((n, n))


def denoising_energy(n, rng, *, alpha=0.05, nu=0.01, xi=1e-2, dtype="float64"):
    r"""``0.5 ||x - y||^2 + alpha (TV_nu(x) + xi/2 ||x||^2)`` on an ``n x n`` unit-cell space."""
    X = unit_cell_space((n, n), dtype=dtype)
    y = X.element(phantom(n, rng))
    return ParametrisedSum(
        L2DataFit(odl.IdentityOperator(X), y),
        SmoothedTV(X, alpha=alpha, nu=nu),
        Tikhonov(X, xi=alpha * xi),
    )
