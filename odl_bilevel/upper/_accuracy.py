r"""Accuracy rules of the derivative-free engine: which lower-level tolerance each evaluation gets.

The engine (:func:`~odl_bilevel.upper.dfo`) minimises
:math:`f(\varphi) = \|R(\varphi)\|^2` with the augmented residual
:math:`R = (r, \sqrt{J})`, of which only an approximation :math:`\tilde R`
is computable: the lower-level solutions are inexact, and
:meth:`BilevelProblem.residuals` certifies :math:`\delta \ge \|\tilde r - r\|`
(the penalty is exact). Since :math:`\|r\| \le \|\tilde r\| + \delta`,

.. math::
    |f - \tilde f| = \big|\|\tilde r\| - \|r\|\big|\,\big(\|\tilde r\| + \|r\|\big)
    \le \delta\,(2\|\tilde r\| + \delta) =: e(\delta),

and conversely :math:`e(\delta) \le e^*` holds for
:math:`\delta \le e^*/(\|\tilde r\| + \sqrt{\|\tilde r\|^2 + e^*})`.

Three rules (``accuracy``):

``"dynamic"`` (Ehrhardt & Roberts 2021)
    each evaluation has a target :math:`e^*` on its value error, set by the
    trust-region method from the predicted decrease
    :math:`\mathrm{pred}_k = m_k(0) - m_k(s_k)` (:data:`C_PRED`) or from the
    current iterate's bound; the residual target :math:`\delta^*` above
    becomes the lower-level tolerance :math:`\varepsilon = \delta^*` (for
    the squared error :math:`\delta \le \max_i\varepsilon_i`), clipped to
    ``[lower_tol_min, lower_tol_max]``. If the reported bound still misses
    the target (a loss with a larger Lipschitz constant, a solve stopped by
    its iteration cap), the point is solved again with
    :math:`\varepsilon \leftarrow \varepsilon\,\delta^*/(2\delta)` --
    warm-started from the solution just computed at the same
    :math:`\theta`, so the retry continues that solve.
``"fixed_iterations"``
    every solve runs exactly ``fixed_iterations`` iterations (the paper's
    baseline). :class:`BilevelProblem` wants :math:`\varepsilon > 0`, so the
    smallest positive float is passed, which no certificate reaches; the
    records show the requested tolerance as 0.
``"fixed_tol"``
    every solve to the same :math:`\varepsilon`.
"""

import math

__all__ = [
    "ACCURACY_MODES",
    "C_INIT",
    "C_PRED",
    "FIXED_ITERATION_TOL",
    "INACCURACY_RATIO",
    "residual_target",
    "value_error_bound",
]

#: The accuracy rules of :func:`~odl_bilevel.upper.dfo`.
ACCURACY_MODES = ("dynamic", "fixed_iterations", "fixed_tol")

#: Target fraction of the predicted decrease for the value errors at the
#: current iterate and at the trial point: :math:`e \le c\,\mathrm{pred}_k`.
#: With acceptance threshold :math:`\eta_1 = 0.1`, :math:`2c < \eta_1`
#: guarantees that an accepted step decreases the true :math:`f`.
C_PRED = 0.04

#: Value-error target of the first model, relative to :math:`\tilde f(\varphi_0)`.
C_INIT = 1e-2

#: An interpolation point whose value bound exceeds this multiple of the
#: current iterate's is treated like a point far away: it is replaced first.
INACCURACY_RATIO = 10.0

#: Tolerance passed in the fixed-iteration mode: the solvers' ``tol = 0`` runs
#: exactly ``max_iter`` iterations (and still reports the certificate).
FIXED_ITERATION_TOL = 0.0


def value_error_bound(residual_norm, delta):
    r"""Return :math:`e = \delta(2\|\tilde r\| + \delta) \ge |f - \tilde f|` (``inf`` for ``inf``).

    Examples
    --------
    >>> value_error_bound(1.0, 0.1)     # (1.1)^2 - 1 = 0.21
    0.21000000000000002
    """
    delta = float(delta)
    if not math.isfinite(delta):
        return math.inf
    return delta * (2.0 * float(residual_norm) + delta)


def residual_target(residual_norm, target):
    r"""Return the largest :math:`\delta` with :math:`e(\delta) \le` ``target``.

    .. math::
        \delta^* = \frac{e^*}{\|\tilde r\| + \sqrt{\|\tilde r\|^2 + e^*}}.

    Examples
    --------
    >>> d = residual_target(1.0, 0.21)
    >>> round(d, 12), round(value_error_bound(1.0, d), 12)
    (0.1, 0.21)
    """
    target = float(target)
    if not target > 0:
        return 0.0
    if math.isinf(target):
        return math.inf
    rn = float(residual_norm)
    return target / (rn + math.sqrt(rn * rn + target))
