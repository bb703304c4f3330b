r"""Upper losses given only by their values, in least-squares form for derivative-free engines.

Image-quality losses such as :math:`1 - \mathrm{SSIM}` or :math:`-\mathrm{PSNR}`
are not (conveniently) differentiable, so the implicit-gradient engine cannot
use them, but a derivative-free least-squares engine can
(:func:`~odl_bilevel.upper.dfo`): with a lower bound :math:`c \le \ell`,

.. math::
    r_i = \sqrt{\ell(x_i, x_i^\dagger) - c}, \qquad
    \|r\|^2 = \frac1n\sum_i\ell(x_i, x_i^\dagger) - c,

so minimising :math:`\|r\|^2 + J` minimises the upper objective (up to the
constant :math:`c`). The value is any Python callable (written with numpy,
scikit-image, ...); nothing here imports the :mod:`odl_bilevel.metrics` leaf.

*Error bounds.* If :math:`\ell` is :math:`L`-Lipschitz in :math:`x`
(``value_lipschitz``), a certified lower-level error
:math:`\|x - \hat x\| \le \varepsilon` gives
:math:`|\ell(x) - \ell(\hat x)| \le L\varepsilon` and, since
:math:`|\sqrt a - \sqrt b| \le \min(\sqrt{|a - b|}, |a - b|/\sqrt a)`,

.. math::
    |r_i(x) - r_i(\hat x)| \le \min\Big(\sqrt{L\varepsilon},\ \frac{L\varepsilon}{r_i(x)}\Big).

Without a Lipschitz constant every bound is ``inf``; the derivative-free
engine then keeps its accuracy schedule but cannot certify it (see
:func:`~odl_bilevel.upper.dfo`).
"""

import math

import numpy as np

from ._losses import UpperLoss, _check_component

__all__ = ["NonsmoothLoss"]


