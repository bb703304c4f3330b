r"""Derivative and adjoint checkers that raise.

Each checker compares an analytic derivative against a finite-difference or
inner-product identity, returns a :class:`CheckResult` with the relative error
it measured, and raises ``AssertionError`` (quoting that error) when it exceeds
the tolerance. Tolerances default to the precision of the space's dtype.

The finite-difference tests are Taylor tests: for a step sequence
:math:`h_k = h_0 10^{-k/2}` the central difference
:math:`(\phi(h)-\phi(-h))/(2h)` of :math:`\phi(h) = F(x + h d)` agrees with the
analytic directional derivative up to :math:`O(h^2)` plus rounding
:math:`O(\varepsilon/h)`; the smallest relative discrepancy over the
sequence is reported. A wrong derivative leaves an :math:`O(1)`
discrepancy at every step. The observed orders of the first-order
remainders :math:`|\phi(h)-\phi(0)-h\,\phi'(0)|` (2 for a correct gradient,
1 for a wrong one) are reported too.
"""

import dataclasses

import numpy as np
import odl

__all__ = [
    "CheckResult",
    "check_adjoint",
    "check_fourier_majorant",
    "check_gradient",
    "check_hessian",
    "check_param_derivative",
    "random_element",
]

_FD_RTOL = {np.dtype("float64"): 1e-6, np.dtype("float32"): 2e-2}
_ADJ_RTOL = {np.dtype("float64"): 1e-10, np.dtype("float32"): 1e-4}


@dataclasses.dataclass(frozen=True)
class CheckResult:
    """Outcome of a derivative or adjoint check.

    Attributes
    ----------
    name : str
        What was checked.
    rel_error : float
        Relative error measured (see the checker's docstring for the formula).
    rtol : float
        Tolerance it was compared with.
    details : dict
        Extra diagnostics (steps, per-step errors, observed Taylor orders).
    """

    name: str
    rel_error: float
    rtol: float
    details: dict = dataclasses.field(default_factory=dict)

    @property
    def passed(self):
        """Whether ``rel_error <= rtol``."""
        return bool(self.rel_error <= self.rtol)

    def _raise_if_failed(self):
        if not self.passed:
            extra = ""
            if "orders" in self.details:
                orders = ", ".join(f"{o:.2f}" for o in self.details["orders"])
                extra = f"; observed Taylor orders [{orders}]"
            raise AssertionError(
                f"{self.name}: relative error {self.rel_error:.3e} exceeds "
                f"rtol {self.rtol:.1e}{extra}"
            )
        return self


def _rng(rng):
    return rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)


def _real_dtype(space):
    if isinstance(space, odl.ProductSpace):
        return _real_dtype(space[0])
    if isinstance(space, odl.Field):
        return np.dtype("float64")
    return np.dtype(space.real_dtype)


def random_element(space, rng=None):
    """Return a standard-normal random element of ``space`` (complex: both parts).

    Parameters
    ----------
    space : odl.LinearSpace
        A tensor space, discretised space or product space of those.
    rng : numpy.random.Generator or int or None
        Source of randomness.
    """
    rng = _rng(rng)
    if isinstance(space, odl.ProductSpace):
        return space.element([random_element(s, rng) for s in space])
    arr = rng.standard_normal(space.shape)
    if space.is_complex:
        arr = arr + 1j * rng.standard_normal(space.shape)
    return space.element(arr.astype(space.dtype))


def _as64(elem):
    if isinstance(elem.space, odl.ProductSpace):
        return np.concatenate([_as64(p) for p in elem])
    return np.asarray(elem.data, dtype=np.complex128 if elem.space.is_complex else float).ravel()


def _inner(a, b):
    return float(np.vdot(_as64(b), _as64(a)).real)


def _norm(a):
    return float(np.linalg.norm(_as64(a)))


