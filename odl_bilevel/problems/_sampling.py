r"""Learning MRI sampling patterns as a :class:`~odl_bilevel.bilevel.BilevelProblem`.

Training pairs :math:`(x_i^\dagger, y_i)`: real images (or 1-D signals)
:math:`x_i^\dagger` and complex k-space data :math:`y_i = Fx_i^\dagger +
\varepsilon_i`, :math:`F` the unitary DFT (:func:`simulate_kspace`). The
lower level reconstructs from the data weighted by the sampling weights
:math:`s = P\sigma \in [0, 1]^n`,

.. math::

    E_i(x;\theta) = \frac12\|S(Fx - y_i)\|^2
        + \alpha\Big(R_\nu(x) + \frac{\xi}{2}\|x\|^2\Big), \qquad S = \mathrm{diag}(s),

with :math:`R_\nu` the smoothed total variation by default, and the upper
level learns the sampling parameters :math:`\sigma` (box :math:`[0,1]`,
identity map) and optionally :math:`\log\alpha`, with the sparsity penalty
:math:`\beta_1\|\sigma\|_1 + \beta_2\|\sigma\odot(1-\sigma)\|_1` of Sherry et
al. (2020). The small fixed Tikhonov term keeps :math:`E_i` strongly convex
when weights vanish (see :func:`sampling_problem`).
"""

import numpy as np
import odl

from .._validation import require_nonnegative, require_positive
from ..bilevel import BilevelProblem, ParameterMap
from ..functionals import ParametrisedSum, SampledDataFit, Tikhonov
from ..operators import unit_cell_space
from ._denoising import _as_samples
from ._sampling_map import (
    SamplingMap,
    _build_regulariser,
    _check_kspace,
    _check_pair,
    _check_penalty,
    _regulariser_factory,
    _sampling_operator,
)

__all__ = [
    "SamplingMap",
    "sampling_phi",
    "sampling_problem",
    "sampling_weights",
    "simulate_kspace",
]


# ------------------------------------------------------------------------------------------
# energies and layout
# ------------------------------------------------------------------------------------------


def _energy(space, y, s, sampling, reg, alpha_xi, fft_options):
    """The lower-level energy of one sample: fit + regulariser + Tikhonov."""
    P = None if isinstance(sampling, odl.IdentityOperator) else sampling
    return ParametrisedSum(
        SampledDataFit(space, y, s, sampling=P, **fft_options),
        reg,
        Tikhonov(space, xi=alpha_xi),
    )


def _layout(problem):
    """Return ``(fit, m, learn_alpha)`` of a problem built by :func:`sampling_problem`."""
    if not isinstance(problem, BilevelProblem):
        raise TypeError(f"`problem` must be a BilevelProblem, got {type(problem).__name__}")
    terms = getattr(problem.energies[0], "terms", ())
    if len(terms) != 3 or not (
        isinstance(terms[0], SampledDataFit) and isinstance(terms[2], Tikhonov)
    ):
        raise TypeError("`problem` was not built by sampling_problem (unknown energy layout)")
    m = terms[0].params.size
    names = problem.parameter_map.names
    learn_alpha = names[-1] == "log_alpha" and len(names) == m + 1
    if not (learn_alpha or len(names) == m):
        raise TypeError("`problem` was not built by sampling_problem (unknown parameter layout)")
    return terms[0], m, learn_alpha


def _pattern(fit, sigma):
    """Per-pixel weights :math:`s = P\\sigma` (image shape)."""
    P = fit.sampling
    if P is None:
        return np.array(sigma, dtype=float).reshape(fit.domain.shape)
    return np.array(P(P.domain.element(np.reshape(sigma, P.domain.shape))).data, dtype=float)


# ------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------


