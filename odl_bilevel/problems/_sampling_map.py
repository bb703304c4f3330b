r"""Parameter map, regularisers and input validation of :func:`sampling_problem`.

Private helpers of :mod:`odl_bilevel.problems._sampling` (and of the learning
routines in :mod:`odl_bilevel.problems._sampling_learning`): the picklable
map :class:`SamplingMap` :math:`\varphi \mapsto \theta`, the named
regularisers (``"tv"``, ``"tv2"``, ``"h1"``) and the checks of k-space data,
sampling maps, penalties and bounds.
"""

import numbers

import numpy as np
import odl

from .._validation import require_nonnegative, require_positive
from ..bilevel import L1Penalty
from ..functionals import H1Seminorm, ParametrisedFunctional, SmoothedTV, SmoothedTV2
from ..operators import CartesianSampling, free_sampling

__all__ = ["REGULARISERS", "SamplingMap"]

#: Names of the built-in lower-level regularisers :math:`R` (``regulariser=`` of
#: :func:`~odl_bilevel.problems.sampling_problem`): smoothed TV, smoothed
#: second-order TV and the H¹ seminorm (Tikhonov on the gradient).
REGULARISERS = ("tv", "tv2", "h1")


# ------------------------------------------------------------------------------------------
# the parameter map
# ------------------------------------------------------------------------------------------


class SamplingMap:
    r"""The map :math:`\varphi \mapsto \theta` of :func:`sampling_problem` (picklable).

    With :math:`m` sampling parameters, the regulariser's parameters
    :math:`\theta_R = (\alpha, \rho)` (:math:`\rho` fixed) and the fixed
    relative Tikhonov weight :math:`\xi`,

    .. math::

        \varphi = (\sigma, \log\alpha) \mapsto
        \theta = (\sigma,\ \alpha,\ \rho,\ \alpha\xi),

    or :math:`\varphi = \sigma` with :math:`\alpha` fixed. The Jacobian is
    block diagonal, :math:`J_T = \mathrm{diag}(I_m,\ \alpha(1, 0, \xi)^T)`, so

    .. math::

        J_T^Tg = \big(g_\sigma,\ \alpha(g_\alpha + \xi g_{\alpha\xi})\big), \qquad
        \|J_T\| = \max\big(1, \alpha\sqrt{1+\xi^2}\big).

    Parameters
    ----------
    m : int
        Number of sampling parameters.
    rest : array-like
        The fixed parameters :math:`\rho` of the regulariser after :math:`\alpha`.
    xi : float
        Relative Tikhonov weight :math:`\xi \ge 0`.
    alpha : float or None
        The fixed :math:`\alpha`, or ``None`` when :math:`\log\alpha` is learned.
    """

    def __init__(self, m, rest, xi, alpha=None):
        self.m = int(m)
        self.rest = np.array(rest, dtype=float).ravel()
        self.xi = float(xi)
        self.alpha = None if alpha is None else float(alpha)

    @property
    def learn_alpha(self):
        """Whether :math:`\\log\\alpha` is a learned variable."""
        return self.alpha is None

    def _alpha(self, phi):
        return float(np.exp(phi[self.m])) if self.alpha is None else self.alpha

    def forward(self, phi):
        r""":math:`\theta = (\sigma, \alpha, \rho, \alpha\xi)`."""
        phi = np.asarray(phi, dtype=float)
        alpha = self._alpha(phi)
        return np.concatenate([phi[: self.m], [alpha], self.rest, [alpha * self.xi]])

    def vjp(self, phi, g):
        r""":math:`J_T^Tg = (g_\sigma, \alpha(g_\alpha + \xi g_{\alpha\xi}))`."""
        phi, g = np.asarray(phi, dtype=float), np.asarray(g, dtype=float)
        out = np.array(g[: self.m], dtype=float)
        if self.alpha is None:
            alpha = self._alpha(phi)
            out = np.append(out, alpha * (g[self.m] + self.xi * g[-1]))
        return out

    def inverse(self, theta):
        r"""The learned variables of :math:`\theta` (:math:`\sigma` and :math:`\log\alpha`)."""
        theta = np.asarray(theta, dtype=float)
        phi = np.array(theta[: self.m], dtype=float)
        if self.alpha is None:
            if theta[self.m] <= 0:
                raise ValueError(f"`theta` must have alpha > 0, got {theta[self.m]}")
            phi = np.append(phi, np.log(theta[self.m]))
        return phi

    def jacobian_norm(self, phi):
        r""":math:`\max(1, \alpha\sqrt{1+\xi^2})` (:math:`1` with :math:`\alpha` fixed)."""
        if self.alpha is not None:
            return 1.0
        return max(1.0, self._alpha(np.asarray(phi, dtype=float)) * np.hypot(1.0, self.xi))


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------