def check_adjoint(op, *, rtol=None, rng=None, n_trials=3):
    r"""Check :math:`\langle A x, y\rangle = \langle x, A^* y\rangle` on random vectors.

    The relative error is
    :math:`\max_{\rm trials} |\langle Ax,y\rangle - \langle x,A^*y\rangle| /
    \max(\|Ax\|\|y\|, \|x\|\|A^*y\|)` (real parts, as the spaces are real
    inner-product spaces or complex ones with :math:`\mathrm{Re}\langle\cdot,\cdot\rangle`).

    Parameters
    ----------
    op : odl.Operator
        A linear operator with an ``adjoint``.
    rtol : float, optional
        Tolerance; default ``1e-10`` for float64 and ``1e-4`` for float32.
    rng : numpy.random.Generator or int or None
        Source of randomness.
    n_trials : int
        Number of random pairs.

    Returns
    -------
    CheckResult

    Raises
    ------
    AssertionError
        If the relative error exceeds ``rtol``.

    Examples
    --------
    >>> import odl
    >>> from odl_bilevel.testing import check_adjoint
    >>> A = odl.ScalingOperator(odl.rn(3), 2.0)
    >>> check_adjoint(A, rng=0).passed
    True
    """
    if not op.is_linear:
        raise ValueError(f"`op` must be linear, got {op!r}")
    rng = _rng(rng)
    dt = min(_real_dtype(op.domain), _real_dtype(op.range), key=lambda d: d.itemsize)
    rtol = _ADJ_RTOL[dt] if rtol is None else float(rtol)
    adj = op.adjoint
    worst = 0.0
    for _ in range(int(n_trials)):
        x = random_element(op.domain, rng)
        y = random_element(op.range, rng)
        ax = op(x)
        aty = adj(y)
        lhs, rhs = _inner(ax, y), _inner(x, aty)
        scale = max(_norm(ax) * _norm(y), _norm(x) * _norm(aty), np.finfo(float).tiny)
        worst = max(worst, abs(lhs - rhs) / scale)
    return CheckResult(f"adjoint of {type(op).__name__}", worst, rtol)._raise_if_failed()


def _steps(h0, count=13):
    return h0 * 10.0 ** (-0.5 * np.arange(count))


def _orders(hs, rem):
    rem = np.maximum(np.asarray(rem), 1e-300)
    return list(np.log(rem[:-1] / rem[1:]) / np.log(hs[:-1] / hs[1:]))


def _default_step(x, d):
    return 0.1 * max(_norm(x), 1.0) / max(_norm(d), 1e-300) / np.sqrt(max(_as64(x).size, 1))


def check_gradient(f, x=None, *, direction=None, rtol=None, rng=None, step=None):
    r"""First-order Taylor test of ``f.gradient`` at ``x``.

    With :math:`\phi(h) = f(x+hd)` and :math:`g = \langle\nabla f(x), d\rangle`
    the reported relative error is
    :math:`\min_h |(\phi(h)-\phi(-h))/(2h) - g| / \max(|g|, \|\nabla f(x)\|\,\|d\|/\sqrt{n})`
    (:math:`n` = dimension), which for random :math:`d` estimates
    :math:`\|\text{gradient error}\|/\|\nabla f(x)\|`.

    Parameters
    ----------
    f : odl.functionals.Functional
        Functional with a ``gradient`` operator.
    x : element of ``f.domain``, optional
        Point of the test (random if omitted).
    direction : element of ``f.domain``, optional
        Direction :math:`d` (random if omitted).
    rtol : float, optional
        Tolerance; default ``1e-6`` (float64) or ``2e-2`` (float32).
    rng : numpy.random.Generator or int or None
        Source of randomness.
    step : float, optional
        Largest step :math:`h_0`; default :math:`0.1\max(\|x\|,1)/(\|d\|\sqrt{n})`.

    Returns
    -------
    CheckResult
        ``details`` holds the steps, per-step errors and observed Taylor orders.

    Examples
    --------
    >>> import odl
    >>> from odl_bilevel.testing import check_gradient
    >>> f = odl.functionals.L2NormSquared(odl.rn(4))
    >>> check_gradient(f, rng=1).passed
    True
    """
    rng = _rng(rng)
    space = f.domain
    x = random_element(space, rng) if x is None else x
    d = random_element(space, rng) if direction is None else direction
    rtol = _FD_RTOL[_real_dtype(space)] if rtol is None else float(rtol)
    grad = f.gradient(x)
    g = _inner(grad, d)
    f0 = float(f(x))
    # |<g, d>| for a random d is about |g||d|/sqrt(n): normalise by that, so
    # the error reads as |error of the gradient| / |gradient|.
    n = _as64(d).size
    scale = max(abs(g), _norm(grad) * _norm(d) / np.sqrt(n), np.finfo(float).tiny)
    hs = _steps(step if step is not None else _default_step(x, d))
    errors, rems = [], []
    for h in map(float, hs):
        fp, fm = float(f(x + h * d)), float(f(x - h * d))
        errors.append(abs((fp - fm) / (2 * h) - g) / scale)
        rems.append(abs(fp - f0 - h * g))
    err = float(min(errors))
    details = {"steps": hs, "errors": errors, "orders": _orders(hs, rems)[:6]}
    return CheckResult(f"gradient of {type(f).__name__}", err, rtol, details)._raise_if_failed()


