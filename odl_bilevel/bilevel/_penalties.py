r"""Penalties :math:`J(\theta)` added to the upper objective.

:math:`U(\theta) = \frac1n\sum_i\ell(\hat x_i(\theta), x_i^\dagger) + J(\theta)`.
A penalty is evaluated and differentiated on :math:`\theta` (the energy's
parameters), in the parent process; :class:`~odl_bilevel.bilevel.BilevelProblem`
chain-rules its gradient to the learned variables :math:`\varphi`. Any object
with ``__call__(theta) -> float`` and ``gradient(theta) -> ndarray`` works;
:class:`Penalty` is the small base class (penalties add with ``+``).
"""

import numpy as np

from .._validation import require_nonnegative

__all__ = ["ConditionPenalty", "L1Penalty", "Penalty"]


def _theta(theta):
    theta = np.array(theta, dtype=float).ravel()
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"`theta` contains NaN or Inf: {theta.tolist()}")
    return theta


class Penalty:
    r"""Base class of penalties :math:`J(\theta)`: value and gradient on :math:`\theta`.

    Subclasses implement ``_value(theta)`` and ``_gradient(theta)`` on a
    validated float64 vector. ``J1 + J2`` is the sum.
    """

    def __call__(self, theta):
        r"""Return :math:`J(\theta)` as a Python float."""
        return float(self._value(_theta(theta)))

    def gradient(self, theta):
        r"""Return :math:`\nabla J(\theta)` (float64 array of the shape of ``theta``)."""
        theta = _theta(theta)
        g = np.array(self._gradient(theta), dtype=float).ravel()
        if g.size != theta.size:
            raise ValueError(f"penalty gradient has {g.size} entries, theta has {theta.size}")
        return g

    def _value(self, theta):
        raise NotImplementedError

    def _gradient(self, theta):
        raise NotImplementedError

    def __add__(self, other):
        if not (callable(other) and hasattr(other, "gradient")):
            return NotImplemented
        return _PenaltySum(self, other)


class _PenaltySum(Penalty):
    """Sum of penalties."""

    def __init__(self, *terms):
        self.terms = tuple(terms)

    def _value(self, theta):
        return sum(float(t(theta)) for t in self.terms)

    def _gradient(self, theta):
        return sum(np.asarray(t.gradient(theta), dtype=float) for t in self.terms)

    def __repr__(self):
        return " + ".join(repr(t) for t in self.terms)


def _check_callable(fn, name):
    if not callable(fn):
        raise TypeError(f"`{name}` must be callable, got {type(fn).__name__}")
    return fn


class ConditionPenalty(Penalty):
    r"""Condition-number penalty :math:`J(\theta) = \beta\,(L(\theta)/\mu(\theta))^2`.

    Penalises ill-conditioned lower-level problems, which cost many solver
    iterations (Ehrhardt & Roberts 2021): :math:`L(\theta)` and
    :math:`\mu(\theta)` are the Lipschitz constant of :math:`\nabla_xE` and
    the strong-convexity modulus of :math:`E(\cdot;\theta)`. With
    :math:`\kappa = L/\mu`,

    .. math::
        \nabla J = 2\beta\kappa\,\frac{\mu\nabla L - L\nabla\mu}{\mu^2}.

    Parameters
    ----------
    beta : float
        Weight :math:`\beta \ge 0`.
    lipschitz, strong_convexity : callable
        ``lipschitz(theta) -> float`` and ``strong_convexity(theta) -> float``
        (:math:`\mu > 0`).
    lipschitz_gradient, strong_convexity_gradient : callable
        Their gradients ``(theta) -> array`` of the shape of ``theta``.

    Raises
    ------
    TypeError
        If a callable argument is not callable.
    ValueError
        If ``beta < 0``; at evaluation, if :math:`\mu(\theta) \le 0`.

    References
    ----------
    M. J. Ehrhardt and L. Roberts, Inexact derivative-free optimization for
    bilevel learning, *J. Math. Imaging Vision* 63:580-600, 2021.

    Examples
    --------
    The talk's 1-D denoising constants :math:`L = 1 + \alpha(4/\nu + \xi)`,
    :math:`\mu = 1 + \alpha\xi` for :math:`\theta = (\alpha, \nu, \xi)`:

    >>> import numpy as np
    >>> J = ConditionPenalty(
    ...     1e-3,
    ...     lambda t: 1 + t[0] * (4 / t[1] + t[2]),
    ...     lambda t: 1 + t[0] * t[2],
    ...     lipschitz_gradient=lambda t: np.array(
    ...         [4 / t[1] + t[2], -4 * t[0] / t[1] ** 2, t[0]]),
    ...     strong_convexity_gradient=lambda t: np.array([t[2], 0.0, t[0]]),
    ... )
    >>> round(J([1.0, 1.0, 1.0]), 6)     # 1e-3 * (6 / 2)^2
    0.009
    """

    def __init__(
        self,
        beta,
        lipschitz,
        strong_convexity,
        *,
        lipschitz_gradient,
        strong_convexity_gradient,
    ):
        self._beta = require_nonnegative(beta, "beta")
        self._L = _check_callable(lipschitz, "lipschitz")
        self._mu = _check_callable(strong_convexity, "strong_convexity")
        self._dL = _check_callable(lipschitz_gradient, "lipschitz_gradient")
        self._dmu = _check_callable(strong_convexity_gradient, "strong_convexity_gradient")

    @property
    def beta(self):
        r"""The weight :math:`\beta`."""
        return self._beta

    def _constants(self, theta):
        L, mu = float(self._L(theta)), float(self._mu(theta))
        if not (np.isfinite(L) and np.isfinite(mu)) or mu <= 0:
            raise ValueError(
                f"`strong_convexity(theta)` must be positive and `lipschitz(theta)` finite, "
                f"got mu={mu}, L={L} at theta={theta.tolist()}"
            )
        return L, mu

    def condition_number(self, theta):
        r"""Return :math:`\kappa(\theta) = L(\theta)/\mu(\theta)`."""
        L, mu = self._constants(_theta(theta))
        return L / mu

    def _value(self, theta):
        L, mu = self._constants(theta)
        return self._beta * (L / mu) ** 2

    def _gradient(self, theta):
        L, mu = self._constants(theta)
        dL = np.asarray(self._dL(theta), dtype=float).ravel()
        dmu = np.asarray(self._dmu(theta), dtype=float).ravel()
        return 2.0 * self._beta * (L / mu) * (mu * dL - L * dmu) / mu**2

    def __repr__(self):
        return f"ConditionPenalty(beta={self._beta})"