def simulate_kspace(images, sigma, *, rng=None):
    r"""Simulate k-space data :math:`y = Fx^\dagger + \varepsilon` with complex Gaussian noise.

    .. math::

        y = Fx^\dagger + \varepsilon, \qquad
        \varepsilon = \sigma\,\frac{g_1 + i g_2}{\sqrt 2}, \quad g_1, g_2 \sim
        \mathcal{N}(0, I),

    with :math:`F` the unitary DFT over all axes (``norm="ortho"``, the
    :class:`~odl_bilevel.operators.UnitaryDFT`), so that
    :math:`\mathbb{E}|\varepsilon_k|^2 = \sigma^2` and, :math:`F` being
    unitary, the noise has the same energy in image space as real noise of
    standard deviation :math:`\sigma` would.

    Parameters
    ----------
    images : sequence of array-like
        Real 1-D or 2-D ground truths :math:`x^\dagger` (a stacked array of
        shape ``(n, ...)`` is read as ``n`` samples).
    sigma : float
        Noise level :math:`\sigma \ge 0`.
    rng : numpy.random.Generator or int or None, optional
        Source of randomness; sample ``i``'s noise is drawn after sample
        ``i - 1``'s from one generator.

    Returns
    -------
    list of numpy.ndarray
        Complex128 k-space data, one array of the image's shape per sample.

    Raises
    ------
    TypeError
        If ``images`` is not a sequence of real arrays.
    ValueError
        If ``sigma < 0`` or an image holds NaN/Inf or is not 1-D or 2-D.

    Examples
    --------
    >>> import numpy as np
    >>> [y] = simulate_kspace([np.ones(16)], 0.0)
    >>> round(abs(y[0]), 6), round(float(np.abs(y[1:]).max()), 6)   # sqrt(16), 0
    (4.0, 0.0)
    >>> [y] = simulate_kspace([np.zeros((64, 64))], 0.1, rng=0)
    >>> round(float(np.mean(np.abs(y) ** 2)), 2)                    # sigma^2
    0.01
    """
    sigma = require_nonnegative(sigma, "sigma")
    images = _as_samples(images, "images")
    gen = np.random.default_rng(rng)
    out = []
    for x in images:
        noise = gen.standard_normal(x.shape) + 1j * gen.standard_normal(x.shape)
        out.append(np.fft.fftn(x, norm="ortho") + (sigma / np.sqrt(2.0)) * noise)
    return out


