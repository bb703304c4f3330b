r"""Denoising problems of the talk as :class:`~odl_bilevel.bilevel.BilevelProblem` objects.

Training pairs :math:`(x_i^\dagger, y_i)`, :math:`y_i = x_i^\dagger + \text{noise}`
(1-D signals or 2-D images, passed in as arrays), and the lower-level energies

- ``"tv"``: :math:`E(x) = \frac12\|x-y\|^2 + \alpha\sum_j\sqrt{|(\nabla x)_j|^2+\nu^2}`;
- ``"tv_tikhonov"`` (the talk's problem):
  :math:`E(x) = \frac12\|x-y\|^2 + \alpha\big(\sum_j\sqrt{|(\nabla x)_j|^2+\nu^2}
  + \frac{\xi}{2}\|x\|^2\big)`;
- ``"tgv"``: on :math:`z = (x, v)`,
  :math:`E(z) = \frac12\|x-y\|^2 + \frac{\tau}{2}\|v\|^2
  + \alpha\sum_j\sqrt{|(\nabla x - v)_j|^2+\nu^2}
  + \beta\sum_j\sqrt{|(\mathcal{E}v)_j|_F^2+\nu^2}` (smoothed TGV²), whose
  upper loss reads only :math:`x`.

The learned variables are logarithms of the weights,
:math:`\varphi = \log w` for the learned subset of :math:`w = (\alpha, \nu, \xi)`
(resp. :math:`(\alpha, \nu)`, :math:`(\alpha, \beta, \nu)`), so positivity is
automatic.
"""

import numpy as np
import odl

from .._validation import require_nonnegative, require_positive
from ..bilevel import BilevelProblem, ConditionPenalty, ParameterMap, SquaredError
from ..functionals import L2DataFit, ParametrisedSum, SmoothedTGV, SmoothedTV, Tikhonov
from ..operators import unit_cell_space
from ._joint import JointDenoisingFit
from ._parametrisation import ConditionConstants, LogLinearMap

__all__ = ["denoising_phi", "denoising_problem", "denoising_weights", "reconstruct"]


class _Spec:
    """Static description of one regulariser family (names, defaults, log-linear layout)."""

    def __init__(self, kind, weights, theta_names, matrix, init, bounds):
        self.kind = kind
        self.weights = weights  # names of the weights w, talk units
        self.theta_names = theta_names  # names of the energy parameters theta
        self.matrix = np.array(matrix, dtype=float)  # log theta = M log w
        self.init = init
        self.bounds = bounds


_SPECS = {
    "tv": _Spec(
        "tv", ("alpha", "nu"), ("alpha", "nu"), np.eye(2),
        {"alpha": 0.1, "nu": 0.1},
        {"alpha": (1e-6, 1e2), "nu": (1e-4, 1e1)},
    ),
    "tv_tikhonov": _Spec(
        "tv_tikhonov", ("alpha", "nu", "xi"), ("alpha", "nu", "alpha_xi"),
        [[1, 0, 0], [0, 1, 0], [1, 0, 1]],
        {"alpha": 0.1, "nu": 0.1, "xi": 0.1},
        {"alpha": (1e-6, 1e2), "nu": (1e-4, 1e1), "xi": (1e-8, 1e4)},
    ),
    "tgv": _Spec(
        "tgv", ("alpha", "beta", "nu"), ("alpha", "beta", "nu"), np.eye(3),
        {"alpha": 0.1, "beta": 0.1, "nu": 0.05},
        {"alpha": (1e-6, 1e2), "beta": (1e-6, 1e2), "nu": (1e-4, 1e1)},
    ),
}
_ALIASES = {"smoothed_tv": "tv", "smoothed_tv_tikhonov": "tv_tikhonov"}
_DEFAULT_LEARN = {"tv": ("alpha", "nu"), "tv_tikhonov": ("alpha", "nu", "xi"),
                  "tgv": ("alpha", "beta")}


# ------------------------------------------------------------------------------------------
# validation
# ------------------------------------------------------------------------------------------