class NonsmoothLoss(UpperLoss):
    r"""A loss given by its values :math:`\ell \ge c`, with residual :math:`\sqrt{\ell - c}`.

    Parameters
    ----------
    value : callable
        ``value(x, target) -> float``, :math:`\ell(x, x^\dagger)`, for
        elements of the lower-level domain (or of its part ``component``).
        Read the arrays with ``x.asarray()``.
    lower_bound : float, optional
        :math:`c` with :math:`\ell \ge c` everywhere (0 for :math:`1 -
        \mathrm{SSIM}` on images whose SSIM is at most 1; e.g. :math:`-100` for
        :math:`-\mathrm{PSNR}` in dB when the error never falls below
        :math:`10^{-10}` of the peak).
    value_lipschitz : float, optional
        Lipschitz constant :math:`L` of :math:`x \mapsto \ell(x, x^\dagger)`
        (Euclidean norm). Without it the error bounds are ``inf``.
    component : int, optional
        Read only ``x[component]`` of a product-space variable (as in
        :class:`UpperLoss`).

    Raises
    ------
    TypeError
        If ``value`` is not callable or a number argument is not real.
    ValueError
        If ``lower_bound`` is not finite or ``value_lipschitz`` is negative.

    Notes
    -----
    :meth:`gradient` raises: there is no hypergradient for this loss, and
    :meth:`BilevelProblem.value_and_gradient` refuses it. :meth:`value`,
    :meth:`error_bound` (:math:`L\varepsilon`) and the least-squares form
    :meth:`residual` / :meth:`residual_error_bound` serve
    :meth:`BilevelProblem.objective` and :meth:`BilevelProblem.residuals`.
    A value below ``lower_bound`` raises ``ValueError`` when the residual is
    formed (the square root would be undefined).

    Examples
    --------
    A mean absolute error (not differentiable at 0), Lipschitz with
    :math:`L = 1/\sqrt N` on :math:`\mathbb{R}^N`:

    >>> import numpy as np, odl
    >>> def mae(x, t):
    ...     return float(np.mean(np.abs(x.asarray() - t.asarray())))
    >>> X = odl.rn(4)
    >>> loss = NonsmoothLoss(mae, value_lipschitz=0.5)
    >>> x, t = X.element([1.0, 1.0, 1.0, 1.0]), X.zero()
    >>> loss(x, t), loss.residual(x, t).tolist()
    (1.0, [1.0])
    >>> round(loss.residual_error_bound(x, t, 1e-2), 6)      # min(sqrt(L eps), L eps / r)
    0.005
    """

    def __init__(self, value, *, lower_bound=0.0, value_lipschitz=None, component=None):
        if not callable(value):
            raise TypeError(f"`value` must be callable, got {type(value).__name__}")
        self._value = value
        try:
            c = float(lower_bound)
        except (TypeError, ValueError) as err:
            raise TypeError(f"`lower_bound` must be a real number, got {lower_bound!r}") from err
        if not math.isfinite(c):
            raise ValueError(f"`lower_bound` must be finite, got {c}")
        self._lower_bound = c
        if value_lipschitz is None:
            self._value_lipschitz = math.inf
        else:
            try:
                lip = float(value_lipschitz)
            except (TypeError, ValueError) as err:
                raise TypeError(
                    f"`value_lipschitz` must be a real number or None, got {value_lipschitz!r}"
                ) from err
            if not lip >= 0:
                raise ValueError(f"`value_lipschitz` must be non-negative, got {lip}")
            self._value_lipschitz = lip
        self._lipschitz = math.nan  # no gradient, so no gradient Lipschitz constant
        self._component = _check_component(component)

    #: This loss has no gradient (:meth:`BilevelProblem.value_and_gradient` checks it).
    differentiable = False

    @property
    def lower_bound(self):
        r"""The lower bound :math:`c \le \ell`."""
        return self._lower_bound

    @property
    def value_lipschitz(self):
        r"""Lipschitz constant :math:`L` of :math:`\ell` in :math:`x` (``inf`` if unknown)."""
        return self._value_lipschitz

    def _part_gradient(self, x, target):
        raise NotImplementedError(
            f"{type(self).__name__} has no gradient; learn with a derivative-free engine "
            "(odl_bilevel.upper.dfo)"
        )

    def gradient(self, x, target):
        """Raise ``NotImplementedError``: the loss is given by values only."""
        return self._part_gradient(x, target)

    def residual(self, x, target):
        r"""Return the one-entry residual :math:`[\sqrt{\ell(x, x^\dagger) - c}]`.

        Raises
        ------
        ValueError
            If :math:`\ell < c` (beyond rounding), naming ``lower_bound``. A NaN
            value gives ``[nan]``.
        """
        ell = self.value(x, target)
        if math.isnan(ell):  # a diverged lower-level solve: pass the NaN on
            return np.array([math.nan])
        gap = ell - self._lower_bound
        if gap < -1e-12 * max(1.0, abs(self._lower_bound)):
            raise ValueError(
                f"the loss value {ell} lies below `lower_bound` = {self._lower_bound}"
            )
        return np.array([math.sqrt(max(gap, 0.0))])

    def residual_error_bound(self, x, target, error):
        r"""Bound :math:`|r(x) - r(\hat x)|` given :math:`\|x - \hat x\| \le \varepsilon`.

        :math:`\min(\sqrt{L\varepsilon}, L\varepsilon/r(x))`; ``inf`` without
        ``value_lipschitz`` or for a non-finite ``error``.
        """
        error = float(error)
        if error == 0.0:
            return 0.0
        if not math.isfinite(error) or not math.isfinite(self._value_lipschitz):
            return math.inf
        change = self._value_lipschitz * error
        if change == 0.0:
            return 0.0
        r = float(self.residual(x, target)[0])
        return min(math.sqrt(change), change / r) if r > 0 else math.sqrt(change)

    def error_bound(self, x, target, error, *, gradient=None):
        r"""Bound :math:`|\ell(x) - \ell(\hat x)| \le L\varepsilon` (``inf`` without :math:`L`)."""
        error = float(error)
        if error == 0.0:
            return 0.0
        if not math.isfinite(error) or not math.isfinite(self._value_lipschitz):
            return math.inf
        return self._value_lipschitz * error

    def __repr__(self):
        comp = "" if self._component is None else f", component={self._component}"
        return (
            f"NonsmoothLoss(lower_bound={self._lower_bound}, "
            f"value_lipschitz={self._value_lipschitz}{comp})"
        )
