r"""The data term of the TGV² denoising problem on the joint variable :math:`z = (x, v)`.

The smoothed TGV² regulariser (:class:`~odl_bilevel.functionals.SmoothedTGV`)
lives on :math:`Z = X^{1+d}`; its lower-level energy needs a data term on
:math:`Z` that sees only the image part :math:`x` (the upper loss compares only
:math:`x` with the clean image: ``SquaredError(component=0)``).
"""

import numpy as np
import odl

from .._numeric import real_dot
from .._validation import require_nonnegative
from ..functionals import HessianOperator, ParametrisedFunctional, ParamLinearOperator

__all__ = ["JointDenoisingFit"]


def _check_joint_space(space, name):
    if not (
        isinstance(space, odl.ProductSpace)
        and space.is_power_space
        and len(space) == 1 + space[0].ndim
    ):
        raise TypeError(f"`{name}` must be a joint space X^(1+d) (SmoothedTGV.joint_space(X))")
    return space


class JointDenoisingFit(ParametrisedFunctional):
    r"""Denoising data term on the joint TGV variable, plus a small Tikhonov on :math:`v`.

    .. math::

        D(z) = \frac12\|x - y\|^2 + \frac{\tau}{2}\|v\|^2, \qquad
        z = (x, v_1, \dots, v_d) \in X^{1+d},

    with no parameters. Gradient :math:`(x - y,\ \tau v)`, Hessian
    :math:`\mathrm{diag}(I, \tau I)`, so :math:`\nabla D` is
    :math:`\max(1,\tau)`-Lipschitz and :math:`D` is
    :math:`\min(1,\tau)`-strongly convex; the Hessian is constant
    (``hessian_lipschitz = 0``) and there are no parameters
    (``mixed_lipschitz = 0``).

    Why the :math:`\tau` term: the smoothed TGV² energy
    :math:`\frac12\|x-y\|^2 + \alpha\sum\sqrt{|\nabla x - v|^2+\nu^2}
    + \beta\sum\sqrt{|\mathcal{E}v|^2+\nu^2}` is strictly but not uniformly
    convex in :math:`v` (the pointwise Hessian of :math:`\sqrt{|g|^2+\nu^2}`
    has the eigenvalue :math:`\nu^2/(|g|^2+\nu^2)^{3/2} \to 0` as
    :math:`|g|\to\infty`), so it has no global strong-convexity modulus,
    and the certificate :math:`\|\nabla E(z)\|/\mu` of the lower-level
    solvers needs one. :math:`\tau > 0` supplies :math:`\mu = \min(1, \tau)`.

    Size of :math:`\tau`. Without the second-order term, minimising
    :math:`\alpha|\nabla x - v| + \frac{\tau}{2}|v|^2` pointwise over
    :math:`v` gives :math:`v = \nabla x` wherever :math:`|\nabla x| \le
    \alpha/\tau` (every gradient but the strongest edges, for
    :math:`\alpha/\tau \gtrsim 1` on images in :math:`[0, 1]`); there the
    term adds :math:`\frac{\tau}{2}\|\nabla x\|^2` to the regulariser,
    whose Hessian :math:`\tau\nabla^T\nabla \preceq 4d\tau I` is at most
    :math:`4d\tau` times that of the data term (8 % in 2-D for the default
    :math:`\tau = 10^{-2}`, and only at the highest frequencies). Its cost:
    the certificate divides by :math:`\mu = \tau`, and FISTA needs
    :math:`O(\sqrt{L/\tau})` iterations, so a larger :math:`\tau` is cheaper
    but further from TGV².

    Parameters
    ----------
    space : odl.ProductSpace
        The joint space :math:`X^{1+d}`
        (:meth:`~odl_bilevel.functionals.SmoothedTGV.joint_space`).
    data : array-like or element of ``space[0]``
        Noisy image :math:`y` (copied).
    tau : float, optional
        Weight :math:`\tau \ge 0` of :math:`\frac12\|v\|^2`.

    Raises
    ------
    TypeError
        If ``space`` is not a joint space :math:`X^{1+d}`.
    ValueError
        If ``data`` has the wrong shape or holds NaN/Inf, or ``tau < 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.functionals import SmoothedTGV
    >>> from odl_bilevel.operators import unit_cell_space
    >>> Z = SmoothedTGV.joint_space(unit_cell_space((4, 4)))
    >>> f = JointDenoisingFit(Z, np.zeros((4, 4)), tau=0.01)
    >>> round(f(Z.one()), 6)          # 16/2 + 0.01 * 32/2
    8.16
    >>> f.grad_lipschitz, f.strong_convexity
    (1.0, 0.01)
    """

    def __init__(self, space, data, *, tau=1e-2):
        space = _check_joint_space(space, "space")
        self._tau = require_nonnegative(tau, "tau")
        image = space[0]
        arr = np.asarray(data.data if hasattr(data, "space") else data)
        if arr.shape != image.shape:
            raise ValueError(f"`data` must have shape {image.shape}, got {arr.shape}")
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"`data` must be real-valued, got dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("`data` contains NaN or Inf")
        self._y = image.element(arr.astype(image.dtype, copy=True))
        super().__init__(space, [], param_names=(), grad_lipschitz=max(1.0, self._tau))
        self._gradient = _JointFitGradient(self)

    @property
    def data(self):
        """The noisy image :math:`y` (an element of the image space)."""
        return self._y

    @property
    def tau(self):
        r"""The weight :math:`\tau` of :math:`\frac12\|v\|^2`."""
        return self._tau

    @property
    def strong_convexity(self):
        return min(1.0, self._tau)

    @property
    def hessian_lipschitz(self):
        """0: the Hessian does not depend on :math:`z`."""
        return 0.0

    @property
    def mixed_lipschitz(self):
        """0: there are no parameters."""
        return 0.0

    def _with_params(self, theta):
        return self

    def _call(self, z):
        r = np.asarray(z[0].data, dtype=float) - np.asarray(self._y.data, dtype=float)
        value = 0.5 * real_dot(r, r)
        for vk in z.parts[1:]:
            a = np.asarray(vk.data, dtype=float)
            value += 0.5 * self._tau * real_dot(a, a)
        return value

    @property
    def gradient(self):
        r""":math:`\nabla D(z) = (x - y, \tau v)`, the Hessian :math:`\mathrm{diag}(I,\tau I)`."""
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
        self._y, self._tau = func.data, func.tau
        self._hessian = _JointFitHessian(func.domain, func.tau)

    def _call(self, z, out):
        np.subtract(z[0].data, self._y.data, out=out[0].data)
        for vk, ok in zip(z.parts[1:], out.parts[1:], strict=True):
            np.multiply(vk.data, self._tau, out=ok.data)

    def derivative(self, z):
        r"""The constant Hessian :math:`\mathrm{diag}(I, \tau I)`."""
        return self._hessian


class _JointFitHessian(HessianOperator):
    def __init__(self, space, tau):
        super().__init__(space)
        self._tau = tau

    def _call(self, dz, out):
        np.copyto(out[0].data, dz[0].data)
        for vk, ok in zip(dz.parts[1:], out.parts[1:], strict=True):
            np.multiply(vk.data, self._tau, out=ok.data)
