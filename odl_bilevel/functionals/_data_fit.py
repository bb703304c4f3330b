r"""Least-squares data fits: :math:`\frac12\|Ax-y\|^2` and the sampled MRI fit.

- :class:`L2DataFit` is :math:`D(x) = \frac12\|Ax-y\|^2` for any linear ODL
  operator :math:`A` (no parameters);
- :class:`SampledDataFit` is :math:`D(x;\theta) = \frac12\|S(Fx-y)\|^2`,
  :math:`S=\mathrm{diag}(s)`, :math:`s = P\theta`, whose parameters are the
  sampling weights (Sherry et al., IEEE TMI 2020). Its gradient and
  Hessian-vector product cost one real FFT pair each.
"""

import numpy as np
import odl

from .._validation import (
    as_float,
    require_element,
    require_finite,
    require_nonnegative,
    require_unit_cell_space,
)
from ..operators._fourier import (
    _check_fft_options,
    _flip_k,
    _half_spectrum_filter,
    _unitary_fftn,
)
from ..operators._sampling import CartesianSampling
from ._base import HessianOperator, ParametrisedFunctional, ParamLinearOperator

__all__ = ["L2DataFit", "SampledDataFit"]


def _sq_norm(arr):
    """Squared Euclidean norm of a raw array, accumulated in double precision."""
    a = np.asarray(arr).ravel()
    if a.dtype in (np.float32, np.complex64):
        a = a.astype(np.result_type(a.dtype, np.float64))
    return float(np.vdot(a, a).real)


def _elem_sq_norm(elem):
    if isinstance(elem.space, odl.ProductSpace):
        return float(sum(_elem_sq_norm(p) for p in elem))
    return _sq_norm(elem.data)


def _range_element(data, space, name):
    """Return a finite copy of ``data`` as an element of ``space`` (no silent casts)."""
    if hasattr(data, "space"):
        if data.space != space:
            raise ValueError(f"`{name}` must be an element of {space}, got one of {data.space}")
        elem = data.copy()
    elif isinstance(space, odl.ProductSpace):
        elem = space.element(data).copy()
    else:
        arr = np.asarray(data)
        if arr.shape != space.shape:
            raise ValueError(f"`{name}` must have shape {space.shape}, got {arr.shape}")
        if arr.dtype.kind not in "fiuc" or (arr.dtype.kind == "c" and not space.is_complex):
            raise TypeError(
                f"`{name}` must have a dtype castable to {space.dtype}, got {arr.dtype}"
            )
        elem = space.element(arr.astype(space.dtype, copy=True))
    require_finite(elem, name)
    return elem


def _power_iteration(op, adjoint, *, max_iter=500, tol=1e-7, seed=0):
    r"""Estimate :math:`\|A\|^2 = \lambda_{\max}(A^*A)` by power iteration (fixed seed)."""
    rng = np.random.default_rng(seed)
    x = op.domain.element(rng.standard_normal(op.domain.shape).astype(op.domain.dtype))
    ax, y = op.range.element(), op.domain.element()
    lam = 0.0
    for _ in range(max_iter):
        nx = np.sqrt(_sq_norm(x.data))
        if nx == 0:
            return 0.0
        x *= 1.0 / nx
        op(x, out=ax)
        adjoint(ax, out=y)
        new = np.sqrt(_sq_norm(y.data))
        x, y = y, x
        if abs(new - lam) <= tol * new:
            return float(new)
        lam = new
    return float(lam)


