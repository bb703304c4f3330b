"""Small bilevel problems with known answers for the tests of odl_bilevel.bilevel."""

import numpy as np
import odl

from odl_bilevel.bilevel import BilevelProblem, ParameterMap, SquaredError
from odl_bilevel.functionals import (
    HessianOperator,
    L2DataFit,
    ParametrisedFunctional,
    ParametrisedSum,
    ParamLinearOperator,
    SmoothedTGV,
    SmoothedTV,
    Tikhonov,
)
from odl_bilevel.operators import unit_cell_space

__all__ = ["JointFit", "QuadraticCase", "piecewise_constant", "tgv_problem", "tv_problem"]


class QuadraticCase:
    r"""E_i = 1/2 |x - y_i|^2 + xi/2 |x|^2, x_hat_i = y_i / (1 + xi), learned phi = log xi.

    U(xi) = (1/n) sum_i |y_i/(1+xi) - t_i|^2,
    dU/dxi = -(2/n) sum_i <y_i/(1+xi) - t_i, y_i> / (1+xi)^2, dU/dphi = xi dU/dxi.
    """

    def __init__(self, rng, *, n_samples=3, length=16, **options):
        self.X = X = unit_cell_space((length,))
        self.targets = [rng.standard_normal(length) for _ in range(n_samples)]
        self.data = [t + 0.5 * rng.standard_normal(length) for t in self.targets]
        self.energies = [
            ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y), Tikhonov(X, xi=1.0))
            for y in self.data
        ]
        options.setdefault("lower_tol", 1e-10)
        options.setdefault("cg_tol", 1e-10)
        self.problem = BilevelProblem(
            self.energies,
            [X.element(t) for t in self.targets],
            parameter_map=ParameterMap.log(("xi",)),
            **options,
        )

    def x_hat(self, xi):
        return [y / (1.0 + xi) for y in self.data]

    def value(self, xi):
        return float(np.mean([np.sum((x - t) ** 2) for x, t in
                              zip(self.x_hat(xi), self.targets, strict=True)]))

    def dvalue_dxi(self, xi):
        return float(np.mean([-2.0 * np.dot(x - t, y) / (1.0 + xi) ** 2 for x, t, y in
                              zip(self.x_hat(xi), self.targets, self.data, strict=True)]))


def piecewise_constant(rng, length, jumps=4):
    """A piecewise-constant signal with random levels in [0, 1]."""
    edges = np.sort(rng.choice(np.arange(4, length - 4), size=jumps, replace=False))
    levels = rng.uniform(0.0, 1.0, size=jumps + 1)
    return np.repeat(levels, np.diff(np.concatenate([[0], edges, [length]])))


def tv_problem(rng, *, n_samples=2, length=48, sigma=0.1, nu=0.05, xi=1e-3, learn=("alpha",),
               **options):
    r"""1-D smoothed-TV denoising, theta = (alpha, nu, xi), log map learning ``learn``."""
    X = unit_cell_space((length,))
    targets = [piecewise_constant(rng, length) for _ in range(n_samples)]
    ys = [t + sigma * rng.standard_normal(length) for t in targets]
    energies = [
        ParametrisedSum(L2DataFit(odl.IdentityOperator(X), y), SmoothedTV(X, alpha=1.0, nu=nu),
                        Tikhonov(X, xi=xi))
        for y in ys
    ]
    fixed = {k: v for k, v in (("alpha", 0.1), ("nu", nu), ("xi", xi)) if k not in learn}
    pmap = ParameterMap.log(("alpha", "nu", "xi"), fixed=fixed)
    options.setdefault("lower_tol", 1e-8)
    options.setdefault("cg_tol", 1e-8)
    return BilevelProblem(energies, [X.element(t) for t in targets], parameter_map=pmap,
                          **options)


class JointFit(ParametrisedFunctional):
    r"""D(z) = 1/2 |x - y|^2 + tau/2 |v|^2 on the joint TGV space z = (x, v); no parameters."""

    def __init__(self, space, data, tau=0.5):
        super().__init__(space, [], param_names=(), grad_lipschitz=max(1.0, tau))
        self._y = space[0].element(np.array(data, dtype=float))
        self._tau = tau
        self._gradient = _JointFitGradient(self)

    @property
    def strong_convexity(self):
        return min(1.0, self._tau)

    @property
    def hessian_lipschitz(self):
        return 0.0

    @property
    def mixed_lipschitz(self):
        return 0.0

    def _with_params(self, theta):
        return self

    def _call(self, z):
        r = z[0].data - self._y.data
        return 0.5 * float(np.dot(r.ravel(), r.ravel())) + 0.5 * self._tau * sum(
            float(np.sum(v.data**2)) for v in z.parts[1:]
        )

    @property
    def gradient(self):
        return self._gradient

    def param_gradient(self, z):
        return self.param_space.zero()

    def mixed_derivative(self, z):
        def forward(dtheta, out):
            out.set_zero()

        def backward(v, out):
            out[...] = 0.0

        return ParamLinearOperator(self.param_space, self.domain, forward, backward)


class _JointFitGradient(odl.Operator):
    def __init__(self, func):
        super().__init__(func.domain, func.domain)
        self._func = func
        self._hessian = _JointFitHessian(func.domain, func._tau)

    def _call(self, z, out):
        np.subtract(z[0].data, self._func._y.data, out=out[0].data)
        for v, o in zip(z.parts[1:], out.parts[1:], strict=True):
            np.multiply(v.data, self._func._tau, out=o.data)

    def derivative(self, z):
        return self._hessian


class _JointFitHessian(HessianOperator):
    def __init__(self, space, tau):
        super().__init__(space)
        self._tau = tau

    def _call(self, dz, out):
        np.copyto(out[0].data, dz[0].data)
        for v, o in zip(dz.parts[1:], out.parts[1:], strict=True):
            np.multiply(v.data, self._tau, out=o.data)


def tgv_problem(rng, *, n_samples=2, shape=(6, 6), sigma=0.1, **options):
    r"""2-D smoothed TGV^2 denoising on z = (x, v), learning log(alpha), log(beta); nu fixed."""
    X = unit_cell_space(shape)
    Z = SmoothedTGV.joint_space(X)
    targets = [np.outer(np.linspace(0, 1, shape[0]), np.ones(shape[1])) + (k % 2) * 0.3
               for k in range(n_samples)]
    ys = [t + sigma * rng.standard_normal(shape) for t in targets]
    energies = [ParametrisedSum(JointFit(Z, y), SmoothedTGV(X, alpha=1.0, beta=1.0, nu=0.05))
                for y in ys]
    pmap = ParameterMap.log(("alpha", "beta", "nu"), fixed={"nu": 0.05})
    options.setdefault("lower_tol", 1e-9)
    options.setdefault("cg_tol", 1e-9)
    return BilevelProblem(energies, [X.element(t) for t in targets], parameter_map=pmap,
                          loss=SquaredError(component=0), **options)
