r"""Upper-level losses :math:`\ell(x, x^\dagger)`, one per training sample.

The upper objective of :class:`~odl_bilevel.bilevel.BilevelProblem` is

.. math::
    U(\theta) = \frac1n\sum_{i=1}^n \ell(\hat x_i(\theta), x_i^\dagger) + J(\theta).

A loss provides the value, the gradient :math:`\nabla_x\ell` (the right-hand
side of the adjoint system of the hypergradient) and the Lipschitz constant
:math:`L_\ell` of that gradient, which turns a certified lower-level error
:math:`\|x - \hat x\| \le \varepsilon` into a bound on the loss error
(:meth:`UpperLoss.error_bound`):

.. math::
    |\ell(x) - \ell(\hat x)| \le \|\nabla\ell(x)\|\,\varepsilon + \frac{L_\ell}{2}\varepsilon^2,

by Taylor's theorem with the descent lemma
:math:`|\ell(\hat x) - \ell(x) - \langle\nabla\ell(x), \hat x - x\rangle| \le
\frac{L_\ell}{2}\|\hat x - x\|^2`. For the squared error
:math:`\ell = \|x - x^\dagger\|^2`, :math:`L_\ell = 2` and the bound is
:math:`\|\nabla\ell(x)\|\varepsilon + \varepsilon^2`, exact in the worst case.

*Component losses.* When the lower-level variable is a product-space element
:math:`z = (z_0, z_1, \dots)` of which only one part is compared with the
ground truth — the image :math:`x = z_0` of the joint TGV² variable
:math:`z = (x, v)` — pass ``component=0``: the loss then reads
:math:`\ell(z, x^\dagger) = \tilde\ell(z_0, x^\dagger)`, targets live in the
space of :math:`z_0`, and :math:`\nabla_z\ell = (\nabla\tilde\ell(z_0), 0, \dots)`.
The error bound above needs only :math:`\|z_0 - \hat z_0\| \le \varepsilon`.
"""

import math
import numbers

import odl

from .._numeric import real_dot
from ._elements import element_norm, flatten

__all__ = ["SquaredError", "UpperLoss"]


def _check_component(component):
    if component is None:
        return None
    if isinstance(component, bool) or not isinstance(component, numbers.Integral):
        raise TypeError(f"`component` must be a non-negative integer or None, got {component!r}")
    if component < 0:
        raise ValueError(f"`component` must be non-negative, got {component}")
    return int(component)


class UpperLoss:
    r"""Upper loss :math:`\ell(x, x^\dagger)` given by callables, optionally on one component.

    Parameters
    ----------
    value : callable
        ``value(x, target) -> float``, :math:`\ell(x, x^\dagger)`.
    gradient : callable
        ``gradient(x, target) -> element of x.space``, :math:`\nabla_x\ell`.
    lipschitz : float
        Lipschitz constant :math:`L_\ell \ge 0` of :math:`\nabla_x\ell`
        (``nan`` if unknown: error bounds are then infinite).
    component : int, optional
        If given, the lower-level variable is a product-space element
        :math:`z` and ``value``/``gradient`` act on its part
        ``z[component]``; the gradient is embedded in :math:`z`'s space
        with zeros elsewhere, and targets are elements of
        ``domain[component]``.

    Raises
    ------
    TypeError
        If ``value`` or ``gradient`` is not callable, or ``component`` is not an int.
    ValueError
        If ``lipschitz`` is negative or ``component`` is negative.

    Notes
    -----
    For a :class:`concurrent.futures.ProcessPoolExecutor` or a
    ``dask.distributed`` executor the callables must be picklable (module-level
    functions, not lambdas). The loss itself is evaluated in the parent
    process; it travels to workers only inside hypergradient tasks.

    Examples
    --------
    A halved squared error :math:`\ell = \frac12\|x - x^\dagger\|^2`:

    >>> import odl
    >>> def value(x, t):
    ...     return 0.5 * float((x - t).inner(x - t))
    >>> def gradient(x, t):
    ...     return x - t
    >>> loss = UpperLoss(value, gradient, 1.0)
    >>> X = odl.rn(3)
    >>> loss(X.one(), X.zero()), loss.lipschitz
    (1.5, 1.0)
    """

    #: Lipschitz constant of :meth:`residual` (``nan``: no residual form).
    residual_lipschitz = math.nan

    def __init__(self, value, gradient, lipschitz, *, component=None):
        for name, fn in (("value", value), ("gradient", gradient)):
            if not callable(fn):
                raise TypeError(f"`{name}` must be callable, got {type(fn).__name__}")
        self._value = value
        self._gradient = gradient
        self._lipschitz = self._check_lipschitz(lipschitz)
        self._component = _check_component(component)

    @staticmethod
    def _check_lipschitz(lipschitz):
        try:
            lip = float(lipschitz)
        except (TypeError, ValueError) as err:
            raise TypeError(f"`lipschitz` must be a real number, got {lipschitz!r}") from err
        if lip < 0:
            raise ValueError(f"`lipschitz` must be non-negative (or nan), got {lip}")
        return lip

    @property
    def lipschitz(self):
        r"""Lipschitz constant :math:`L_\ell` of :math:`\nabla_x\ell` (``nan`` if unknown)."""
        return self._lipschitz

    @property
    def component(self):
        """The product-space component the loss reads, or ``None`` for the whole variable."""
        return self._component

    def target_space(self, domain):
        """Space of the targets for lower-level variables in ``domain``.

        Raises
        ------
        ValueError
            If ``component`` is set and ``domain`` is not a product space with
            that many parts.
        """
        if self._component is None:
            return domain
        if not isinstance(domain, odl.ProductSpace) or self._component >= len(domain):
            raise ValueError(
                f"`component` = {self._component} needs a product space with more than "
                f"{self._component} parts, got {domain}"
            )
        return domain[self._component]

    def _part(self, x):
        return x if self._component is None else x[self._component]

    # -- the loss ------------------------------------------------------------------------
    def _part_value(self, x, target):
        return self._value(x, target)

    def _part_gradient(self, x, target):
        return self._gradient(x, target)

    def value(self, x, target):
        r"""Return :math:`\ell(x, x^\dagger)` as a Python float."""
        return float(self._part_value(self._part(x), target))

    __call__ = value

    def gradient(self, x, target):
        r"""Return :math:`\nabla_x\ell(x, x^\dagger)`, a new element of ``x.space``.

        Raises
        ------
        ValueError
            If the ``gradient`` callable returns an element of another space.
        """
        part = self._part(x)
        g = self._part_gradient(part, target)
        if getattr(g, "space", None) != part.space:
            raise ValueError(
                f"`gradient` must return an element of {part.space}, got {type(g).__name__}"
            )
        if self._component is None:
            return g
        full = x.space.zero()
        full[self._component].assign(g)
        return full

    def residual(self, x, target):
        r"""Return :math:`r` with :math:`\|r\|^2 = \ell(x, x^\dagger)` (least-squares form).

        Raises
        ------
        NotImplementedError
            For losses without a least-squares form (the generic callables).
        """
        raise NotImplementedError(f"{type(self).__name__} has no least-squares residual form")

    def error_bound(self, x, target, error, *, gradient=None):
        r"""Bound the loss error: :math:`\|\nabla\ell(x)\|\varepsilon + L_\ell\varepsilon^2/2`.

        Parameters
        ----------
        x, target
            Point and ground truth.
        error : float
            Certified :math:`\varepsilon \ge \|x - \hat x\|` (of the component
            the loss reads); ``inf``/``nan`` give ``inf``.
        gradient : element, optional
            :math:`\nabla\ell(x)` if already computed.
        """
        return loss_error_bound(self, x, target, error, gradient=gradient)

    def __repr__(self):
        comp = "" if self._component is None else f", component={self._component}"
        return f"{type(self).__name__}(lipschitz={self._lipschitz}{comp})"