def check_hessian(f, x=None, *, direction=None, rtol=None, rng=None, step=None):
    r"""Second-order Taylor test of ``f.gradient.derivative(x)`` and its symmetry.

    With :math:`H = \nabla^2 f(x)` (``f.gradient.derivative(x)``) the relative error
    is the larger of
    :math:`\min_h \|(\nabla f(x+hd)-\nabla f(x-hd))/(2h) - Hd\| / s` with
    :math:`s = \max(\|Hd\|, \sqrt{\varepsilon}\,\|\nabla f(x)\|\|d\|/\max(\|x\|, 1))`
    and the symmetry defect
    :math:`|\langle Hu,v\rangle-\langle u,Hv\rangle| / (\|Hu\|\|v\|+\|u\|\|Hv\|)` scaled to
    the finite-difference tolerance.

    Parameters
    ----------
    f : odl.functionals.Functional
        Functional whose ``gradient`` has a ``derivative`` (the Hessian).
    x, direction, rtol, rng, step
        As in :func:`check_gradient`.

    Returns
    -------
    CheckResult

    Examples
    --------
    >>> import odl
    >>> from odl_bilevel.testing import check_hessian
    >>> f = odl.functionals.L2NormSquared(odl.rn(4))
    >>> check_hessian(f, rng=2).passed
    True
    """
    rng = _rng(rng)
    space = f.domain
    dt = _real_dtype(space)
    x = random_element(space, rng) if x is None else x
    d = random_element(space, rng) if direction is None else direction
    rtol = _FD_RTOL[dt] if rtol is None else float(rtol)
    gradient = f.gradient
    hess = gradient.derivative(x)
    hd = hess(d)
    g0 = gradient(x)
    floor = _norm(g0) * _norm(d) / max(_norm(x), 1.0) * np.finfo(dt).eps ** 0.5
    scale = max(_norm(hd), floor, np.finfo(float).tiny)
    hs = _steps(step if step is not None else _default_step(x, d))
    errors, rems = [], []
    hd64 = _as64(hd)
    g064 = _as64(g0)
    for h in map(float, hs):
        gp, gm = _as64(gradient(x + h * d)), _as64(gradient(x - h * d))
        errors.append(float(np.linalg.norm((gp - gm) / (2 * h) - hd64)) / scale)
        rems.append(float(np.linalg.norm(gp - g064 - h * hd64)))
    fd_err = float(min(errors))
    u, v = random_element(space, rng), random_element(space, rng)
    hu, hv = hess(u), hess(v)
    sym_scale = max(_norm(hu) * _norm(v) + _norm(u) * _norm(hv), np.finfo(float).tiny)
    sym_err = abs(_inner(hu, v) - _inner(u, hv)) / sym_scale
    sym_rel = sym_err * rtol / _ADJ_RTOL[dt]
    details = {
        "steps": hs,
        "errors": errors,
        "orders": _orders(hs, rems)[:6],
        "symmetry_error": sym_err,
    }
    return CheckResult(
        f"Hessian of {type(f).__name__}", max(fd_err, sym_rel), rtol, details
    )._raise_if_failed()


def _param_direction(theta, rng):
    signs = rng.choice([-1.0, 1.0], size=theta.shape)
    mags = rng.uniform(0.5, 1.0, size=theta.shape)
    base = np.where(theta != 0, np.abs(theta), 1.0)
    return signs * mags * base


