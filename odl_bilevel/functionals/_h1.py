r"""H¹ seminorm :math:`F(x;\omega) = \frac{\omega}{2}\|\nabla x\|^2`."""

import numpy as np

from .._validation import require_nonnegative, require_unit_cell_space
from ..operators import NeumannGradient
from ._base import HessianOperator, ParametrisedFunctional, ParamLinearOperator

__all__ = ["H1Seminorm"]


class H1Seminorm(ParametrisedFunctional):
    r"""H¹ seminorm :math:`F(x;\omega) = \frac{\omega}{2}\|\nabla x\|^2`, :math:`\theta=(\omega)`.

    :math:`\nabla` is the forward-difference
    :class:`~odl_bilevel.operators.NeumannGradient`, so
    :math:`\nabla^T\nabla = -\Delta` is the Neumann Laplacian.

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Unit-cell real space :math:`X`.
    weight : float
        Weight :math:`\omega \ge 0`.

    Raises
    ------
    ValueError
        If ``weight`` is negative or not finite, or ``space`` is not a real
        unit-cell space.
    TypeError
        If ``space`` is not a discretised/tensor space.

    Notes
    -----
    Derivatives: :math:`\nabla_x F = \omega\nabla^T\nabla x`,
    :math:`\nabla^2_x F = \omega\nabla^T\nabla` (constant, positive
    semidefinite, with the constants in its kernel, so the strong-convexity
    modulus is 0), :math:`\|\nabla^2_xF\| \le 4d\,\omega` (:attr:`grad_lipschitz`),
    :math:`\partial_\omega F = \frac12\|\nabla x\|^2` and
    :math:`\partial_\omega\nabla_x F\,\delta = \delta\,\nabla^T\nabla x`.
    The Hessian does not depend on :math:`x` (:attr:`hessian_lipschitz` is 0),
    and :math:`(C(x) - C(z))\delta = \delta\,\nabla^T\nabla(x - z)` gives
    :attr:`mixed_lipschitz` :math:`= \|\nabla\|^2 \le 4d`.

    References
    ----------
    Tikhonov, A. N., Arsenin, V. Y. (1977). *Solutions of Ill-Posed Problems*.
    Winston.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.operators import unit_cell_space
    >>> X = unit_cell_space(5)
    >>> f = H1Seminorm(X, weight=2.0)
    >>> round(f(X.element(np.arange(5.0))), 6)     # (2/2) * 4 unit steps
    4.0
    >>> [round(float(v), 6) for v in f.gradient(X.element(np.arange(5.0))).data]
    [-2.0, 0.0, 0.0, 0.0, 2.0]
    """

    def __init__(self, space, weight=1.0):
        require_unit_cell_space(space)
        weight = require_nonnegative(weight, "weight")
        grad = NeumannGradient(space)
        super().__init__(
            space, [weight], param_names=("weight",), grad_lipschitz=weight * grad.norm_bound
        )
        self._weight = weight
        self._grad = grad
        self._buf = np.empty((space.ndim, *space.shape), dtype=space.dtype)
        self._gradient = _H1Gradient(self)

    @property
    def weight(self):
        r"""The weight :math:`\omega`."""
        return self._weight

    @property
    def hessian_lipschitz(self):
        r"""0: the Hessian :math:`\omega\nabla^T\nabla` is constant."""
        return 0.0

    @property
    def mixed_lipschitz(self):
        r""":math:`\|\nabla\|^2 \le 4d`: :math:`(C(x)-C(z))\delta = \delta\nabla^T\nabla(x-z)`."""
        return float(self._grad.norm_bound)

    def _with_params(self, theta):
        return H1Seminorm(self.domain, weight=theta[0])

    def _sq_seminorm(self, x):
        comps = list(self._buf)
        self._grad._apply(x.data, comps)
        return float(sum(np.vdot(c.ravel(), c.ravel()) for c in comps))

    def _call(self, x):
        return 0.5 * self._weight * self._sq_seminorm(x)

    @property
    def gradient(self):
        r""":math:`\nabla_x F = \omega\nabla^T\nabla x` (linear: its own derivative)."""
        return self._gradient

    def param_gradient(self, x):
        r""":math:`\partial_\omega F = \frac12\|\nabla x\|^2`."""
        return self.param_space.element([0.5 * self._sq_seminorm(x)])

    def mixed_derivative(self, x):
        r""":math:`\delta \mapsto \delta\,\nabla^T\nabla x`, with adjoint.

        The adjoint is :math:`v \mapsto \langle\nabla^T\nabla x, v\rangle`.
        """
        lap = np.empty(self.domain.shape, dtype=self.domain.dtype)
        comps = list(self._buf)
        self._grad._apply(x.data, comps)
        self._grad._apply_adjoint_raw(comps, lap)

        def forward(dtheta, out):
            np.multiply(lap, float(dtheta[0]), out=out.data)

        def backward(v, out):
            out[0] = float(np.vdot(lap.ravel(), v.data.ravel()))

        return ParamLinearOperator(self.param_space, self.domain, forward, backward)

    def fourier_symbol(self, x):
        r"""Symbol :math:`w\lambda` of the Hessian :math:`w\nabla^T\nabla` (periodic boundary).

        :math:`\lambda` is :meth:`~odl_bilevel.operators.NeumannGradient.gram_symbol`;
        exact up to the boundary.
        """
        return self._weight * self._grad.gram_symbol()

    def fourier_majorant(self):
        r"""The symbol :math:`w\lambda` of the periodic :math:`w\nabla^T\nabla`, a majorant.

        The Neumann forward differences are the periodic ones without the
        wrap-around difference, so :math:`\|\nabla x\|^2 \le
        \langle x, F^H\mathrm{diag}(\lambda)F x\rangle` for every :math:`x`.
        """
        return self._weight * self._grad.gram_symbol()


class _H1Gradient(HessianOperator):
    """``x -> weight grad^T grad x``; linear, so it is its own derivative."""

    def __init__(self, func):
        super().__init__(func.domain)
        self._grad, self._weight = func._grad, func._weight
        self._buf = np.empty_like(func._buf)

    def _call(self, x, out):
        comps = list(self._buf)
        self._grad._apply(x.data, comps)
        if self._weight != 1.0:
            for c in comps:
                c *= self._weight
        self._grad._apply_adjoint_raw(comps, out.data)

    def derivative(self, x):
        """The Hessian :math:`\\omega\\nabla^T\\nabla` (independent of ``x``)."""
        return self
