r"""Fields-of-experts regulariser :math:`F(x;c,w)=\sum_k w_k\sum_i\rho((k_k*x)_i)`."""

import numpy as np
import odl

from .._validation import require_positive, require_unit_cell_space
from ..operators import FilterBank
from ._base import HessianOperator, ParametrisedFunctional, ParamLinearOperator

__all__ = ["FieldsOfExperts"]


# -- potentials: value, first and second derivative on raw arrays ------------
def _log_rho(t, nu):
    return np.log1p((t / nu) ** 2)


def _log_d1(t, nu, out):
    # 2 t / (nu^2 + t^2)
    np.multiply(t, t, out=out)
    out += nu * nu
    np.divide(t, out, out=out)
    out *= 2.0


def _log_d2(t, nu, out):
    # 2 (nu^2 - t^2) / (nu^2 + t^2)^2
    t2 = t * t
    np.add(t2, nu * nu, out=out)
    out *= out
    np.divide(nu * nu - t2, out, out=out)
    out *= 2.0


def _charb_rho(t, nu):
    return np.sqrt(t * t + nu * nu)


def _charb_d1(t, nu, out):
    # t / sqrt(t^2 + nu^2)
    np.multiply(t, t, out=out)
    out += nu * nu
    np.sqrt(out, out=out)
    np.divide(t, out, out=out)


def _charb_d2(t, nu, out):
    # nu^2 / (t^2 + nu^2)^(3/2)
    np.multiply(t, t, out=out)
    out += nu * nu
    out **= 1.5
    np.divide(nu * nu, out, out=out)


# name -> (rho, rho', rho'', max |rho''| as a function of nu)
_POTENTIALS = {
    "log": (_log_rho, _log_d1, _log_d2, lambda nu: 2.0 / nu**2),
    "charbonnier": (_charb_rho, _charb_d1, _charb_d2, lambda nu: 1.0 / nu),
}