def check_param_derivative(f, x=None, *, direction=None, rtol=None, rng=None, step=None):
    r"""Taylor tests of the parameter derivatives of a ``ParametrisedFunctional``.

    Checks, for a direction :math:`\delta` in parameter space,

    1. :math:`\partial_\theta F(x;\theta)\cdot\delta` against
       :math:`(F(x;\theta+h\delta)-F(x;\theta-h\delta))/(2h)`;
    2. the mixed derivative :math:`M\delta = \partial_\theta\nabla_xF(x;\theta)\,\delta`
       against :math:`(\nabla_xF(x;\theta+h\delta)-\nabla_xF(x;\theta-h\delta))/(2h)`;
    3. the adjoint of :math:`M` (:func:`check_adjoint`).

    Steps whose perturbed parameters are rejected by ``f.with_params`` (e.g. a
    smoothing parameter pushed below zero) are skipped. The default direction
    perturbs every parameter relative to its size, :math:`\delta_j=\pm c_j|\theta_j|`
    (:math:`c_j\in[0.5, 1]`; 1 where :math:`\theta_j=0`), with :math:`h\le 0.05`.

    Parameters
    ----------
    f : ParametrisedFunctional
        The functional; needs ``params``, ``with_params``, ``param_gradient``
        and ``mixed_derivative``.
    x : element of ``f.domain``, optional
        Point of the test (random if omitted).
    direction : array-like, optional
        Parameter direction :math:`\delta`.
    rtol, rng
        As in :func:`check_gradient`.
    step : float, optional
        Largest step, default 0.05.

    Returns
    -------
    CheckResult
        The worst of the three relative errors; ``details`` has each.
    """
    rng = _rng(rng)
    space = f.domain
    dt = _real_dtype(space)
    rtol = _FD_RTOL[dt] if rtol is None else float(rtol)
    x = random_element(space, rng) if x is None else x
    theta = np.asarray(f.params, dtype=float)
    delta = _param_direction(theta, rng) if direction is None else np.asarray(direction, float)
    if delta.shape != theta.shape:
        raise ValueError(f"`direction` must have shape {theta.shape}, got {delta.shape}")
    pg = float(np.dot(np.asarray(f.param_gradient(x).data, dtype=float), delta))
    mixed = f.mixed_derivative(x)
    md = _as64(mixed(mixed.domain.element(delta)))
    grad_scale = max(
        float(np.linalg.norm(f.param_gradient(x).data))
        * float(np.linalg.norm(delta))
        / np.sqrt(max(delta.size, 1)),
        abs(pg),
        np.finfo(float).tiny,
    )
    floor = _norm(f.gradient(x)) * np.finfo(dt).eps ** 0.5
    mixed_scale = max(float(np.linalg.norm(md)), floor, np.finfo(float).tiny)
    val_errors, mix_errors, used = [], [], []
    for h in map(float, _steps(0.05 if step is None else float(step), count=10)):
        try:
            fp, fm = f.with_params(theta + h * delta), f.with_params(theta - h * delta)
        except ValueError:
            continue
        used.append(h)
        val_errors.append(abs((float(fp(x)) - float(fm(x))) / (2 * h) - pg) / grad_scale)
        fd = (_as64(fp.gradient(x)) - _as64(fm.gradient(x))) / (2 * h)
        mix_errors.append(float(np.linalg.norm(fd - md)) / mixed_scale)
    if not used:
        raise ValueError("every parameter perturbation was rejected; pass `direction` or `step`")
    adj = check_adjoint(mixed, rng=rng, rtol=np.inf).rel_error
    errs = {
        "param_gradient": float(min(val_errors)),
        "mixed_derivative": float(min(mix_errors)),
        "mixed_adjoint": float(adj * rtol / _ADJ_RTOL[dt]),
    }
    details = {"steps": np.array(used), **errs}
    worst = max(errs, key=errs.get)
    return CheckResult(
        f"parameter derivative of {type(f).__name__} ({worst})", errs[worst], rtol, details
    )._raise_if_failed()


def _fourier_apply(symbol, v):
    """``Re ifftn(symbol * fftn(v))`` with numpy's FFT (independent of the library's)."""
    return np.fft.ifftn(symbol * np.fft.fftn(v)).real