def loss_error_bound(loss, x, target, error, *, gradient=None):
    """:meth:`UpperLoss.error_bound` for any object with ``gradient`` and ``lipschitz``."""
    error = float(error)
    if not math.isfinite(error):
        return math.inf
    if error == 0.0:
        return 0.0
    lip = float(getattr(loss, "lipschitz", math.nan))
    if not math.isfinite(lip):
        return math.inf
    g = loss.gradient(x, target) if gradient is None else gradient
    return element_norm(g) * error + 0.5 * lip * error * error


class SquaredError(UpperLoss):
    r"""Squared error :math:`\ell(x, x^\dagger) = \|x - x^\dagger\|^2`, the default upper loss.

    .. math::
        \nabla_x\ell = 2(x - x^\dagger), \qquad L_\ell = 2,
        \qquad r(x) = x - x^\dagger,\ \|r\|^2 = \ell,

    so :math:`\frac1n\sum_i\ell` is the mean squared error over the training
    set and :meth:`residual` gives the least-squares form used by
    derivative-free engines (Ehrhardt & Roberts 2021).

    Parameters
    ----------
    component : int, optional
        Compare only ``z[component]`` of a product-space variable :math:`z`
        with the target (e.g. ``component=0`` for the image part of the joint
        TGV² variable :math:`z = (x, v)`); see :class:`UpperLoss`.

    Examples
    --------
    >>> import odl
    >>> from odl_bilevel.functionals import SmoothedTGV
    >>> from odl_bilevel.operators import unit_cell_space
    >>> X = unit_cell_space(3)
    >>> SquaredError()(X.one(), X.zero())
    3.0
    >>> Z = SmoothedTGV.joint_space(X)              # z = (x, v)
    >>> loss = SquaredError(component=0)
    >>> loss(Z.one(), X.zero())                     # only x counts: 3, not 6
    3.0
    >>> [round(float(t), 6) for t in loss.gradient(Z.one(), X.zero())[1]]   # zero on v
    [0.0, 0.0, 0.0]
    """

    residual_lipschitz = 1.0

    def __init__(self, *, component=None):
        self._lipschitz = 2.0
        self._component = _check_component(component)

    def _part_value(self, x, target):
        r = flatten(x) - flatten(target)
        return real_dot(r, r)

    def _part_gradient(self, x, target):
        g = x - target
        g *= 2.0
        return g

    def residual(self, x, target):
        r"""Return :math:`r = x - x^\dagger` (of the component read) as a flat float64 vector."""
        return flatten(self._part(x)) - flatten(target)

    def __repr__(self):
        comp = "" if self._component is None else f"component={self._component}"
        return f"SquaredError({comp})"