def _as_samples(arrays, name):
    """Return a list of float64 arrays (1-D or 2-D, finite) from a sequence or a stacked array."""
    if isinstance(arrays, np.ndarray):
        if arrays.ndim not in (2, 3):
            raise ValueError(
                f"`{name}` as one array must be a stack of shape (n, length) or (n, rows, cols), "
                f"got shape {arrays.shape}"
            )
        arrays = list(arrays)
    elif isinstance(arrays, str | bytes) or not hasattr(arrays, "__iter__"):
        raise TypeError(f"`{name}` must be a sequence of arrays, got {type(arrays).__name__}")
    out = []
    for k, a in enumerate(arrays):
        arr = np.asarray(a.data if hasattr(a, "space") else a)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"`{name}[{k}]` must be real-valued, got dtype {arr.dtype}")
        if arr.ndim not in (1, 2):
            raise ValueError(f"`{name}[{k}]` must be 1-D or 2-D, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"`{name}[{k}]` contains NaN or Inf")
        out.append(np.array(arr, dtype=float))
    if not out:
        raise ValueError(f"`{name}` must not be empty")
    return out


def _check_pairs(clean, noisy):
    clean, noisy = _as_samples(clean, "clean"), _as_samples(noisy, "noisy")
    if len(clean) != len(noisy):
        raise ValueError(
            f"`clean` and `noisy` must have the same length, got {len(clean)} and {len(noisy)}"
        )
    shape = noisy[0].shape
    for k, (c, y) in enumerate(zip(clean, noisy, strict=True)):
        if y.shape != shape:
            raise ValueError(f"`noisy[{k}]` has shape {y.shape}, expected {shape} (as noisy[0])")
        if c.shape != shape:
            raise ValueError(f"`clean[{k}]` has shape {c.shape}, expected {shape}")
    return clean, noisy


def _spec(regulariser):
    if not isinstance(regulariser, str):
        raise TypeError(f"`regulariser` must be a str, got {regulariser!r}")
    kind = _ALIASES.get(regulariser, regulariser)
    if kind not in _SPECS:
        raise ValueError(
            f"`regulariser` must be one of {tuple(_SPECS)} (or {tuple(_ALIASES)}), "
            f"got {regulariser!r}"
        )
    return _SPECS[kind]


def _check_learn(learn, spec):
    if learn is None:
        return _DEFAULT_LEARN[spec.kind]
    if isinstance(learn, str):
        learn = (learn,)
    try:
        learn = tuple(learn)
    except TypeError as err:
        raise TypeError(f"`learn` must be a sequence of names, got {learn!r}") from err
    for name in learn:
        if name not in spec.weights:
            raise ValueError(
                f"`learn` entry {name!r} is not a weight of regulariser {spec.kind!r}; "
                f"choose from {spec.weights}"
            )
    if len(set(learn)) != len(learn):
        raise ValueError(f"`learn` must not repeat names, got {learn}")
    if not learn:
        raise ValueError("`learn` must name at least one weight")
    # phi lists the learned weights in the canonical order of the regulariser
    return tuple(n for n in spec.weights if n in learn)


def _check_weights(values, spec, name):
    """Return a dict of all weights: defaults updated by ``values`` (positive floats)."""
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise TypeError(f"`{name}` must be a dict {{weight name: value}}, got {values!r}")
    out = dict(spec.init)
    for key, value in values.items():
        if key not in spec.weights:
            raise ValueError(
                f"`{name}` key {key!r} is not a weight of regulariser {spec.kind!r}; "
                f"choose from {spec.weights}"
            )
        out[key] = require_positive(value, f"{name}[{key!r}]")
    return out


def _check_bounds(bounds, spec, learn):
    """Return the phi-space bounds (log units) for the learned weights."""
    if bounds is None:
        bounds = {}
    if not isinstance(bounds, dict):
        raise TypeError(f"`bounds` must be a dict {{weight name: (lo, hi)}}, got {bounds!r}")
    for key in bounds:
        if key not in learn:
            raise ValueError(f"`bounds` key {key!r} is not a learned weight {learn}")
    out = []
    for key in learn:
        pair = bounds.get(key, spec.bounds[key])
        try:
            lo, hi = pair
        except (TypeError, ValueError) as err:
            raise ValueError(f"`bounds[{key!r}]` must be a (lo, hi) pair, got {pair!r}") from err
        lo = None if lo is None else require_positive(lo, f"bounds[{key!r}] lo")
        hi = None if hi is None else require_positive(hi, f"bounds[{key!r}] hi")
        if lo is not None and hi is not None and not lo < hi:
            raise ValueError(f"`bounds[{key!r}]` must have lo < hi, got ({lo}, {hi})")
        out.append((None if lo is None else float(np.log(lo)),
                    None if hi is None else float(np.log(hi))))
    return out


# ------------------------------------------------------------------------------------------
# energies
# ------------------------------------------------------------------------------------------


def _energy(kind, noisy, theta, tau):
    """The lower-level energy of one noisy sample at parameters ``theta``."""
    X = unit_cell_space(noisy.shape)
    if kind == "tgv":
        Z = SmoothedTGV.joint_space(X)
        return ParametrisedSum(
            JointDenoisingFit(Z, noisy, tau=tau),
            SmoothedTGV(X, alpha=theta[0], beta=theta[1], nu=theta[2]),
        )
    fit = L2DataFit(odl.IdentityOperator(X), noisy)
    tv = SmoothedTV(X, alpha=theta[0], nu=theta[1])
    if kind == "tv":
        return ParametrisedSum(fit, tv)
    return ParametrisedSum(fit, tv, Tikhonov(X, xi=theta[2]))


def _theta_from_weights(spec, weights):
    return np.exp(spec.matrix @ np.log([weights[n] for n in spec.weights]))


def _weights_from_theta(spec, theta):
    w = dict(zip(spec.theta_names, (float(t) for t in theta), strict=True))
    if spec.kind == "tv_tikhonov":
        w["xi"] = w.pop("alpha_xi") / w["alpha"]
    return {n: w[n] for n in spec.weights}


def _problem_spec(problem):
    """Return ``(spec, tau)`` of a problem built by :func:`denoising_problem`."""
    if not isinstance(problem, BilevelProblem):
        raise TypeError(f"`problem` must be a BilevelProblem, got {type(problem).__name__}")
    E = problem.energies[0]
    terms = getattr(E, "terms", ())
    kinds = [type(t) for t in terms]
    if kinds == [JointDenoisingFit, SmoothedTGV]:
        return _SPECS["tgv"], terms[0].tau
    if kinds == [L2DataFit, SmoothedTV]:
        return _SPECS["tv"], 0.0
    if kinds == [L2DataFit, SmoothedTV, Tikhonov]:
        return _SPECS["tv_tikhonov"], 0.0
    raise TypeError("`problem` was not built by denoising_problem (unknown energy layout)")


# ------------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------------


def denoising_problem(
    clean,
    noisy,
    *,
    regulariser="tv_tikhonov",
    learn=None,
    init=None,
    bounds=None,
    penalty=None,
    penalty_weight=1e-6,
    tgv_tau=1e-2,
    solver="fista",
    lower_tol=1e-6,
    lower_max_iter=5000,
    cg_tol=1e-6,
    cg_max_iter=1000,
    executor=None,
):
    r"""Build the bilevel denoising problem of the talk from clean and noisy arrays.

    .. math::

        \min_\varphi \frac1n\sum_{i=1}^n\|\hat x_i(\theta) - x_i^\dagger\|^2 + J(\theta),
        \qquad \hat x_i(\theta) = \operatorname{argmin}_x E(x; y_i, \theta),
        \qquad \theta = T(\varphi),

    with the energy chosen by ``regulariser`` (:math:`\nabla`: forward
    differences with Neumann boundary; :math:`\mathcal{E}`: symmetrised
    gradient):

    ``"tv_tikhonov"`` (default; the talk's problem), weights :math:`w = (\alpha, \nu, \xi)`
        :math:`E = \frac12\|x-y\|^2 + \alpha\big(\sum_j\sqrt{|(\nabla x)_j|^2+\nu^2}
        + \frac{\xi}{2}\|x\|^2\big)`, built as
        ``L2DataFit + SmoothedTV(alpha, nu) + Tikhonov(alpha * xi)``: the energy
        parameters are :math:`\theta = (\alpha, \nu, \alpha\xi)` (names
        ``("alpha", "nu", "alpha_xi")``);
    ``"tv"``, :math:`w = (\alpha, \nu)`
        :math:`E = \frac12\|x-y\|^2 + \alpha\sum_j\sqrt{|(\nabla x)_j|^2+\nu^2}`,
        :math:`\theta = w`;
    ``"tgv"``, :math:`w = (\alpha, \beta, \nu)`
        on the joint variable :math:`z = (x, v) \in X^{1+d}`,
        :math:`E = \frac12\|x-y\|^2 + \frac{\tau}{2}\|v\|^2
        + \alpha\sum_j\sqrt{|(\nabla x - v)_j|^2+\nu^2}
        + \beta\sum_j\sqrt{|(\mathcal{E}v)_j|_F^2+\nu^2}`,
        :math:`\theta = w`; the upper loss is
        ``SquaredError(component=0)``, :math:`\|x - x^\dagger\|^2`, which does
        not see :math:`v`. The small fixed :math:`\tau` (``tgv_tau``) makes the
        energy :math:`\min(1,\tau)`-strongly convex, which the certified
        solvers need: smoothed TGV² alone is strictly, not uniformly, convex
        in :math:`v` (see :class:`~odl_bilevel.problems.JointDenoisingFit`
        for the choice :math:`\tau = 10^{-2}`).

    The learned variables are :math:`\varphi = \log w_\ell` for the learned
    weights :math:`w_\ell` (listed in the order of :math:`w` above, whatever
    the order of ``learn``; ``problem.parameter_map.names`` gives
    ``"log_alpha"``, ...); the other weights stay at their ``init`` values.
    The map is log-linear, :math:`\log\theta = M_\ell\varphi + b`, with vjp
    :math:`J_T^Tg = M_\ell^T(\theta\odot g)`.

    Parameters
    ----------
    clean, noisy : sequence of array-like
        Ground truths :math:`x_i^\dagger` and data :math:`y_i`: equally many
        1-D or 2-D float arrays, all of one shape (a stacked array of shape
        ``(n, ...)`` is read as ``n`` samples).
    regulariser : {"tv_tikhonov", "tv", "tgv"}
        Energy family (``"smoothed_tv_tikhonov"``/``"smoothed_tv"`` are aliases).
    learn : sequence of str, optional
        Weights to learn; default all of :math:`(\alpha, \nu, \xi)` for
        ``"tv_tikhonov"``, :math:`(\alpha, \nu)` for ``"tv"`` and
        :math:`(\alpha, \beta)` for ``"tgv"`` (:math:`\nu` fixed).
    init : dict, optional
        ``{weight: value > 0}`` initial (learned) or fixed (other) weights;
        defaults :math:`\alpha = \nu = \xi = 0.1` (TV families) and
        :math:`\alpha = \beta = 0.1`, :math:`\nu = 0.05` (TGV). The
        energies are built at these weights, so :func:`denoising_phi`
        returns the starting point :math:`\varphi_0`.
    bounds : dict, optional
        ``{weight: (lo, hi)}`` positive box bounds in weight units
        (``None`` for an open side), turned into :math:`\log` bounds on
        :math:`\varphi`; defaults :math:`\alpha,\beta\in[10^{-6}, 10^2]`,
        :math:`\nu\in[10^{-4}, 10]`, :math:`\xi\in[10^{-8}, 10^4]`.
    penalty : {None, "condition"} or Penalty, optional
        ``"condition"``: :math:`J = \beta_J(L(\theta)/\mu(\theta))^2` with the
        constants of the energy (:math:`c = 4d \ge \|\nabla\|^2`):
        :math:`L = 1 + \alpha(c/\nu + \xi)`, :math:`\mu = 1 + \alpha\xi`
        (talk); :math:`L = 1 + c\alpha/\nu`, :math:`\mu = 1` (TV);
        :math:`L = \max(1,\tau) + (\alpha(c+1) + \beta c)/\nu`,
        :math:`\mu = \min(1,\tau)` (TGV). These are exactly
        ``grad_lipschitz`` and ``strong_convexity`` of the energies. A
        :class:`~odl_bilevel.bilevel.Penalty` object is passed on unchanged.
    penalty_weight : float, optional
        :math:`\beta_J \ge 0` of the condition penalty.
    tgv_tau : float, optional
        :math:`\tau > 0` of the TGV energy (ignored otherwise). Larger values
        make the lower level cheaper (:math:`\mu = \min(1, \tau)`) and the
        model further from TGV².
    solver : {"fista", "gradient_descent"}
        Lower-level solver (the energies are smooth; hypergradients need that).
    lower_tol, lower_max_iter, cg_tol, cg_max_iter, executor
        Passed to :class:`~odl_bilevel.bilevel.BilevelProblem`.

    Returns
    -------
    BilevelProblem

    Raises
    ------
    TypeError
        If an argument has the wrong type (the message names it).
    ValueError
        If the arrays disagree in number or shape or hold NaN/Inf, a weight
        name in ``learn``/``init``/``bounds`` is unknown, a weight or bound is
        not positive, or an option is out of range (naming the argument).

    References
    ----------
    M. J. Ehrhardt and L. Roberts, Inexact derivative-free optimization for
    bilevel learning, *J. Math. Imaging Vision* 63:580-600, 2021.

    K. Bredies, K. Kunisch, T. Pock, Total generalized variation, *SIAM J.
    Imaging Sci.* 3(3):492-526, 2010.

    Examples
    --------
    >>> import numpy as np
    >>> clean = [np.repeat([0.2, 0.8], 8)]
    >>> noisy = [clean[0] + 0.1 * np.random.default_rng(0).standard_normal(16)]
    >>> problem = denoising_problem(clean, noisy, penalty="condition")
    >>> problem.parameter_map.names
    ('log_alpha', 'log_nu', 'log_xi')
    >>> phi0 = denoising_phi(problem)                       # log of the init weights
    >>> [round(float(t), 6) for t in problem.theta(phi0)]   # (alpha, nu, alpha * xi)
    [0.1, 0.1, 0.01]
    >>> res = problem.objective(phi0)
    >>> bool(res.value < np.sum((noisy[0] - clean[0]) ** 2))
    True
    """
    spec = _spec(regulariser)
    clean, noisy = _check_pairs(clean, noisy)
    learn = _check_learn(learn, spec)
    weights = _check_weights(init, spec, "init")
    phi_bounds = _check_bounds(bounds, spec, learn)
    penalty_weight = require_nonnegative(penalty_weight, "penalty_weight")
    tau = require_positive(tgv_tau, "tgv_tau")
    if solver not in ("fista", "gradient_descent"):
        raise ValueError(
            f"`solver` must be 'fista' or 'gradient_descent' (smooth energies), got {solver!r}"
        )

    learned = [spec.weights.index(n) for n in learn]
    fixed = [k for k in range(len(spec.weights)) if k not in learned]
    log_w = np.log([weights[n] for n in spec.weights])
    transform = LogLinearMap(spec.matrix[:, learned], spec.matrix[:, fixed] @ log_w[fixed])
    parameter_map = ParameterMap(
        transform.forward,
        transform.vjp,
        size=len(learn),
        names=tuple(f"log_{n}" for n in learn),
        bounds=phi_bounds,
        theta_names=spec.theta_names,
        inverse=transform.inverse,
        jacobian_norm=transform.jacobian_norm,
    )

    ndim = noisy[0].ndim
    if penalty is None:
        pass
    elif isinstance(penalty, str):
        if penalty != "condition":
            raise ValueError(f"`penalty` must be None, 'condition' or a Penalty, got {penalty!r}")
        constants = ConditionConstants(spec.kind, ndim, tau=tau)
        penalty = ConditionPenalty(
            penalty_weight,
            constants.lipschitz,
            constants.strong_convexity,
            lipschitz_gradient=constants.lipschitz_gradient,
            strong_convexity_gradient=constants.strong_convexity_gradient,
        )
    elif not (callable(penalty) and hasattr(penalty, "gradient")):
        raise TypeError(
            f"`penalty` must be None, 'condition' or a Penalty, got {type(penalty).__name__}"
        )

    theta0 = _theta_from_weights(spec, weights)
    energies = [_energy(spec.kind, y, theta0, tau) for y in noisy]
    loss = SquaredError(component=0) if spec.kind == "tgv" else None
    return BilevelProblem(
        energies,
        clean,
        parameter_map=parameter_map,
        penalty=penalty,
        loss=loss,
        solver=solver,
        lower_tol=lower_tol,
        lower_max_iter=lower_max_iter,
        cg_tol=cg_tol,
        cg_max_iter=cg_max_iter,
        executor=executor,
    )


def denoising_weights(problem, phi):
    r"""Return all weights :math:`w` (learned and fixed) at :math:`\varphi`, in the talk's units.

    Parameters
    ----------
    problem : BilevelProblem
        A problem built by :func:`denoising_problem`.
    phi : array-like
        Learned variables :math:`\varphi`.

    Returns
    -------
    dict
        ``{"alpha": ..., "nu": ..., "xi": ...}`` (``"tv_tikhonov"``; :math:`\xi`
        recovered from :math:`\theta_3 = \alpha\xi`), ``{"alpha", "nu"}``
        (``"tv"``) or ``{"alpha", "beta", "nu"}`` (``"tgv"``), as floats.

    Raises
    ------
    TypeError
        If ``problem`` was not built by :func:`denoising_problem`.

    Examples
    --------
    >>> import numpy as np
    >>> x = [np.zeros(8)]
    >>> problem = denoising_problem(x, x, learn=("alpha", "xi"), init={"nu": 0.5})
    >>> w = denoising_weights(problem, np.log([2.0, 3.0]))
    >>> {k: round(v, 6) for k, v in w.items()}
    {'alpha': 2.0, 'nu': 0.5, 'xi': 3.0}
    """
    spec, _ = _problem_spec(problem)
    return _weights_from_theta(spec, problem.theta(phi))


def denoising_phi(problem, weights=None):
    r"""Return :math:`\varphi = \log w_\ell` for given weights, or the starting point.

    Parameters
    ----------
    problem : BilevelProblem
        A problem built by :func:`denoising_problem`.
    weights : dict, optional
        ``{weight: value > 0}`` for (at least) every learned weight; entries
        for fixed weights must equal the fixed values. Default: the ``init``
        weights the problem was built with.

    Returns
    -------
    numpy.ndarray
        :math:`\varphi` (float64, in the order of ``problem.parameter_map.names``).

    Raises
    ------
    TypeError
        If ``problem`` was not built by :func:`denoising_problem`.
    ValueError
        If a learned weight is missing, a value is not positive, a name is
        unknown or a fixed weight is given another value (naming ``weights``).
    """
    spec, _ = _problem_spec(problem)
    names = [n.removeprefix("log_") for n in problem.parameter_map.names]
    current = _weights_from_theta(spec, problem.energies[0].params)
    if weights is None:
        return np.log([current[n] for n in names])
    if not isinstance(weights, dict):
        raise TypeError(f"`weights` must be a dict {{weight name: value}}, got {weights!r}")
    for key, value in weights.items():
        if key not in spec.weights:
            raise ValueError(f"`weights` key {key!r} is not one of {spec.weights}")
        value = require_positive(value, f"weights[{key!r}]")
        if key not in names and not np.isclose(value, current[key], rtol=1e-12, atol=0):
            raise ValueError(
                f"`weights[{key!r}]` = {value} differs from the fixed value {current[key]}"
            )
    missing = [n for n in names if n not in weights]
    if missing:
        raise ValueError(f"`weights` lacks the learned weights {missing}")
    return np.log([float(weights[n]) for n in names])


def reconstruct(problem, phi, noisy, *, tol=None, max_iter=None):
    r"""Denoise other data (e.g. a test set) with the energy of ``problem`` at :math:`\varphi`.

    Builds the energy of the problem's family for each array in ``noisy``
    (any shape of the problem's dimension) and solves it at
    :math:`\theta = T(\varphi)` via
    :meth:`~odl_bilevel.bilevel.BilevelProblem.reconstruct` (cold starts; the
    problem's warm starts and ledger are untouched).

    Parameters
    ----------
    problem : BilevelProblem
        A problem built by :func:`denoising_problem`.
    phi : array-like
        Learned variables :math:`\varphi`.
    noisy : sequence of array-like
        Data :math:`y` (1-D or 2-D arrays, or a stacked array).
    tol, max_iter : optional
        Lower-level tolerance and cap; default the problem's.

    Returns
    -------
    list of numpy.ndarray
        The reconstructions :math:`\hat x(\theta)` (the image part :math:`x`
        for TGV²), float64 arrays of the shapes of ``noisy``.

    Raises
    ------
    TypeError
        If ``problem`` was not built by :func:`denoising_problem` or ``noisy``
        is not a sequence of real arrays.
    ValueError
        If ``noisy`` is empty or holds NaN/Inf or arrays of another dimension.

    Examples
    --------
    >>> import numpy as np
    >>> x = [np.zeros(8)]
    >>> problem = denoising_problem(x, x, regulariser="tv")
    >>> [x_hat] = reconstruct(problem, denoising_phi(problem), [np.ones(8)])
    >>> round(float(x_hat.mean()), 6)       # a constant is kept
    1.0
    """
    spec, tau = _problem_spec(problem)
    noisy = _as_samples(noisy, "noisy")
    ndim = problem.energies[0].domain[0].ndim if spec.kind == "tgv" else problem.domain.ndim
    for k, y in enumerate(noisy):
        if y.ndim != ndim:
            raise ValueError(
                f"`noisy[{k}]` must be {ndim}-D like the training data, got {y.ndim}-D"
            )
    theta = problem.theta(phi)
    energies = [_energy(spec.kind, y, theta, tau) for y in noisy]
    xs = problem.reconstruct(phi, energies, tol=tol, max_iter=max_iter)
    if spec.kind == "tgv":
        return [np.array(x[0].data, dtype=float) for x in xs]
    return [np.array(x.data, dtype=float) for x in xs]