def _check_kspace(kspace, shape, n):
    if isinstance(kspace, np.ndarray):
        if kspace.ndim != len(shape) + 1:
            raise ValueError(
                f"`kspace` as one array must be a stack of shape (n, {', '.join(map(str, shape))})"
                f", got shape {kspace.shape}"
            )
        kspace = list(kspace)
    elif isinstance(kspace, str | bytes) or not hasattr(kspace, "__iter__"):
        raise TypeError(f"`kspace` must be a sequence of arrays, got {type(kspace).__name__}")
    out = []
    for k, y in enumerate(kspace):
        arr = np.asarray(y)
        if arr.dtype.kind not in "fiuc":
            raise TypeError(
                f"`kspace[{k}]` must be a real or complex array, got dtype {arr.dtype}"
            )
        if arr.shape != shape:
            raise ValueError(f"`kspace[{k}]` has shape {arr.shape}, expected {shape} (as clean)")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"`kspace[{k}]` contains NaN or Inf")
        out.append(np.array(arr, dtype=np.complex128))
    if len(out) != n:
        raise ValueError(f"`clean` and `kspace` must have the same length, got {n} and {len(out)}")
    return out


def _sampling_operator(sampling, shape):
    """Return the sampling map :math:`P` (an ODL operator) for ``sampling``."""
    if isinstance(sampling, str):
        if sampling == "free":
            return free_sampling(shape)
        if sampling == "cartesian":
            return CartesianSampling(shape, axis=0)
        raise ValueError(
            f"`sampling` must be 'free', 'cartesian' or a linear odl.Operator, got {sampling!r}"
        )
    if not isinstance(sampling, odl.Operator) or not sampling.is_linear:
        raise TypeError(
            f"`sampling` must be 'free', 'cartesian' or a linear odl.Operator, got {sampling!r}"
        )
    if tuple(sampling.range.shape) != tuple(shape):
        raise ValueError(
            f"`sampling` must map onto the image shape {shape}, got range shape "
            f"{tuple(sampling.range.shape)}"
        )
    return sampling


def _regulariser_factory(regulariser, nu):
    """Return ``factory(space, alpha) -> ParametrisedFunctional``."""
    if isinstance(regulariser, str):
        name = "tv" if regulariser == "smoothed_tv" else regulariser
        if name not in REGULARISERS:
            raise ValueError(
                f"`regulariser` must be one of {REGULARISERS} or a callable (space, alpha) -> "
                f"ParametrisedFunctional, got {regulariser!r}"
            )
        return _NamedRegulariser(name, nu)
    if not callable(regulariser):
        raise TypeError(
            f"`regulariser` must be one of {REGULARISERS} or a callable (space, alpha) -> "
            f"ParametrisedFunctional, got {type(regulariser).__name__}"
        )
    return regulariser


class _NamedRegulariser:
    r"""A built-in regulariser with weight ``alpha`` and a fixed ``nu`` (picklable).

    ``"tv"``: ``SmoothedTV(space, alpha, nu)``; ``"tv2"``:
    ``SmoothedTV2(space, alpha, nu)``; ``"h1"``: ``H1Seminorm(space, alpha)``
    (:math:`\frac\alpha2\|\nabla x\|^2`, ``nu`` unused).
    """

    def __init__(self, name, nu):
        self.name, self.nu = name, nu

    def __call__(self, space, alpha):
        if self.name == "tv":
            return SmoothedTV(space, alpha=alpha, nu=self.nu)
        if self.name == "tv2":
            return SmoothedTV2(space, alpha=alpha, nu=self.nu)
        return H1Seminorm(space, weight=alpha)


def _build_regulariser(factory, space, alpha):
    R = factory(space, alpha)
    if not isinstance(R, ParametrisedFunctional):
        raise TypeError(
            f"`regulariser(space, alpha)` must return a ParametrisedFunctional, "
            f"got {type(R).__name__}"
        )
    if R.domain != space:
        raise ValueError(
            f"`regulariser(space, alpha)` must live on {space}, got domain {R.domain}"
        )
    if R.params.size < 1 or not np.isclose(R.params[0], alpha, rtol=1e-12, atol=0.0):
        raise ValueError(
            "`regulariser(space, alpha)` must return a functional whose first parameter "
            f"is the weight alpha = {alpha}, got params {R.params.tolist()}"
        )
    return R


def _check_penalty(penalty, m):
    if penalty is None:
        return None
    if isinstance(penalty, numbers.Real) and not isinstance(penalty, bool):
        return L1Penalty(penalty, 0.0, indices=np.arange(m))
    if isinstance(penalty, tuple | list):
        if len(penalty) != 2:
            raise ValueError(f"`penalty` as a pair must be (beta1, beta2), got {penalty!r}")
        beta1 = require_nonnegative(penalty[0], "penalty[0] (beta1)")
        beta2 = require_nonnegative(penalty[1], "penalty[1] (beta2)")
        return L1Penalty(beta1, beta2, indices=np.arange(m))
    if callable(penalty) and hasattr(penalty, "gradient"):
        return penalty
    raise TypeError(
        f"`penalty` must be None, beta1, a pair (beta1, beta2) or a Penalty, got {penalty!r}"
    )


def _check_pair(pair, name, *, positive=False):
    try:
        lo, hi = pair
    except (TypeError, ValueError) as err:
        raise ValueError(f"`{name}` must be a (lo, hi) pair, got {pair!r}") from err
    check = require_positive if positive else require_nonnegative
    lo, hi = check(lo, f"{name}[0]"), check(hi, f"{name}[1]")
    if not lo < hi:
        raise ValueError(f"`{name}` must have lo < hi, got ({lo}, {hi})")
    return lo, hi
