r"""Tikhonov regulariser :math:`F(x;\xi) = \frac{\xi}{2}\|x\|^2`."""

import numpy as np

from .._numeric import real_dot
from .._validation import require_nonnegative, require_unit_cell_space
from ._base import HessianOperator, ParametrisedFunctional, ParamLinearOperator

__all__ = ["Tikhonov"]


class Tikhonov(ParametrisedFunctional):
    r"""Tikhonov regulariser :math:`F(x;\xi) = \frac{\xi}{2}\|x\|^2`, :math:`\theta=(\xi)`.

    Derivatives:
    :math:`\nabla_x F = \xi x`, :math:`\nabla^2_x F = \xi I`,
    :math:`\partial_\xi F = \frac12\|x\|^2`,
    :math:`\partial_\xi\nabla_x F\,\delta = \delta\,x`.
    The gradient is :math:`\xi`-Lipschitz and :math:`F` is :math:`\xi`-strongly convex.
    The Hessian does not depend on :math:`x` (:attr:`hessian_lipschitz` is 0)
    and :math:`(C(x) - C(z))\delta = \delta\,(x - z)`, so
    :attr:`mixed_lipschitz` is 1.

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Unit-cell real space :math:`X`.
    xi : float
        Weight :math:`\xi \ge 0`.

    Raises
    ------
    ValueError
        If ``xi`` is negative or not finite.

    Examples
    --------
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import check_param_derivative
    >>> X = unit_cell_space((4, 4))
    >>> f = Tikhonov(X, xi=0.5)
    >>> f(X.one()), f.strong_convexity
    (4.0, 0.5)
    >>> check_param_derivative(f, rng=0).passed
    True
    """

    def __init__(self, space, xi=1.0):
        require_unit_cell_space(space)
        xi = require_nonnegative(xi, "xi")
        super().__init__(space, [xi], param_names=("xi",), grad_lipschitz=xi)
        self._xi = xi

    @property
    def xi(self):
        r"""The weight :math:`\xi`."""
        return self._xi

    @property
    def strong_convexity(self):
        return self._xi

    @property
    def hessian_lipschitz(self):
        r"""0: the Hessian :math:`\xi I` is constant."""
        return 0.0

    @property
    def mixed_lipschitz(self):
        r"""1: :math:`\|(C(x)-C(z))\delta\| = |\delta|\,\|x-z\|`."""
        return 1.0

    def _with_params(self, theta):
        return Tikhonov(self.domain, xi=theta[0])

    def _call(self, x):
        return 0.5 * self._xi * real_dot(x.data, x.data)

    def fourier_symbol(self, x):
        r"""Exact: :math:`\xi` (the Hessian is :math:`\xi I`)."""
        return self._xi

    def fourier_majorant(self):
        r"""Exact: :math:`\xi` (the Hessian is :math:`\xi I`)."""
        return self._xi

    @property
    def gradient(self):
        r""":math:`\nabla_x F(x) = \xi x` as an operator; its derivative is :math:`\xi I`."""
        return _TikhonovGradient(self.domain, self._xi)

    def param_gradient(self, x):
        return self.param_space.element([0.5 * real_dot(x.data, x.data)])

    def mixed_derivative(self, x):
        xd = x.data

        def forward(dtheta, out):
            np.multiply(xd, dtheta[0], out=out.data)

        def backward(v, out):
            out[0] = real_dot(xd, v.data)

        return ParamLinearOperator(self.param_space, self.domain, forward, backward)


class _TikhonovGradient(HessianOperator):
    """x -> xi x; linear, so it is its own derivative (and self-adjoint)."""

    def __init__(self, space, xi):
        super().__init__(space)
        self._xi = xi

    def _call(self, x, out):
        np.multiply(x.data, self._xi, out=out.data)

    def derivative(self, x):
        return self