def sampling_problem(
    clean,
    kspace,
    *,
    sampling="free",
    regulariser="tv",
    alpha=1e-2,
    nu=1e-2,
    xi=1e-2,
    learn_alpha=True,
    init_weights=0.5,
    weight_bounds=(0.0, 1.0),
    alpha_bounds=(1e-6, 1e2),
    penalty=None,
    solver="fista",
    solver_options=None,
    lower_tol=1e-6,
    lower_max_iter=5000,
    cg_tol=1e-6,
    cg_max_iter=1000,
    executor=None,
    impl="pyfftw",
    planner_effort="FFTW_MEASURE",
):
    r"""Build the bilevel problem of learning an MRI sampling pattern (Sherry et al. 2020).

    .. math::

        \min_{\varphi}\ \frac1n\sum_{i=1}^n\|\hat x_i(\theta) - x_i^\dagger\|^2
            + \beta_1\|\sigma\|_1 + \beta_2\|\sigma\odot(1-\sigma)\|_1,
        \qquad \sigma \in [0, 1]^m,

    .. math::

        \hat x_i(\theta) = \operatorname*{argmin}_x\ \frac12\|S(Fx - y_i)\|^2
            + \alpha\Big(R(x) + \frac{\xi}{2}\|x\|^2\Big),
        \qquad S = \mathrm{diag}(P\sigma),

    with :math:`F` the unitary DFT, :math:`P` the sampling map (identity for
    the free pattern, one weight per phase-encode line for the Cartesian one)
    and :math:`R` the smoothed total variation
    :math:`\sum_j\sqrt{|(\nabla x)_j|^2+\nu^2}` (forward differences, Neumann
    boundary) by default. The learned variables are
    :math:`\varphi = (\sigma, \log\alpha)` (``learn_alpha=True``) or
    :math:`\varphi = \sigma`: identity on the sampling parameters with box
    bounds ``weight_bounds``, log on :math:`\alpha` (names ``"s[0]"``, ...,
    ``"log_alpha"``). The energy is built as
    ``SampledDataFit(X, y_i, sigma, sampling=P) + R(alpha) + Tikhonov(alpha * xi)``,
    so :math:`\theta = (\sigma, \alpha, \rho, \alpha\xi)` with :math:`\rho`
    the regulariser's fixed parameters (:math:`\nu` for TV); the map and its
    vjp are those of ``odl_bilevel.problems._sampling.SamplingMap``.

    *Why the Tikhonov term.* The data term has Hessian
    :math:`\mathrm{Re}\,F^HS^2F` with eigenvalues
    :math:`W_{{\rm sym},k} = (s_k^2 + s_{-k}^2)/2`, which vanish where a
    frequency and its mirror are not sampled; smoothed TV is not uniformly
    convex either (its Hessian vanishes on constants and is tiny across
    edges). The certified lower-level solvers stop on
    :math:`\|\nabla E(x)\|/\mu \ge \|x - \hat x\|` and need a known
    :math:`\mu > 0`: the fixed term :math:`\frac{\alpha\xi}{2}\|x\|^2` gives
    :math:`\mu = \min_k W_{{\rm sym},k} + \alpha\xi \ge \alpha\xi` (reported as
    ``problem.energy(i, phi).strong_convexity``). With the defaults
    :math:`\alpha = \xi = 10^{-2}` the Tikhonov weight is
    :math:`\alpha\xi = 10^{-4}`, the value of Ehrhardt & Roberts (2021).
    It hardly changes the reconstructions where the data or TV determine
    them (it competes with :math:`s_k^2` at sampled frequencies and with the
    TV curvature :math:`\sim\alpha/\nu` elsewhere), but it decides the mean
    when the zero frequency is not sampled: :math:`\hat x` is then shrunk
    towards 0. Its size sets the cost of a certified solve: FISTA needs
    about :math:`\sqrt{L/\mu}` iterations per digit, and the certificate
    overestimates the error by the ratio of the true modulus to
    :math:`\mu`. On 1-D signals of length 64 (ten samples, free pattern,
    :math:`\beta_1 = 10^{-2}`), learning the pattern by L-BFGS-B took
    :math:`3.4\cdot10^5` lower-level iterations with :math:`\xi = 10^{-2}`
    and :math:`3.6\cdot10^6` with :math:`\xi = 10^{-4}` (objective
    0.1027 vs 0.1003). A lower bound :math:`l > 0` in ``weight_bounds``
    also gives :math:`\mu \ge l^2`.

    Parameters
    ----------
    clean : sequence of array-like
        Real ground truths :math:`x_i^\dagger`, 1-D or 2-D, all of one shape
        (a stacked array of shape ``(n, ...)`` is read as ``n`` samples).
    kspace : sequence of array-like
        Complex k-space data :math:`y_i`, one per ground truth, of the same
        shape (e.g. from :func:`simulate_kspace`).
    sampling : {"free", "cartesian"} or odl.Operator, optional
        The sampling map :math:`P`: ``"free"`` (one weight per k-space pixel,
        :math:`m = N`), ``"cartesian"`` (one weight per line along axis 0,
        :class:`~odl_bilevel.operators.CartesianSampling`; in 1-D the same as
        free) or a linear operator with ``range.shape`` the image shape that
        maps ``weight_bounds`` into :math:`[0, 1]`.
    regulariser : {"tv", "tv2", "h1"} or callable, optional
        The regulariser :math:`R` with weight :math:`\alpha`: ``"tv"``
        (default; alias ``"smoothed_tv"``) the smoothed total variation
        ``SmoothedTV(X, alpha, nu)``; ``"tv2"`` the smoothed second-order TV
        ``SmoothedTV2(X, alpha, nu)``
        :math:`\alpha\sum_j\sqrt{|(\nabla^2x)_j|_F^2+\nu^2}` (piecewise-affine
        images); ``"h1"`` the H¹ seminorm ``H1Seminorm(X, alpha)``
        :math:`\frac\alpha2\|\nabla x\|^2` (quadratic, "Tikhonov on the
        gradient": the lower level is then quadratic). A callable
        ``regulariser(space, alpha)`` must return a
        :class:`~odl_bilevel.functionals.ParametrisedFunctional` on ``space``
        whose first parameter is the weight ``alpha`` (e.g.
        ``lambda X, a: SmoothedTV2(X, alpha=a, nu=0.05)``); its other
        parameters stay fixed. Module-level callables keep the problem
        picklable for process pools (the named ones are).
    alpha : float, optional
        Regularisation weight :math:`\alpha > 0` (initial value if learned).
    nu : float, optional
        Smoothing :math:`\nu > 0` of the named TV regularisers (``"tv"``,
        ``"tv2"``; unused by ``"h1"`` and callables).
    xi : float, optional
        Relative Tikhonov weight :math:`\xi \ge 0` (see above; with
        ``xi=0`` and ``weight_bounds[0] = 0`` the certified solvers fail once a
        frequency pair is unsampled).
    learn_alpha : bool, optional
        Learn :math:`\log\alpha` besides the sampling parameters. Note the
        scale invariance :math:`E(x; c\sigma, c^2\alpha) = c^2E(x;\sigma,\alpha)`
        for :math:`c > 0`: the reconstructions depend on :math:`\sigma` and
        :math:`\alpha` only through :math:`\sigma/\sqrt\alpha`, so a sparsity
        penalty drives both down together until ``alpha_bounds`` or
        ``weight_bounds`` stop them. With a penalty, fix :math:`\alpha`
        (``learn_alpha=False``) or choose the bounds to pin the scale.
    init_weights : float or array-like, optional
        Initial sampling parameters :math:`\sigma_0` (a scalar fills all),
        inside ``weight_bounds``.
    weight_bounds : (float, float), optional
        Box bounds of every sampling parameter, within :math:`[0, 1]`; a
        lower bound :math:`l > 0` keeps :math:`\mu \ge l^2` (for the free
        and Cartesian patterns).
    alpha_bounds : (float, float), optional
        Positive bounds on :math:`\alpha` (turned into bounds on
        :math:`\log\alpha`), if learned.
    penalty : None, float, (float, float) or Penalty, optional
        ``beta1`` or ``(beta1, beta2)``: the sampling penalty
        :math:`\beta_1\|\sigma\|_1 + \beta_2\|\sigma\odot(1-\sigma)\|_1`
        (:class:`~odl_bilevel.bilevel.L1Penalty` on the sampling parameters
        only, not on :math:`\alpha`); or any penalty on :math:`\theta`.
    solver : {"fista", "gradient_descent"}, optional
        Lower-level solver. FISTA is preconditioned by the energy's Fourier
        majorant (smoothed TV and :math:`H^1`; see :class:`~odl_bilevel.solvers.FISTA`).
    solver_options, lower_tol, lower_max_iter, cg_tol, cg_max_iter, executor
        As in :class:`~odl_bilevel.bilevel.BilevelProblem`.
    impl, planner_effort : str, optional
        FFT options of the data term, as in
        :class:`~odl_bilevel.operators.UnitaryDFT`, used by the gradient and
        Hessian of the data term (the solvers' hot path). ``"FFTW_MEASURE"``
        picks the fastest FFTW plan by timing it, so the rounding of the FFTs
        (and, through a nonconvex upper level, a whole learning trajectory)
        may differ from run to run; ``planner_effort="FFTW_ESTIMATE"`` or
        ``impl="numpy"`` make the gradient bit-reproducible. (The data term's
        value and parameter derivatives use the library's cached
        full-spectrum plans whatever these options say.)

    Returns
    -------
    BilevelProblem
        With the energies at :math:`(\sigma_0, \alpha)`, so that
        :func:`sampling_phi` returns the starting point.

    Raises
    ------
    TypeError
        If an argument has the wrong type (the message names it), e.g. a
        ``sampling`` that is no linear operator, or a ``regulariser`` that
        returns no ParametrisedFunctional.
    ValueError
        If shapes disagree, data hold NaN/Inf, a weight is outside its
        bounds, or an option is out of range (naming the argument).

    References
    ----------
    F. Sherry et al., Learning the sampling pattern for MRI, *IEEE Trans.
    Med. Imaging* 39(12):4310-4321, 2020.

    M. J. Ehrhardt and L. Roberts, Inexact derivative-free optimization for
    bilevel learning, *J. Math. Imaging Vision* 63:580-600, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> clean = [np.repeat([0.2, 0.8, 0.5, 0.1], 4)]
    >>> kspace = simulate_kspace(clean, 0.05, rng=0)
    >>> problem = sampling_problem(clean, kspace, penalty=(1e-3, 0.0))
    >>> problem.parameter_map.names[:2], problem.parameter_map.names[-1]
    (('s[0]', 's[1]'), 'log_alpha')
    >>> phi0 = sampling_phi(problem)
    >>> w = sampling_weights(problem, phi0)
    >>> float(w["s"][0]), round(w["alpha"], 6)
    (0.5, 0.01)
    >>> bool(problem.objective(phi0).value > 0)
    True
    """
    clean = _as_samples(clean, "clean")
    shape = clean[0].shape
    for k, c in enumerate(clean):
        if c.shape != shape:
            raise ValueError(f"`clean[{k}]` has shape {c.shape}, expected {shape} (as clean[0])")
    kspace = _check_kspace(kspace, shape, len(clean))
    P = _sampling_operator(sampling, shape)
    m = int(np.prod(P.domain.shape))
    alpha = require_positive(alpha, "alpha")
    nu = require_positive(nu, "nu")
    xi = require_nonnegative(xi, "xi")
    if not isinstance(learn_alpha, bool):
        raise TypeError(f"`learn_alpha` must be a bool, got {learn_alpha!r}")
    w_lo, w_hi = _check_pair(weight_bounds, "weight_bounds")
    if w_hi > 1.0:
        raise ValueError(f"`weight_bounds` must lie in [0, 1], got ({w_lo}, {w_hi})")
    a_lo, a_hi = _check_pair(alpha_bounds, "alpha_bounds", positive=True)
    if learn_alpha and not a_lo <= alpha <= a_hi:
        raise ValueError(f"`alpha` = {alpha} must lie in `alpha_bounds` ({a_lo}, {a_hi})")
    init = np.array(init_weights, dtype=float)
    if init.ndim == 0:
        init = np.full(m, float(init))
    init = init.ravel()
    if init.size != m:
        raise ValueError(f"`init_weights` must be a scalar or have {m} entries, got {init.size}")
    if not np.all(np.isfinite(init)) or init.min() < w_lo or init.max() > w_hi:
        raise ValueError(
            f"`init_weights` must lie in `weight_bounds` [{w_lo}, {w_hi}], got values in "
            f"[{np.nanmin(init):.3g}, {np.nanmax(init):.3g}]"
        )
    if solver not in ("fista", "gradient_descent"):
        raise ValueError(
            f"`solver` must be 'fista' or 'gradient_descent' (smooth energies), got {solver!r}"
        )
    penalty = _check_penalty(penalty, m)

    X = unit_cell_space(shape)
    factory = _regulariser_factory(regulariser, nu)
    reg = _build_regulariser(factory, X, alpha)
    rest = np.array(reg.params[1:], dtype=float)
    transform = SamplingMap(m, rest, xi, alpha=None if learn_alpha else alpha)
    reg_names = list(reg.param_names)
    if len(reg_names) != reg.params.size:
        reg_names = ["alpha"] + [f"regulariser[{k}]" for k in range(1, reg.params.size)]
    theta_names = (*(f"s[{j}]" for j in range(m)), *reg_names, "alpha_xi")
    names = tuple(f"s[{j}]" for j in range(m))
    bounds = [(w_lo, w_hi)] * m
    if learn_alpha:
        names = (*names, "log_alpha")
        bounds.append((float(np.log(a_lo)), float(np.log(a_hi))))
    parameter_map = ParameterMap(
        transform.forward,
        transform.vjp,
        size=len(names),
        names=names,
        bounds=bounds,
        theta_names=theta_names,
        inverse=transform.inverse,
        jacobian_norm=transform.jacobian_norm,
    )
    fft_options = {"impl": impl, "planner_effort": planner_effort}
    energies = [_energy(X, y, init, P, reg, alpha * xi, fft_options) for y in kspace]
    return BilevelProblem(
        energies,
        clean,
        parameter_map=parameter_map,
        penalty=penalty,
        solver=solver,
        solver_options=solver_options,
        lower_tol=lower_tol,
        lower_max_iter=lower_max_iter,
        cg_tol=cg_tol,
        cg_max_iter=cg_max_iter,
        executor=executor,
    )


