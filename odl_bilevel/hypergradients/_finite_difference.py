r"""Central finite differences: the reference hypergradient for tests and examples."""

import numpy as np

from .._validation import require_finite, require_positive

__all__ = ["finite_difference_gradient"]


def finite_difference_gradient(fun, theta, *, step=1e-6, relative=True):
    r"""Gradient of a scalar function by central differences.

    .. math::
        \partial_i f(\theta) \approx \frac{f(\theta + h_ie_i) - f(\theta - h_ie_i)}
        {(\theta_i + h_i) - (\theta_i - h_i)},

    with :math:`h_i` = ``step`` :math:`\cdot|\theta_i|` (``relative=True``;
    ``step`` itself where :math:`\theta_i = 0`) or :math:`h_i` = ``step``
    (``relative=False``). The denominator is the difference of the two
    rounded arguments, which removes their rounding error. The truncation
    error is :math:`O(h_i^2)`; an evaluation error :math:`\delta` of ``fun``
    (e.g. an inexact lower-level solve) adds up to :math:`\delta/h_i`, so
    with inexact evaluations choose ``step`` of about
    :math:`\delta^{1/3}`. Costs :math:`2p` evaluations.

    Parameters
    ----------
    fun : callable
        ``fun(theta) -> float`` for a float64 array ``theta`` of shape ``(p,)``
        (it receives a fresh copy at every call).
    theta : array-like
        Point :math:`\theta \in \mathbb{R}^p` (flattened).
    step : float, optional
        Relative (or absolute) step, positive.
    relative : bool, optional
        Whether ``step`` is relative to :math:`|\theta_i|`.

    Returns
    -------
    numpy.ndarray
        Shape ``(p,)``, float64.

    Raises
    ------
    TypeError
        If ``fun`` is not callable or ``theta`` is not real.
    ValueError
        If ``theta`` holds NaN/Inf or ``step`` is not positive.

    Examples
    --------
    >>> g = finite_difference_gradient(lambda t: t[0] ** 2 + 3.0 * t[1], [2.0, -1.0])
    >>> [round(float(v), 6) for v in g]
    [4.0, 3.0]
    """
    if not callable(fun):
        raise TypeError(f"`fun` must be callable, got {type(fun).__name__}")
    arr = np.asarray(theta)
    if arr.dtype.kind not in "fiu":
        raise TypeError(f"`theta` must be real-valued, got dtype {arr.dtype}")
    theta = np.array(arr, dtype=np.float64).ravel()
    require_finite(theta, "theta")
    step = require_positive(step, "step")
    if not isinstance(relative, bool):
        raise TypeError(f"`relative` must be a bool, got {relative!r}")
    grad = np.empty_like(theta)
    for i, t in enumerate(theta):
        h = step * abs(t) if relative and t != 0 else step
        plus, minus = theta.copy(), theta.copy()
        plus[i] = t + h
        minus[i] = t - h
        grad[i] = (float(fun(plus.copy())) - float(fun(minus.copy()))) / (plus[i] - minus[i])
    return grad