def check_fourier_majorant(f, x=None, *, rtol=None, rng=None, n_iter=30):
    r"""Check that ``f.fourier_majorant()`` bounds the Hessian: :math:`\nabla^2 f(x) \preceq M`.

    :math:`M = \mathrm{Re}\,F^H\mathrm{diag}(m)F` with :math:`F` the unitary DFT.

    With :math:`m` the majorant (an array over the DFT grid in NumPy's
    ``fftfreq`` order, or a scalar) and :math:`H = \nabla^2 f(x)`
    (``f.gradient.derivative(x)``), the largest generalised eigenvalue
    :math:`\lambda = \max_v \langle v, Hv\rangle / \langle v, Mv\rangle` is
    estimated by ``n_iter`` steps of the power iteration on
    :math:`M^{-1/2}HM^{-1/2}` (with :math:`m + 10^{-12}\max m` in place of
    :math:`m`) from a random start, at ``x`` or, when ``x`` is None, at zero
    (where smoothed regularisers are most curved) and at a random point. The
    relative error is :math:`\max(0, \lambda - 1)`, with rounding and the
    symmetry defect of :math:`m` (:math:`m_k = m_{-k}`) added; negative or
    non-finite entries of :math:`m` fail outright. The power iteration
    approaches :math:`\lambda` from below, so a pass is evidence, a failure
    proof, that :math:`m` is no majorant. :math:`M` is applied with NumPy's
    FFT, independently of the library's operators.

    Parameters
    ----------
    f : ParametrisedFunctional
        Functional with ``fourier_majorant()`` (not None) and a Hessian.
    x : element of ``f.domain``, optional
        Point of the check.
    rtol : float, optional
        Tolerance on :math:`\lambda - 1`; default ``1e-8`` (float64), ``1e-4`` (float32).
    rng : numpy.random.Generator or int or None
        Source of randomness.
    n_iter : int
        Power-iteration steps per point.

    Returns
    -------
    CheckResult
        ``details`` holds the estimates of :math:`\lambda` per point.

    Raises
    ------
    ValueError
        If ``f`` has no majorant.
    AssertionError
        If the relative error exceeds ``rtol``.

    Examples
    --------
    >>> from odl_bilevel.functionals import SmoothedTV
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import check_fourier_majorant
    >>> check_fourier_majorant(SmoothedTV(unit_cell_space((8, 8)), 0.1, 0.05), rng=0).passed
    True
    """
    rng = _rng(rng)
    space = f.domain
    dt = _real_dtype(space)
    rtol = {np.dtype("float64"): 1e-8, np.dtype("float32"): 1e-4}[dt] if rtol is None else rtol
    m = f.fourier_majorant()
    if m is None:
        raise ValueError(f"{type(f).__name__} has no Fourier majorant")
    m = np.broadcast_to(np.asarray(m, dtype=np.float64), space.shape)
    name = f"Fourier majorant of {type(f).__name__}"
    if not np.all(np.isfinite(m)) or m.min() < 0:
        details = {"reason": "negative or not finite"}
        return CheckResult(name, np.inf, float(rtol), details)._raise_if_failed()
    flipped = np.roll(np.flip(m), 1, axis=tuple(range(m.ndim)))
    sym_err = float(np.abs(m - flipped).max() / max(m.max(), np.finfo(float).tiny))
    root = 1.0 / np.sqrt(m + 1e-12 * max(m.max(), np.finfo(float).tiny))
    points = [x] if x is not None else [space.zero(), random_element(space, rng)]
    lambdas = []
    for point in points:
        hess = f.gradient.derivative(point)
        v = rng.standard_normal(space.shape)
        lam = 0.0
        for _ in range(int(n_iter)):
            v /= np.linalg.norm(v)
            hv = _as64(hess(space.element(_fourier_apply(root, v)))).reshape(space.shape)
            w = _fourier_apply(root, hv)
            lam = float(np.vdot(v, w))
            v = w
        lambdas.append(lam)
    err = max(0.0, max(lambdas) - 1.0) + sym_err
    details = {"lambdas": lambdas, "symmetry_error": sym_err}
    return CheckResult(name, err, float(rtol), details)._raise_if_failed()