class L2DataFit(ParametrisedFunctional):
    r"""Least-squares data fit :math:`D(x) = \frac12\|Ax - y\|^2` (no parameters).

    Derivatives: :math:`\nabla D(x) = A^*(Ax-y)`, :math:`\nabla^2 D = A^*A`;
    :math:`\nabla D` is :math:`\|A\|^2`-Lipschitz and :math:`D` is
    :math:`\lambda_{\min}(A^*A)`-strongly convex. ``params`` is empty
    (``param_space`` is :math:`\mathbb{R}^0`). The Hessian is constant and
    there are no parameters, so :attr:`hessian_lipschitz` and
    :attr:`mixed_lipschitz` are 0.

    Parameters
    ----------
    operator : odl.Operator
        Linear forward operator :math:`A` with an ``adjoint``, on a unit-cell
        domain (``odl.IdentityOperator(X)`` for denoising).
    data : element of ``operator.range`` or array-like
        Data :math:`y` (copied).
    opnorm : float, optional
        :math:`\|A\|`. If omitted: 1 for the identity, else
        ``operator.norm(estimate=False)`` where implemented, else a power
        iteration on :math:`A^*A` with a fixed seed (an estimate from below,
        to relative accuracy about :math:`10^{-7}`).
    strong_convexity : float, optional
        Known lower bound of :math:`\lambda_{\min}(A^*A)`; default 1 for the
        identity and 0 otherwise.

    Raises
    ------
    TypeError
        If ``operator`` is not a linear ``odl.Operator`` or ``data`` has a bad dtype.
    ValueError
        If ``data`` has the wrong shape/space or holds NaN/Inf, or ``opnorm``
        / ``strong_convexity`` is negative.

    Examples
    --------
    >>> import odl
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import check_gradient
    >>> X = unit_cell_space((4, 4))
    >>> f = L2DataFit(odl.IdentityOperator(X), X.zero())
    >>> f(X.one()), f.grad_lipschitz, f.strong_convexity, f.params.size
    (8.0, 1.0, 1.0, 0)
    >>> check_gradient(f, rng=0).passed
    True
    """

    def __init__(self, operator, data, *, opnorm=None, strong_convexity=None):
        if not isinstance(operator, odl.Operator) or not operator.is_linear:
            raise TypeError(f"`operator` must be a linear odl.Operator, got {operator!r}")
        require_unit_cell_space(operator.domain, "operator.domain")
        self._operator = operator
        self._is_identity = isinstance(operator, odl.IdentityOperator)
        self._data = _range_element(data, operator.range, "data")
        if opnorm is not None:
            lip = require_nonnegative(opnorm, "opnorm") ** 2
        elif self._is_identity:
            lip = 1.0
        else:
            try:
                lip = as_float(operator.norm(estimate=False), "operator.norm()") ** 2
            except NotImplementedError:
                lip = _power_iteration(operator, operator.adjoint)
        if strong_convexity is None:
            self._mu = 1.0 if self._is_identity else 0.0
        else:
            self._mu = require_nonnegative(strong_convexity, "strong_convexity")
        super().__init__(operator.domain, [], param_names=(), grad_lipschitz=lip)
        self._gradient = _L2Gradient(self)

    @property
    def operator(self):
        """The forward operator :math:`A`."""
        return self._operator

    @property
    def data(self):
        """The data :math:`y` (an element of ``operator.range``)."""
        return self._data

    @property
    def strong_convexity(self):
        return self._mu

    @property
    def hessian_lipschitz(self):
        r"""0: the Hessian :math:`A^*A` does not depend on :math:`x`."""
        return 0.0

    @property
    def mixed_lipschitz(self):
        r"""0: there are no parameters (:math:`C(x)` maps :math:`\mathbb{R}^0 \to X`)."""
        return 0.0

    def _with_params(self, theta):
        return self

    def _call(self, x):
        if self._is_identity:
            return 0.5 * _sq_norm(x.data - self._data.data)
        r = self._operator(x)
        r -= self._data
        return 0.5 * _elem_sq_norm(r)

    @property
    def gradient(self):
        r""":math:`\nabla D(x) = A^*(Ax-y)`; its ``derivative(x)`` is :math:`A^*A`."""
        return self._gradient

    def param_gradient(self, x):
        return self.param_space.zero()

    def mixed_derivative(self, x):
        def forward(dtheta, out):
            out.set_zero()

        def backward(v, out):
            out[...] = 0.0

        return ParamLinearOperator(self.param_space, self.domain, forward, backward)