def sampling_weights(problem, phi):
    r"""Return the sampling parameters, the pattern and :math:`\alpha` at :math:`\varphi`.

    Parameters
    ----------
    problem : BilevelProblem
        A problem built by :func:`sampling_problem`.
    phi : array-like
        Learned variables :math:`\varphi`.

    Returns
    -------
    dict
        ``"s"``: the sampling parameters :math:`\sigma` (shape of the
        sampling map's domain: the image shape for the free pattern, one
        entry per line for the Cartesian one); ``"pattern"``: the per-pixel
        weights :math:`s = P\sigma` (image shape); ``"alpha"``: :math:`\alpha`
        (float); ``"xi"``: the relative Tikhonov weight :math:`\xi`.

    Raises
    ------
    TypeError
        If ``problem`` was not built by :func:`sampling_problem`.
    ValueError
        If ``phi`` is invalid (naming ``phi``).
    """
    fit, m, _ = _layout(problem)
    theta = problem.theta(phi)
    sigma = theta[:m]
    P = fit.sampling
    shape = fit.domain.shape if P is None else P.domain.shape
    alpha = float(theta[m])
    return {
        "s": np.array(sigma, dtype=float).reshape(shape),
        "pattern": _pattern(fit, sigma),
        "alpha": alpha,
        "xi": float(theta[-1] / alpha),
    }