class FieldsOfExperts(ParametrisedFunctional):
    r"""Fields of experts :math:`F(x;c,w) = \sum_{k=1}^K w_k \sum_i \rho\big((k_k * x)_i\big)`.

    The parameters are :math:`\theta = (c, w)`: the coefficients :math:`c` of
    all kernels :math:`k_k` (flattened row-major, kernel after kernel) and the
    weights :math:`w \in \mathbb{R}^K_{\ge 0}`; ``param_names`` is
    ``("filters", "weights")``. The potential is smooth,

    - ``"log"`` (Student-t): :math:`\rho(t) = \log(1 + t^2/\nu^2)`,
      :math:`\rho'(t) = 2t/(\nu^2+t^2)`,
      :math:`\rho''(t) = 2(\nu^2-t^2)/(\nu^2+t^2)^2 \in [-1/(4\nu^2), 2/\nu^2]`
      (nonconvex);
    - ``"charbonnier"``: :math:`\rho(t) = \sqrt{t^2+\nu^2}`,
      :math:`\rho'(t) = t/\sqrt{t^2+\nu^2}`,
      :math:`\rho''(t) = \nu^2/(t^2+\nu^2)^{3/2} \in (0, 1/\nu]` (convex).

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Unit-cell real space :math:`X` (1-D or 2-D).
    filters : array-like
        Kernels, shape ``(K,) + kernel_shape`` (odd sizes), e.g.
        :func:`odl_bilevel.operators.dct_filters`.
    weights : array-like
        Non-negative expert weights, shape ``(K,)``.
    potential : {"log", "charbonnier"}
        The potential :math:`\rho`.
    nu : float
        Scale :math:`\nu > 0` of the potential (fixed, not learned).
    boundary : {"periodic", "zero"}
        Boundary of the filter bank (:class:`~odl_bilevel.operators.FilterBank`).

    Raises
    ------
    ValueError
        ``nu <= 0``, negative or NaN weights, wrong ``weights`` or ``filters``
        shapes, NaN filters or unknown ``potential``.
    TypeError
        Non-real ``filters``/``weights``, or not a unit-cell ``space``.

    Notes
    -----
    With :math:`z_k = K_k x` (:math:`K_k x = k_k * x`):

    - gradient :math:`\nabla_x F = \sum_k w_k K_k^T \rho'(z_k)`;
    - Hessian :math:`\nabla_x^2 F = \sum_k w_k K_k^T\,\mathrm{diag}(\rho''(z_k))\,K_k`,
      symmetric, indefinite for the log potential; ``strong_convexity`` is 0;
    - :math:`\partial_{w_k} F = \sum_i \rho(z_{k,i})` and
      :math:`\partial_c F = D_x^T(w\odot\rho'(z))`, with
      :math:`D_x\,\delta c = (\delta k_k * x)_k` the filter derivative;
    - mixed derivative: differentiating :math:`\nabla_x F` in :math:`w` gives
      :math:`\delta w \mapsto \sum_k \delta w_k K_k^T\rho'(z_k)`, and in :math:`c`
      (product rule on :math:`K_k^T` and on :math:`z_k`)
      :math:`\delta c \mapsto \sum_k w_k\,\delta K_k^T \rho'(z_k)
      + K^T\big(w\odot\rho''(z)\odot D_x\delta c\big)`.
      Its adjoint, from :math:`\langle \delta K_k^T u_k, v\rangle =
      \langle u_k, \delta k_k * v\rangle`, is
      :math:`v \mapsto \big(D_v^T(w\odot\rho'(z)) + D_x^T(w\odot\rho''(z)\odot Kv),\;
      (\langle\rho'(z_k), K_k v\rangle)_k\big)`.

    ``grad_lipschitz`` is :math:`\sum_k w_k \|k_k\|_1^2 \max|\rho''|`, since
    :math:`\|K_k\| \le \|k_k\|_1` (Young). ``hessian_lipschitz`` and
    ``mixed_lipschitz`` are left unknown (``nan``, the base-class default):
    the energy is nonconvex for the log potential, so the hypergradient error
    bound, which needs strong convexity, does not apply anyway.

    The functional and its gradient reuse work buffers (not thread-safe).

    References
    ----------
    S. Roth and M. J. Black, "Fields of Experts", IJCV 82 (2009) 205-229.
    Y. Chen, T. Pock, R. Ranftl and H. Bischof, "Revisiting loss-specific
    training of filter-based MRFs for image restoration", GCPR 2013.
    Y. Chen, R. Ranftl and T. Pock, "Insights into analysis operator learning",
    IEEE TIP 23 (2014).

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.operators import dct_filters, unit_cell_space
    >>> from odl_bilevel.testing import check_param_derivative
    >>> X = unit_cell_space((8, 8))
    >>> f = FieldsOfExperts(X, dct_filters((3, 3)), np.full(8, 0.1), nu=1.0)
    >>> round(f(X.one()), 12), f.params.size, f.param_names  # zero-mean filters: rho(0) = 0
    (0.0, 80, ('filters', 'weights'))
    >>> check_param_derivative(f, rng=0).passed
    True
    """

    def __init__(self, space, filters, weights, *, potential="log", nu=1.0, boundary="periodic"):
        require_unit_cell_space(space)
        if potential not in _POTENTIALS:
            raise ValueError(
                f"`potential` must be one of {sorted(_POTENTIALS)}, got {potential!r}"
            )
        nu = require_positive(nu, "nu")
        bank = FilterBank(space, filters, boundary=boundary)
        n_filters = bank.n_filters
        if np.iscomplexobj(weights):
            raise TypeError("`weights` must be real-valued")
        try:
            w = np.array(weights, dtype=float)
        except (TypeError, ValueError) as err:
            raise TypeError(f"`weights` must be a real array, got {weights!r}") from err
        if w.shape != (n_filters,):
            raise ValueError(f"`weights` must have shape ({n_filters},), got {w.shape}")
        if not np.all(np.isfinite(w)):
            raise ValueError("`weights` contains NaN or Inf")
        if np.any(w < 0):
            raise ValueError(f"`weights` must be non-negative, got minimum {w.min():.3g}")
        rho, d1, d2, d2max = _POTENTIALS[potential]
        l1 = np.abs(bank.filters).reshape(n_filters, -1).sum(axis=1)
        lip = float(np.sum(w * l1**2) * d2max(nu))
        super().__init__(
            space,
            np.concatenate([bank.filters.ravel(), w]),
            param_names=("filters", "weights"),
            grad_lipschitz=lip,
        )
        w.flags.writeable = False
        self._bank = bank
        self._w = w
        self._nu = nu
        self._potential = potential
        self._rho, self._d1, self._d2 = rho, d1, d2
        # weights broadcast against the stacked responses, in the space's dtype
        self._wb = w.astype(space.dtype).reshape((n_filters,) + (1,) * space.ndim)
        self._z = np.empty((n_filters,) + space.shape, dtype=space.dtype)
        self._gradient = _FoEGradient(self)

    # -- properties --------------------------------------------------------
    @property
    def filter_bank(self):
        """The :class:`~odl_bilevel.operators.FilterBank` :math:`K`."""
        return self._bank

    @property
    def filters(self):
        """Kernels, shape ``(K,) + kernel_shape`` (read-only float64)."""
        return self._bank.filters

    @property
    def weights(self):
        """Expert weights :math:`w` (read-only float64)."""
        return self._w

    @property
    def nu(self):
        r"""Scale :math:`\nu` of the potential."""
        return self._nu

    @property
    def potential(self):
        """``"log"`` or ``"charbonnier"``."""
        return self._potential

    def _with_params(self, theta):
        n_coef = self._bank.n_filters * self._bank.kernel_size
        return FieldsOfExperts(
            self.domain,
            theta[:n_coef].reshape(self._bank.filters.shape),
            theta[n_coef:],
            potential=self._potential,
            nu=self._nu,
            boundary=self._bank.boundary,
        )

    # -- value and derivatives ----------------------------------------------
    def _responses(self, x, out=None):
        """Stacked filter responses :math:`z = Kx` (raw array)."""
        out = self._z if out is None else out
        self._bank._apply_raw(np.asarray(x), out)
        return out

    def _call(self, x):
        z = self._responses(x.data)
        per_filter = self._rho(z, self._nu).reshape(len(z), -1).sum(axis=1, dtype=float)
        return float(np.dot(self._w, per_filter))

    @property
    def gradient(self):
        r""":math:`\nabla_x F = \sum_k w_k K_k^T\rho'(K_k x)`; ``derivative`` gives the Hessian."""
        return self._gradient

    def param_gradient(self, x):
        bank = self._bank
        z = self._responses(x.data)
        g_w = self._rho(z, self._nu).reshape(len(z), -1).sum(axis=1, dtype=float)
        u = np.empty_like(z)
        self._d1(z, self._nu, u)
        u *= self._wb
        g_c = np.empty(bank.n_filters * bank.kernel_size)
        bank._coef_adjoint_raw(bank._padded(x.data), u, g_c)
        return self.param_space.element(np.concatenate([g_c, g_w]))

    def mixed_derivative(self, x):
        bank, nu, wb = self._bank, self._nu, self._wb
        xd = np.array(x.data)
        xpad = bank._padded(xd)
        z = self._responses(xd, np.empty_like(self._z))
        r1 = np.empty_like(z)
        self._d1(z, nu, r1)
        wr1 = r1 * wb
        wr2 = np.empty_like(z)
        self._d2(z, nu, wr2)
        wr2 *= wb
        n_coef = bank.n_filters * bank.kernel_size
        kshape = bank.filters.shape
        buf = np.empty_like(z)
        tmp = np.empty(xd.shape, dtype=xd.dtype)
        dw_shape = (bank.n_filters,) + (1,) * xd.ndim

        def forward(dtheta, out):
            dc = dtheta[:n_coef].reshape(kshape)
            dw = dtheta[n_coef:].reshape(dw_shape)
            # u = w rho''(z) (dk * x) + dw rho'(z);  out = K^T u + sum_k dK_k^T (w_k rho'(z_k))
            bank._apply_raw(xd, buf, dc)
            np.multiply(buf, wr2, out=buf)
            np.add(buf, dw * r1, out=buf)
            bank._adjoint_raw(buf, out.data)
            bank._adjoint_raw(wr1, tmp, dc)
            out.data[...] += tmp

        def backward(v, out):
            vd = v.data
            kv = self._responses(vd, buf)
            out[n_coef:] = np.einsum(
                "ki,ki->k", r1.reshape(len(r1), -1), kv.reshape(len(kv), -1), dtype=float
            )
            kv *= wr2
            g1 = np.empty(n_coef)
            bank._coef_adjoint_raw(xpad, kv, g1)
            bank._coef_adjoint_raw(bank._padded(vd), wr1, out[:n_coef])
            out[:n_coef] += g1

        return ParamLinearOperator(self.param_space, self.domain, forward, backward)


class _FoEGradient(odl.Operator):
    r"""Nonlinear operator :math:`x \mapsto \sum_k w_k K_k^T\rho'(K_k x)`."""

    def __init__(self, func):
        super().__init__(func.domain, func.domain, linear=False)
        self._func = func
        self._u = np.empty_like(func._z)

    def _call(self, x, out):
        f = self._func
        z = f._responses(x.data)
        f._d1(z, f._nu, self._u)
        self._u *= f._wb
        f._bank._adjoint_raw(self._u, out.data)

    def derivative(self, x):
        """The Hessian :math:`\\sum_k w_k K_k^T\\mathrm{diag}(\\rho''(K_kx))K_k` at ``x``."""
        return _FoEHessian(self._func, x)


class _FoEHessian(HessianOperator):
    def __init__(self, func, x):
        super().__init__(func.domain)
        self._bank = func._bank
        z = func._responses(x.data, np.empty_like(func._z))
        self._d = np.empty_like(z)
        func._d2(z, func._nu, self._d)
        self._d *= func._wb
        self._buf = z

    def _call(self, v, out):
        buf = self._buf
        self._bank._apply_raw(v.data, buf)
        buf *= self._d
        self._bank._adjoint_raw(buf, out.data)