class L1Penalty(Penalty):
    r"""Sampling penalty :math:`J(s) = \beta_1\|s\|_1 + \beta_2\|s\odot(1-s)\|_1` on the box.

    For sampling weights :math:`s` (Sherry et al. 2020) the first term
    promotes few samples, the second binary weights. On the box
    :math:`[0,1]^m` both absolute values are inactive, so

    .. math::
        J(s) = \sum_j \beta_1 s_j + \beta_2 s_j(1-s_j),
        \qquad \nabla J(s) = \beta_1 + \beta_2(1 - 2s),

    a smooth (quadratic) function on the box, which is what a bound-constrained
    optimiser such as L-BFGS-B sees. Outside the box the absolute values are
    evaluated as written, with the gradient
    :math:`\beta_1\operatorname{sign}(s) + \beta_2\operatorname{sign}(s(1-s))(1-2s)`.
    On the box boundary (:math:`s_j \in \{0, 1\}`) the gradient is the
    one-sided derivative from inside the box.

    Parameters
    ----------
    beta1 : float
        Weight :math:`\beta_1 \ge 0` of :math:`\|s\|_1`.
    beta2 : float, optional
        Weight :math:`\beta_2 \ge 0` of :math:`\|s(1-s)\|_1`.
    indices : array-like of int or slice, optional
        Entries of :math:`\theta` that are the weights :math:`s` (default: all);
        the gradient is zero on the others.

    Raises
    ------
    ValueError
        If ``beta1`` or ``beta2`` is negative.

    References
    ----------
    F. Sherry et al., Learning the sampling pattern for MRI, *IEEE Trans.
    Med. Imaging* 39(12):4310-4321, 2020.

    Examples
    --------
    >>> J = L1Penalty(1.0, 4.0)
    >>> J([0.0, 0.5, 1.0]), J.gradient([0.0, 0.5, 1.0]).tolist()
    (2.5, [5.0, 1.0, -3.0])
    """

    def __init__(self, beta1, beta2=0.0, *, indices=None):
        self._beta1 = require_nonnegative(beta1, "beta1")
        self._beta2 = require_nonnegative(beta2, "beta2")
        if indices is None or isinstance(indices, slice):
            self._indices = slice(None) if indices is None else indices
        else:
            idx = np.asarray(indices)
            if idx.dtype.kind not in "iu" or idx.ndim != 1:
                raise TypeError(
                    f"`indices` must be a 1-D integer array or a slice, got {indices!r}"
                )
            self._indices = idx.astype(int)

    @property
    def beta1(self):
        r"""Weight :math:`\beta_1`."""
        return self._beta1

    @property
    def beta2(self):
        r"""Weight :math:`\beta_2`."""
        return self._beta2

    def _value(self, theta):
        s = theta[self._indices]
        return self._beta1 * float(np.sum(np.abs(s))) + self._beta2 * float(
            np.sum(np.abs(s * (1.0 - s)))
        )

    def _gradient(self, theta):
        s = theta[self._indices]
        inside = (s >= 0.0) & (s <= 1.0)
        sign_s = np.where(inside, 1.0, np.sign(s))
        sign_q = np.where(inside, 1.0, np.sign(s * (1.0 - s)))
        g = np.zeros_like(theta)
        g[self._indices] = self._beta1 * sign_s + self._beta2 * sign_q * (1.0 - 2.0 * s)
        return g

    def __repr__(self):
        return f"L1Penalty(beta1={self._beta1}, beta2={self._beta2})"
