r"""Nonsmooth lower-level energies for the ``solver="pdhg"`` option of a bilevel problem.

Smooth energies are :class:`~odl_bilevel.functionals.ParametrisedFunctional`
objects; a nonsmooth energy (TV, TGV²) is solved by PDHG on a
:class:`~odl_bilevel.functionals.PDHGForm`. :class:`PDHGEnergy` gives such a
form the parameter interface of the smooth energies (``params``,
``with_params``), so that :class:`~odl_bilevel.bilevel.BilevelProblem` can
evaluate its objective (not hypergradients: the energy is not twice
differentiable) and residuals with it.
"""

import math

import numpy as np

from .._validation import require_finite, require_positive
from ..functionals import PDHGForm

__all__ = ["PDHGEnergy"]


class PDHGEnergy:
    r"""A nonsmooth energy :math:`E(z;\theta) = f(z) + g(Lz)` built by ``build_form(theta)``.

    Parameters
    ----------
    build_form : callable
        ``build_form(theta) -> PDHGForm`` for a float64 parameter vector, e.g.
        ``functools.partial(my_tv_form, noisy_array)`` with a module-level
        ``my_tv_form(noisy, theta)`` that calls
        :func:`~odl_bilevel.functionals.tv_pdhg_form`. It must be picklable for
        process pools (forms hold closures and are never pickled: each worker
        builds its own).
    params : array-like
        The parameters :math:`\theta` of this energy.
    param_names : sequence of str, optional
        Names of the parameter blocks (as for the smooth functionals).
    strong_convexity : float
        :math:`\mu > 0` such that :math:`P(z) - \min P \ge \frac{\mu}{2}
        \|\pi(z) - \pi(\hat z)\|^2`, where :math:`\pi` is the part of
        :math:`z` the upper loss reads (the image). For denoising
        :math:`\frac12\|x - y\|^2 + R(x)` with convex :math:`R`, :math:`\mu = 1`,
        also for TGV² on :math:`(x, v)` with :math:`\pi(x, v) = x`. It turns
        the primal-dual gap :math:`G` into the certificate
        :math:`\|\pi(z) - \pi(\hat z)\| \le \sqrt{2G/\mu}`, and a tolerance
        :math:`\varepsilon` on that error into the gap tolerance
        :math:`\mu\varepsilon^2/2`.
    gamma : float, optional
        Strong-convexity modulus of :math:`f` on the *whole* primal variable,
        passed to :func:`~odl_bilevel.solvers.pdhg_solve` for acceleration
        (e.g. 1 for TV denoising; ``None`` for TGV², whose :math:`f` does not
        see :math:`v`).

    Raises
    ------
    TypeError
        If ``build_form`` is not callable or does not return a ``PDHGForm``.
    ValueError
        If ``params`` holds NaN/Inf or ``strong_convexity``/``gamma`` is not positive.

    Examples
    --------
    >>> import functools, numpy as np, odl
    >>> from odl_bilevel.functionals import tv_pdhg_form
    >>> from odl_bilevel.operators import unit_cell_space
    >>> def tv_denoising(noisy, theta):
    ...     X = unit_cell_space(noisy.shape)
    ...     fit = 0.5 * odl.functionals.L2NormSquared(X).translated(X.element(noisy))
    ...     return tv_pdhg_form(fit, float(theta[0]))
    >>> E = PDHGEnergy(functools.partial(tv_denoising, np.zeros(8)), [0.1],
    ...                param_names=("alpha",), strong_convexity=1.0, gamma=1.0)
    >>> E.with_params([0.2]).params.tolist(), E.domain.shape
    ([0.2], (8,))
    """

    def __init__(self, build_form, params, *, param_names=("theta",), strong_convexity,
                 gamma=None):
        if not callable(build_form):
            raise TypeError(f"`build_form` must be callable, got {type(build_form).__name__}")
        params = np.array(params, dtype=float).ravel()
        require_finite(params, "params")
        params.flags.writeable = False
        self._build = build_form
        self._params = params
        self._param_names = tuple(param_names)
        self._mu = require_positive(strong_convexity, "strong_convexity")
        self._gamma = None if gamma is None else require_positive(gamma, "gamma")
        self._form = None
        self._domain = self.pdhg_form().domain

    @property
    def params(self):
        r"""The parameters :math:`\theta` (read-only float64 array)."""
        return self._params

    @property
    def param_names(self):
        """Names of the parameter blocks."""
        return self._param_names

    @property
    def domain(self):
        """Space of the primal variable :math:`z`."""
        return self._domain

    @property
    def strong_convexity(self):
        r"""The modulus :math:`\mu` of the gap-to-error conversion (see the class docstring)."""
        return self._mu

    @property
    def gamma(self):
        """Acceleration modulus for PDHG, or ``None``."""
        return self._gamma

    def with_params(self, theta):
        r"""Return the energy at parameters ``theta`` (the form is built lazily).

        Raises
        ------
        ValueError
            If ``theta`` has the wrong size or holds NaN/Inf.
        """
        theta = np.array(theta, dtype=float).ravel()
        if theta.size != self._params.size:
            raise ValueError(f"`theta` must have {self._params.size} entries, got {theta.size}")
        require_finite(theta, "theta")
        theta.flags.writeable = False
        new = object.__new__(PDHGEnergy)
        new.__dict__.update(self.__dict__)
        new._params = theta
        new._form = None
        return new

    def pdhg_form(self):
        """Return the :class:`~odl_bilevel.functionals.PDHGForm` at :attr:`params` (cached)."""
        if self._form is None:
            form = self._build(np.array(self._params))
            if not isinstance(form, PDHGForm):
                raise TypeError(
                    f"`build_form` must return a PDHGForm, got {type(form).__name__}"
                )
            self._form = form
        return self._form

    def __call__(self, z):
        """Primal value :math:`P(z) = f(z) + g(Lz)`."""
        return float(self.pdhg_form().primal_objective(z))

    def error_from_gap(self, gap):
        r"""Return the certified error :math:`\sqrt{2G/\mu}` for a gap :math:`G`."""
        gap = float(gap)
        if math.isnan(gap):
            return math.inf
        return math.sqrt(2.0 * max(gap, 0.0) / self._mu)

    def gap_tolerance(self, tol):
        r"""Return the gap tolerance :math:`\mu\varepsilon^2/2` that certifies error ``tol``."""
        return 0.5 * self._mu * float(tol) ** 2

    def __getstate__(self):
        state = self.__dict__.copy()
        state["_form"] = None  # forms hold closures; workers rebuild them
        return state

    def __repr__(self):
        return f"PDHGEnergy(params={self._params.tolist()}, strong_convexity={self._mu})"