def sampling_phi(problem, s=None, alpha=None):
    r"""Return :math:`\varphi` for sampling parameters :math:`\sigma` and weight :math:`\alpha`.

    Parameters
    ----------
    problem : BilevelProblem
        A problem built by :func:`sampling_problem`.
    s : float or array-like, optional
        Sampling parameters :math:`\sigma` (a scalar fills all; default: the
        initial ones the problem was built with).
    alpha : float, optional
        :math:`\alpha > 0`; default the problem's initial value. With
        :math:`\alpha` fixed (``learn_alpha=False``) it must equal the fixed
        value.

    Returns
    -------
    numpy.ndarray
        :math:`\varphi = (\sigma, \log\alpha)` or :math:`\sigma` (float64).

    Raises
    ------
    TypeError
        If ``problem`` was not built by :func:`sampling_problem`.
    ValueError
        If ``s`` has the wrong size, leaves the parameter bounds, or
        ``alpha`` is not positive or differs from a fixed value.
    """
    fit, m, learn_alpha = _layout(problem)
    theta0 = problem.energies[0].params
    if s is None:
        sigma = np.array(theta0[:m], dtype=float)
    else:
        sigma = np.array(s, dtype=float)
        sigma = np.full(m, float(sigma)) if sigma.ndim == 0 else sigma.ravel()
        if sigma.size != m:
            raise ValueError(f"`s` must be a scalar or have {m} entries, got {sigma.size}")
        lo, hi = problem.parameter_map.bounds[0]
        if not np.all(np.isfinite(sigma)) or sigma.min() < lo or sigma.max() > hi:
            raise ValueError(f"`s` must lie in the weight bounds [{lo}, {hi}]")
    alpha0 = float(theta0[m])
    if alpha is None:
        alpha = alpha0
    alpha = require_positive(alpha, "alpha")
    if not learn_alpha:
        if not np.isclose(alpha, alpha0, rtol=1e-12, atol=0.0):
            raise ValueError(f"`alpha` = {alpha} differs from the fixed value {alpha0}")
        return sigma
    return np.append(sigma, np.log(alpha))