class _L2Gradient(odl.Operator):
    r""":math:`x \mapsto A^*(Ax - y)` with a cached range buffer."""

    def __init__(self, func):
        super().__init__(func.domain, func.domain)
        self._op = func.operator
        self._adj = None if func._is_identity else func.operator.adjoint
        self._y = func.data
        self._tmp = None
        self._hessian = _L2Hessian(self)

    def _call(self, x, out):
        if self._adj is None:
            np.subtract(x.data, self._y.data, out=out.data)
            return
        if self._tmp is None:
            self._tmp = self._op.range.element()
        self._op(x, out=self._tmp)
        self._tmp -= self._y
        self._adj(self._tmp, out=out)

    def derivative(self, x):
        r"""The Hessian :math:`A^*A` (independent of ``x``)."""
        return self._hessian


class _L2Hessian(HessianOperator):
    def __init__(self, grad):
        super().__init__(grad.domain)
        self._grad = grad
        self._tmp = None

    def _call(self, v, out):
        g = self._grad
        if g._adj is None:
            np.copyto(out.data, v.data)
            return
        if self._tmp is None:
            self._tmp = g._op.range.element()
        g._op(v, out=self._tmp)
        g._adj(self._tmp, out=out)


def _kspace_data(data, shape):
    arr = np.asarray(data.data if hasattr(data, "space") else data)
    if arr.dtype.kind not in "fiuc":
        raise TypeError(f"`data` must be a real or complex array, got dtype {arr.dtype}")
    if arr.shape != tuple(shape):
        raise ValueError(f"`data` must have shape {tuple(shape)}, got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError("`data` contains NaN or Inf")
    arr = np.array(arr, dtype=np.complex128)
    arr.flags.writeable = False
    return arr


class SampledDataFit(ParametrisedFunctional):
    r"""Sampled Fourier data fit :math:`D(x;\theta) = \frac12\|S(Fx-y)\|^2`, :math:`s = P\theta`.

    .. math::
        D(x;\theta) = \frac12\sum_j s_j^2\,|(Fx)_j - y_j|^2, \qquad
        S = \mathrm{diag}(s),\ s = P\theta \in [0,1]^n,

    with :math:`F` the unitary DFT, :math:`y` complex k-space data and
    :math:`P` the sampling map (:class:`~odl_bilevel.operators.CartesianSampling`
    for one weight per phase-encode line; ``None`` for the free pattern
    :math:`s=\theta`, one weight per pixel).

    Derivatives, with :math:`W = s^2` and :math:`r = Fx - y`:

    - :math:`\nabla_x D = \mathrm{Re}\,F^H(W\odot r) = Hx - b`,
      :math:`b = \mathrm{Re}\,F^H(W\odot y)`;
    - :math:`\nabla_x^2 D = H = \mathrm{Re}\,F^H W F`;
    - :math:`\partial_\theta D = P^T(s\odot|r|^2)`;
    - :math:`\partial_\theta\nabla_x D\,\delta\theta =
      \mathrm{Re}\,F^H(2s\odot P\delta\theta\odot r)`, with adjoint
      :math:`v \mapsto P^T\big(2s\odot\mathrm{Re}(\bar r\odot Fv)\big)`.

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Real unit-cell space :math:`X` (float32 or float64).
    data : array-like
        Complex k-space data :math:`y` of shape ``space.shape`` (copied as
        complex128).
    theta : array-like
        Parameters :math:`\theta` (``sampling.domain.size`` entries, or one per
        pixel for the free pattern) with :math:`P\theta\in[0,1]`.
    sampling : odl.Operator, optional
        Linear :math:`P` with ``range.shape == space.shape``; ``None`` is the
        free pattern.
    impl, threads, planner_effort
        FFT options as in :class:`~odl_bilevel.operators.UnitaryDFT`.

    Raises
    ------
    TypeError
        If ``space``, ``sampling`` or ``data`` has the wrong type.
    ValueError
        If ``data`` or ``theta`` has the wrong shape or holds NaN/Inf, or
        :math:`P\theta` leaves :math:`[0, 1]`.

    Notes
    -----
    For real :math:`x` the spectrum :math:`Fx` is Hermitian, and
    :math:`\mathrm{Re}\,F^H(W\odot Fx) = F^H(W_{\rm sym}\odot Fx)` with
    :math:`W_{\rm sym,k} = (W_k + W_{-k})/2`. The right-hand side is a real
    Fourier multiplier, applied with one r2c/c2r FFT pair on half of the
    spectrum; :math:`W_{\rm sym}` and :math:`b` are computed once at
    construction. Hence :math:`\lambda(H) = \{W_{\rm sym,k}\}`: the
    gradient Lipschitz constant is :math:`\max W_{\rm sym}\le\max s^2` and the
    strong-convexity modulus :math:`\min W_{\rm sym}\ge\min s^2` (both exact).
    The value, :math:`\partial_\theta D` and the mixed derivative use full
    complex FFTs in double precision (they are not on the hot path).

    Lipschitz constants in :math:`x` (for hypergradient error bounds): the
    Hessian :math:`H` does not depend on :math:`x`, so
    :attr:`hessian_lipschitz` is 0. For the mixed derivative,
    :math:`(C(x) - C(z))\delta = \mathrm{Re}\,F^H\big(2s\odot P\delta\odot F(x-z)\big)`;
    :math:`\mathrm{Re}` is a contraction and :math:`F` is unitary, so

    .. math::
        \|(C(x) - C(z))\delta\| \le 2\max_j s_j\,\max_j|(P\delta)_j|\,\|x - z\|
        \le 2\max_j s_j\;\rho_P\,\|\delta\|\,\|x - z\|,

    with :math:`\rho_P = \max_j\|P^Te_j\|` the largest row norm of
    :math:`P` (Cauchy-Schwarz on :math:`(P\delta)_j = \langle P^Te_j,
    \delta\rangle`). :math:`\rho_P = 1` for the free pattern and for
    :class:`~odl_bilevel.operators.CartesianSampling` (one 1 per row); for
    other maps :math:`\rho_P \le \|P\|` is used
    (``sampling.norm(estimate=False)``, ``nan`` if not available). Hence
    :attr:`mixed_lipschitz` :math:`= 2\rho_P\max_j s_j \le 2\rho_P`.

    References
    ----------
    F. Sherry et al., "Learning the sampling pattern for MRI", IEEE Trans.
    Med. Imaging 39(12):4310-4321, 2020.
    M. Frigo and S. G. Johnson, "The design and implementation of FFTW3",
    Proc. IEEE 93(2):216-231, 2005.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.operators import CartesianSampling, unit_cell_space
    >>> from odl_bilevel.testing import check_hessian, check_param_derivative
    >>> X = unit_cell_space((8, 8))
    >>> y = np.fft.fftn(np.ones((8, 8)), norm="ortho")
    >>> f = SampledDataFit(X, y, np.full(8, 0.5), sampling=CartesianSampling((8, 8)))
    >>> round(f(X.one()), 12), round(f.grad_lipschitz, 6), f.param_names
    (0.0, 0.25, ('line_weights',))
    >>> check_hessian(f, rng=0).passed, check_param_derivative(f, rng=0).passed
    (True, True)
    """

    def __init__(self, space, data, theta, *, sampling=None, impl="pyfftw", threads=1,
                 planner_effort="FFTW_MEASURE"):
        require_unit_cell_space(space)
        impl, threads, planner_effort = _check_fft_options(impl, threads, planner_effort)
        self._opts = {"impl": impl, "threads": threads, "planner_effort": planner_effort}
        shape = space.shape
        if sampling is None:
            pshape, names = shape, ("s",)
        else:
            if not isinstance(sampling, odl.Operator) or not sampling.is_linear:
                raise TypeError(f"`sampling` must be a linear odl.Operator, got {sampling!r}")
            if tuple(sampling.range.shape) != tuple(shape):
                raise ValueError(
                    f"`sampling` must map onto shape {shape}, got range {sampling.range}"
                )
            pshape = tuple(sampling.domain.shape)
            names = ("line_weights",) if isinstance(sampling, CartesianSampling) else ("theta",)
        self._sampling = sampling
        self._y = _kspace_data(data, shape)
        theta = np.asarray(theta.data if hasattr(theta, "space") else theta)
        if theta.dtype.kind not in "fiu":
            raise TypeError(f"`theta` must be real-valued, got dtype {theta.dtype}")
        if theta.size != int(np.prod(pshape)):
            raise ValueError(f"`theta` must have {int(np.prod(pshape))} entries, got {theta.size}")
        theta = np.array(theta, dtype=float).reshape(pshape)
        if not np.all(np.isfinite(theta)):
            raise ValueError("`theta` contains NaN or Inf")
        s = self._apply_sampling(theta)
        if s.min() < 0 or s.max() > 1:
            raise ValueError(
                f"`theta` must give sampling weights s = P theta in [0, 1], "
                f"got values in [{s.min():.3g}, {s.max():.3g}]"
            )
        s.flags.writeable = False
        self._s = s
        w = s * s
        w_sym = 0.5 * (w + _flip_k(w))
        w_sym.flags.writeable = False
        self._w_sym = w_sym
        self._w_sym_min = float(w_sym.min())
        half = shape[-1] // 2 + 1
        # 1/N of the unnormalised FFT pair folded into the multiplier
        self._w_half = np.ascontiguousarray(w_sym[..., :half] / w.size).astype(space.dtype)
        self._b = _unitary_fftn(w * self._y, inverse=True).real.astype(space.dtype)
        super().__init__(space, theta.ravel(), param_names=names,
                         grad_lipschitz=float(w_sym.max()))
        self._hessian = _SampledHessian(self)
        self._gradient = _SampledGradient(self)

    def _apply_sampling(self, theta):
        if self._sampling is None:
            return np.array(theta, dtype=float)
        p = self._sampling
        return np.array(p(p.domain.element(theta.reshape(p.domain.shape))).data, dtype=float)

    def _apply_sampling_adjoint(self, g):
        if self._sampling is None:
            return np.asarray(g, dtype=float).ravel()
        adj = self._sampling.adjoint
        return np.asarray(adj(adj.domain.element(g)).data, dtype=float).ravel()

    @property
    def weights(self):
        """Per-pixel sampling weights :math:`s = P\\theta` (read-only float64 array)."""
        return self._s

    @property
    def sampling(self):
        """The sampling map :math:`P` (``None`` for the free pattern)."""
        return self._sampling

    @property
    def data(self):
        """The k-space data :math:`y` (read-only complex128 array)."""
        return self._y

    @property
    def strong_convexity(self):
        return self._w_sym_min

    @property
    def hessian_lipschitz(self):
        r"""0: the Hessian :math:`\mathrm{Re}\,F^HS^2F` does not depend on :math:`x`."""
        return 0.0

    @property
    def mixed_lipschitz(self):
        r""":math:`2\rho_P\max_j s_j` (see the class notes; :math:`\rho_P = 1` for lines/free)."""
        return 2.0 * float(self._s.max()) * self._row_norm_bound()

    def _row_norm_bound(self):
        r""":math:`\rho_P \ge \max_j\|P^Te_j\|` (1 for the free and Cartesian patterns)."""
        p = self._sampling
        if p is None or isinstance(p, CartesianSampling | odl.IdentityOperator):
            return 1.0
        try:
            return float(p.norm(estimate=False))
        except (NotImplementedError, ValueError, TypeError):
            return float("nan")

    def _with_params(self, theta):
        return SampledDataFit(self.domain, self._y, theta, sampling=self._sampling, **self._opts)

    def _residual(self, x):
        """:math:`r = Fx - y` (complex128, full spectrum)."""
        return _unitary_fftn(x.data) - self._y

    def _call(self, x):
        r = self._residual(x)
        return 0.5 * float(np.sum(self._s**2 * (r.real**2 + r.imag**2)))

    @property
    def gradient(self):
        r""":math:`\nabla_x D = Hx - b`; ``derivative(x)`` is :math:`H = \mathrm{Re}\,F^HS^2F`."""
        return self._gradient

    def param_gradient(self, x):
        r"""Return :math:`\partial_\theta D = P^T(s\odot|Fx-y|^2)`."""
        x = require_element(x, self.domain, "x")
        r = self._residual(x)
        g = self._s * (r.real**2 + r.imag**2)
        return self.param_space.element(self._apply_sampling_adjoint(g))

    def mixed_derivative(self, x):
        r"""Return :math:`\delta\theta\mapsto\mathrm{Re}\,F^H(2s\odot P\delta\theta\odot r)`."""
        x = require_element(x, self.domain, "x")
        c = 2.0 * self._s * self._residual(x)
        shape = self.domain.shape

        def forward(dtheta, out):
            ds = self._apply_sampling(dtheta.reshape(self._params_shape())).reshape(shape)
            np.copyto(out.data, _unitary_fftn(c * ds, inverse=True).real, casting="unsafe")

        def backward(v, out):
            fv = _unitary_fftn(v.data)
            out[:] = self._apply_sampling_adjoint(fv.real * c.real + fv.imag * c.imag)

        return ParamLinearOperator(self.param_space, self.domain, forward, backward)

    def _params_shape(self):
        return self.domain.shape if self._sampling is None else self._sampling.domain.shape

    def fourier_symbol(self, x):
        r"""Exact: the Hessian is :math:`\mathrm{Re}\,F^HS^2F = F^H\mathrm{diag}(W_{\rm sym})F`.

        :math:`W_{{\rm sym},k} = (s_k^2 + s_{-k}^2)/2` (real images: a frequency
        and its mirror carry the same information).
        """
        return self._w_sym

    def fourier_majorant(self):
        r"""Exact: the constant Hessian's symbol :math:`W_{\rm sym}` (:meth:`fourier_symbol`)."""
        return self._w_sym


class _SampledGradient(odl.Operator):
    r""":math:`x\mapsto Hx - b` with one r2c/c2r pair on cached buffers."""

    def __init__(self, func):
        super().__init__(func.domain, func.domain)
        self._w_half = func._w_half
        self._b = func._b
        self._opts = func._opts
        self._hessian = func._hessian

    def _call(self, x, out):
        filt = _half_spectrum_filter(x.shape, x.dtype, **self._opts)
        np.subtract(filt.apply(x.data, self._w_half), self._b, out=out.data)

    def derivative(self, x):
        r"""The Hessian :math:`H = \mathrm{Re}\,F^H S^2 F` (independent of ``x``)."""
        return self._hessian


class _SampledHessian(HessianOperator):
    r""":math:`v\mapsto \mathrm{Re}\,F^H S^2 F v = c2r(W_{\rm sym}\odot r2c\,v)/N`."""

    def __init__(self, func):
        super().__init__(func.domain)
        self._w_half = func._w_half
        self._opts = func._opts

    def _call(self, v, out):
        filt = _half_spectrum_filter(v.shape, v.dtype, **self._opts)
        np.copyto(out.data, filt.apply(v.data, self._w_half))
