r"""Smoothed second-order total generalised variation on the joint variable :math:`z = (x, v)`."""

import math

import numpy as np
import odl

from .._validation import require_nonnegative, require_positive, require_unit_cell_space
from ..operators import NeumannGradient, SymmetrisedGradient
from ._base import HessianOperator, ParametrisedFunctional
from ._smooth_tv import (
    _apply_pointwise_hessian,
    _columns_operator,
    _hessian_data,
    _hessian_lipschitz,
    _parts,
    _scaled_weights,
    _sq_norm,
)

__all__ = ["SmoothedTGV"]


def _image_space(space):
    """Accept X, or the joint space X^(1+d) built from it; return X."""
    if isinstance(space, odl.ProductSpace):
        if len(space) < 2 or not space.is_power_space or len(space) != 1 + space[0].ndim:
            raise ValueError(
                f"`space` must be the image space X or X^(1+d), got {space}"
            )
        space = space[0]
    return require_unit_cell_space(space)


class SmoothedTGV(ParametrisedFunctional):
    r"""Smoothed TGV² on :math:`z = (x, v) \in X^{1+d}`, :math:`\theta = (\alpha, \beta, \nu)`.

    .. math::

        F(x, v;\alpha,\beta,\nu) = \alpha\sum_j\sqrt{|(\nabla x - v)_j|^2+\nu^2}
            + \beta\sum_j\sqrt{|(\mathcal{E}v)_j|_F^2+\nu^2},

    with :math:`\nabla` the forward-difference
    :class:`~odl_bilevel.operators.NeumannGradient` and :math:`\mathcal{E}` the
    backward-difference :class:`~odl_bilevel.operators.SymmetrisedGradient`
    (Bredies 2014). Minimising jointly over :math:`(x, v)` in the lower-level
    problem realises, as :math:`\nu\to0`,
    :math:`\mathrm{TGV}^2_{\beta,\alpha}(x) = \min_v \alpha\|\nabla x - v\|_1 +
    \beta\|\mathcal{E}v\|_1` (Bredies, Kunisch, Pock 2010).

    **Layout.** The domain is the flat power space
    ``odl.ProductSpace(X, 1 + d)`` (:meth:`joint_space`): part 0 is the image
    :math:`x`, parts :math:`1..d` are the components :math:`v_1..v_d` of the
    vector field (same axis order as :class:`~odl_bilevel.operators.NeumannGradient`'s
    range). :meth:`split` and :meth:`join` convert between :math:`z` and
    :math:`(x, v)`.

    Parameters
    ----------
    space : odl.DiscretizedSpace
        Unit-cell real image space :math:`X` (or the joint space :math:`X^{1+d}`).
    alpha : float
        Weight :math:`\alpha \ge 0` of the first-order term.
    beta : float
        Weight :math:`\beta \ge 0` of the second-order term.
    nu : float
        Smoothing :math:`\nu > 0` (shared by both terms).

    Raises
    ------
    ValueError
        If ``alpha < 0``, ``beta < 0`` or ``nu <= 0`` (naming the argument), or
        ``space`` is not a real unit-cell space (or its joint space).
    TypeError
        If ``space`` is not a discretised/tensor space.

    Notes
    -----
    Write :math:`F = \alpha\Phi(K_1z) + \beta\Phi(K_2z)` with
    :math:`K_1z = \nabla x - v`, :math:`K_2z = \mathcal{E}v`,
    :math:`\Phi(g) = \sum_j\sqrt{|g_j|^2+\nu^2}`, so
    :math:`K_1^Tp = (\nabla^Tp, -p)` and :math:`K_2^Tq = (0, \mathcal{E}^Tq)`.
    With :math:`p = K_1z`, :math:`q = K_2z`, :math:`w_1 = (|p|^2+\nu^2)^{-1/2}`,
    :math:`w_2 = (|q|^2+\nu^2)^{-1/2}` pointwise:

    - :math:`\nabla_zF = \alpha K_1^T(w_1p) + \beta K_2^T(w_2q)
      = (\alpha\nabla^T(w_1p),\ -\alpha w_1p + \beta\mathcal{E}^T(w_2q))`;
    - :math:`\nabla^2_zF = \alpha K_1^T(w_1I - w_1^3pp^T)K_1 +
      \beta K_2^T(w_2I - w_2^3qq^T)K_2`, positive semidefinite, its weights
      precomputed by ``gradient.derivative(z)``;
    - :math:`\|\nabla^2_zF\| \le (\alpha\|K_1\|^2 + \beta\|K_2\|^2)/\nu` with
      :math:`\|K_1\|^2 \le \|\nabla\|^2 + 1 \le 4d+1` (Cauchy-Schwarz) and
      :math:`\|K_2\|^2 \le \|\mathcal{E}\|^2 \le 4d` (:attr:`grad_lipschitz`);
    - :math:`\partial_\alpha F = \Phi(p)`, :math:`\partial_\beta F = \Phi(q)`,
      :math:`\partial_\nu F = \nu(\alpha\sum_jw_{1,j} + \beta\sum_jw_{2,j})`;
    - mixed derivative :math:`\delta_\alpha K_1^T(w_1p) + \delta_\beta K_2^T(w_2q)
      - \delta_\nu\nu(\alpha K_1^T(w_1^3p) + \beta K_2^T(w_2^3q))`;
    - Lipschitz constants in :math:`z`, term by term as for
      :class:`~odl_bilevel.functionals.SmoothedTV` (derivation in the notes of
      ``odl_bilevel.functionals._smooth_tv``: :math:`\|D^3\phi_\nu\| \le c_3/\nu^2`,
      :math:`c_3 = 48/(25\sqrt5)`; :math:`wg` is :math:`1/\nu`- and
      :math:`\nu w^3g` is :math:`1/\nu^2`-Lipschitz), with :math:`N_1 = 4d+1
      \ge \|K_1\|^2`, :math:`N_2 = 4d \ge \|K_2\|^2` and the pointwise bounds
      :math:`\kappa_1 = \sqrt{d+2}` (the group :math:`(\nabla x - v)_j` is
      :math:`Mz` with :math:`MM^T = 2I + \mathbb{1}\mathbb{1}^T`) and
      :math:`\kappa_2 = \sqrt{N_2} \ge \|K_2\|`:
      :attr:`hessian_lipschitz` :math:`L_B = c_3(\alpha N_1\kappa_1 + \beta N_2\kappa_2)/\nu^2`
      and :attr:`mixed_lipschitz`
      :math:`L_C = \big((N_1/\nu)^2 + (N_2/\nu)^2 + ((\alpha N_1 + \beta N_2)/\nu^2)^2\big)^{1/2}`
      (the three columns bounded separately, then Cauchy-Schwarz in :math:`\delta`).

    Not thread-safe (buffers are owned by the functional).

    References
    ----------
    Bredies, K., Kunisch, K., Pock, T. (2010). Total generalized variation.
    *SIAM J. Imaging Sci.* 3(3), 492-526.

    Bredies, K. (2014). Recovering piecewise smooth multichannel images by
    minimization of convex functionals with total generalized variation penalty.
    LNCS 8293, 44-77.

    Examples
    --------
    >>> import numpy as np
    >>> from odl_bilevel.operators import unit_cell_space
    >>> from odl_bilevel.testing import check_hessian
    >>> X = unit_cell_space((6, 6))
    >>> f = SmoothedTGV(X, alpha=1.0, beta=2.0, nu=0.1)
    >>> f.domain == SmoothedTGV.joint_space(X), len(f.domain)
    (True, 3)
    >>> z = f.join(X.one(), [X.zero(), X.zero()])   # constant image, v = 0
    >>> round(f(z), 6)                             # (alpha + beta) * n * nu
    10.8
    >>> check_hessian(f, rng=0).passed
    True
    """

    def __init__(self, space, alpha=1.0, beta=1.0, nu=0.1):
        space = _image_space(space)
        alpha = require_nonnegative(alpha, "alpha")
        beta = require_nonnegative(beta, "beta")
        nu = require_positive(nu, "nu")
        d = space.ndim
        grad, sym = NeumannGradient(space), SymmetrisedGradient(space)
        lip = (alpha * (grad.norm_bound + 1.0) + beta * sym.norm_bound) / nu
        super().__init__(
            self.joint_space(space),
            [alpha, beta, nu],
            param_names=("alpha", "beta", "nu"),
            grad_lipschitz=lip,
        )
        self._space, self._grad, self._sym = space, grad, sym
        self._alpha, self._beta, self._nu = alpha, beta, nu
        shape, dtype = space.shape, space.dtype
        self._p = np.empty((d, *shape), dtype=dtype)
        self._q = np.empty((len(sym.range), *shape), dtype=dtype)
        self._s = np.empty(shape, dtype=dtype)
        self._tmp = np.empty(shape, dtype=dtype)
        self._gradient = _TGVGradient(self)

    @staticmethod
    def joint_space(space):
        r"""The domain ``odl.ProductSpace(space, 1 + d)`` of :math:`z = (x, v_1, \dots, v_d)`."""
        space = require_unit_cell_space(space)
        return odl.ProductSpace(space, 1 + space.ndim)

    @property
    def image_space(self):
        """The image space :math:`X` (part 0 of the domain)."""
        return self._space

    @property
    def alpha(self):
        r"""First-order weight :math:`\alpha`."""
        return self._alpha

    @property
    def beta(self):
        r"""Second-order weight :math:`\beta`."""
        return self._beta

    @property
    def nu(self):
        r"""Smoothing parameter :math:`\nu`."""
        return self._nu

    def _norm_bounds(self):
        """``(N1, N2, kappa1, kappa2)``: squared-norm and pointwise bounds of K1, K2."""
        d = self._space.ndim
        n1, n2 = self._grad.norm_bound + 1.0, float(self._sym.norm_bound)
        return n1, n2, math.sqrt(d + 2.0), math.sqrt(n2)

    @property
    def hessian_lipschitz(self):
        r""":math:`L_B = c_3(\alpha N_1\kappa_1 + \beta N_2\kappa_2)/\nu^2` (class notes)."""
        n1, n2, k1, k2 = self._norm_bounds()
        return _hessian_lipschitz(self._alpha, self._nu, n1, k1) + _hessian_lipschitz(
            self._beta, self._nu, n2, k2
        )

    @property
    def mixed_lipschitz(self):
        r""":math:`L_C = \|(N_1/\nu,\ N_2/\nu,\ (\alpha N_1+\beta N_2)/\nu^2)\|` (class notes)."""
        n1, n2, _, _ = self._norm_bounds()
        nu = self._nu
        return math.hypot(n1 / nu, n2 / nu, (self._alpha * n1 + self._beta * n2) / nu**2)

    def split(self, z):
        r"""Return ``(x, v)``: views of part 0 and of parts 1..d (an element of :math:`X^d`).

        Both share memory with ``z``.
        """
        return z[0], odl.ProductSpace(self._space, self._space.ndim).element(z.parts[1:])

    def join(self, x, v):
        r"""Return a new element :math:`z = (x, v_1, \dots, v_d)` of the domain (copies)."""
        parts = [x, *v]
        if len(parts) != len(self.domain):
            raise ValueError(f"`v` must have {len(self.domain) - 1} components, got {len(v)}")
        return self.domain.element([np.array(getattr(p, "data", p), copy=True) for p in parts])

    def _with_params(self, theta):
        return SmoothedTGV(self._space, alpha=theta[0], beta=theta[1], nu=theta[2])

    def _kz(self, zs):
        """Fill the buffers with ``p = grad x - v`` and ``q = E v``; return their components."""
        p, q = list(self._p), list(self._q)
        self._grad._apply(zs[0], p)
        for pk, vk in zip(p, zs[1:], strict=True):
            pk -= vk
        self._sym._apply(zs[1:], q)
        return p, q

    def _kt(self, p, q, outs):
        """``outs = K1^T p + K2^T q``; ``p`` or ``q`` may be None (zero)."""
        if p is None:
            outs[0][...] = 0
        else:
            self._grad._apply_adjoint_raw(p, outs[0])
        if q is None:
            for o in outs[1:]:
                o[...] = 0
        else:
            self._sym._apply_adjoint_raw(q, outs[1:])
        if p is not None:
            for o, pk in zip(outs[1:], p, strict=True):
                o -= pk

    def _root_sums(self, comps):
        s = _sq_norm(comps, self._s, self._tmp)
        s += self._nu * self._nu
        np.sqrt(s, out=s)
        return float(np.sum(s, dtype=float)), s

    def _call(self, z):
        p, q = self._kz(_parts(z))
        sum_p, _ = self._root_sums(p)
        sum_q, _ = self._root_sums(q)
        return self._alpha * sum_p + self._beta * sum_q

    @property
    def gradient(self):
        r""":math:`\nabla_zF` (cached operator; ``derivative(z)`` is the Hessian)."""
        return self._gradient

    def param_gradient(self, z):
        r""":math:`(\Phi(p),\ \Phi(q),\ \nu(\alpha\sum w_1 + \beta\sum w_2))`."""
        p, q = self._kz(_parts(z))
        sum_p, s = self._root_sums(p)
        w1 = float(np.sum(np.reciprocal(s, out=s), dtype=float))
        sum_q, s = self._root_sums(q)
        w2 = float(np.sum(np.reciprocal(s, out=s), dtype=float))
        d_nu = self._nu * (self._alpha * w1 + self._beta * w2)
        return self.param_space.element([sum_p, sum_q, d_nu])

    def mixed_derivative(self, z):
        r""":math:`\partial_\theta\nabla_zF` into :math:`X^{1+d}` (exact adjoint)."""
        p, q = (np.array(c) for c in self._kz(_parts(z)))
        w1 = _scaled_weights(list(p), 1.0, self._nu, np.empty_like(self._s), self._tmp)
        w2 = _scaled_weights(list(q), 1.0, self._nu, np.empty_like(self._s), self._tmp)
        new = [np.empty_like(self._s) for _ in range(len(self.domain))]
        cols = [new, [np.empty_like(c) for c in new], [np.empty_like(c) for c in new]]
        wp, wq = p * w1, q * w2
        self._kt(list(wp), None, cols[0])
        self._kt(None, list(wq), cols[1])
        wp *= w1 * w1 * (-self._nu * self._alpha)
        wq *= w2 * w2 * (-self._nu * self._beta)
        self._kt(list(wp), list(wq), cols[2])
        return _columns_operator(self.param_space, self.domain, cols)


class _TGVGradient(odl.Operator):
    r""":math:`z \mapsto \alpha K_1^T(w_1p) + \beta K_2^T(w_2q)` on raw arrays."""

    def __init__(self, func):
        super().__init__(func.domain, func.domain)
        self._f = func

    def _call(self, z, out):
        f = self._f
        p, q = f._kz(_parts(z))
        aw = _scaled_weights(p, f._alpha, f._nu, f._s, f._tmp)
        for c in p:
            c *= aw
        aw = _scaled_weights(q, f._beta, f._nu, f._s, f._tmp)
        for c in q:
            c *= aw
        f._kt(p, q, _parts(out))

    def derivative(self, z):
        """Hessian at ``z`` with pointwise weights precomputed."""
        f = self._f
        p, q = f._kz(_parts(z))
        data_p = _hessian_data(p, f._alpha, f._nu)
        data_q = _hessian_data(q, f._beta, f._nu)
        return _TGVHessian(f, data_p, data_q)


class _TGVHessian(HessianOperator):
    def __init__(self, func, data_p, data_q):
        super().__init__(func.domain)
        self._grad, self._sym = func._grad, func._sym
        self._data_p, self._data_q = data_p, data_q
        self._p = np.empty_like(func._p)
        self._q = np.empty_like(func._q)
        self._t = np.empty_like(func._s)
        self._tmp = np.empty_like(func._s)
        self._kt = func._kt

    def _call(self, dz, out):
        zs = _parts(dz)
        p, q = list(self._p), list(self._q)
        self._grad._apply(zs[0], p)
        for pk, vk in zip(p, zs[1:], strict=True):
            pk -= vk
        self._sym._apply(zs[1:], q)
        _apply_pointwise_hessian(*self._data_p, p, self._t, self._tmp)
        _apply_pointwise_hessian(*self._data_q, q, self._t, self._tmp)
        self._kt(p, q, _parts(out))
