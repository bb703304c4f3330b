r"""Nonsmooth TV and TGV² in the saddle-point form of ``odl.solvers.pdhg``.

``odl.solvers.pdhg(z, f, g, L, niter, tau=..., sigma=...)`` solves

.. math::

    \min_z f(z) + g(Lz) \;=\; \min_z \max_y f(z) + \langle Lz, y\rangle - g^*(y)

with the proximal maps of :math:`f` and :math:`g^*`. This module builds the
triple :math:`(f, g, L)` for variational reconstruction with a total
variation (TV) or second-order total generalised variation (TGV²)
regulariser, together with what a solver needs around it: an upper bound on
:math:`\|L\|^2` for the step sizes (:math:`\tau\sigma\|L\|^2<1`) and the
primal-dual gap used as a stopping certificate.

``pdhg`` updates ``z``, ``y`` and ``x_relax`` in place, so a solver can run it
in chunks (passing ``y=`` and ``x_relax=`` every time) and evaluate
:func:`primal_dual_gap` between chunks. It silently ignores misspelt keywords
and needs explicit ``tau=float(...)``, ``sigma=float(...)``
(:meth:`PDHGForm.step_sizes`; DESIGN.md §3.4-3.5).
"""

import dataclasses
from collections.abc import Callable

import numpy as np
import odl

from .._validation import require_positive
from ..operators import NeumannGradient, SymmetrisedGradient

__all__ = ["PDHGForm", "primal_dual_gap", "tgv_pdhg_form", "tv_pdhg_form"]


def _identity(z):
    return z


@dataclasses.dataclass(frozen=True)
class PDHGForm:
    r"""A problem :math:`\min_z f(z) + g(Lz)` ready for ``odl.solvers.pdhg``.

    Attributes
    ----------
    f : odl.functionals.Functional
        Primal term on ``L.domain``, with a ``proximal``.
    g : odl.functionals.Functional
        Term on ``L.range``, with ``convex_conj.proximal``.
    L : odl.Operator
        Linear operator with a (cached) ``adjoint``.
    norm_bound : float
        Upper bound on :math:`\|L\|^2` (squared norm).
    dual_value : callable or None
        ``dual_value(y)`` returns a dual objective value :math:`D(\hat y)
        \le \min_z f(z) + g(Lz)` at a dual-feasible point :math:`\hat y` built
        from ``y``; ``None`` means the generic :math:`-f^*(-L^Ty) - g^*(y)`.
    image : callable
        Maps a primal variable :math:`z` to the reconstructed image (the
        identity for TV, :math:`(x, v) \mapsto x` for TGV).
    """

    f: odl.functionals.Functional
    g: odl.functionals.Functional
    L: odl.Operator
    norm_bound: float
    dual_value: Callable | None = None
    image: Callable = _identity

    @property
    def domain(self):
        """Space of the primal variable :math:`z` (``L.domain``)."""
        return self.L.domain

    @property
    def dual_space(self):
        """Space of the dual variable :math:`y` (``L.range``)."""
        return self.L.range

    def __post_init__(self):
        if not (isinstance(self.L, odl.Operator) and self.L.is_linear):
            raise TypeError(f"`L` must be a linear odl.Operator, got {self.L!r}")
        object.__setattr__(self, "norm_bound", require_positive(self.norm_bound, "norm_bound"))

    def step_sizes(self, *, ratio=1.0, safety=0.99):
        r"""Return PDHG step sizes ``(tau, sigma)`` as Python floats.

        :math:`\sigma = r\tau` and :math:`\tau\sigma\,\mathrm{norm\_bound} = s^2 < 1`.

        Parameters
        ----------
        ratio : float
            :math:`r = \sigma/\tau > 0`.
        safety : float
            :math:`s \in (0, 1)`.
        """
        ratio = require_positive(ratio, "ratio")
        safety = require_positive(safety, "safety")
        if safety >= 1:
            raise ValueError(f"`safety` must be below 1, got {safety}")
        tau = safety / float(np.sqrt(ratio * self.norm_bound))
        return float(tau), float(ratio * tau)

    def primal_objective(self, z):
        r"""Return :math:`P(z) = f(z) + g(Lz)` as a float."""
        return float(self.f(z)) + float(self.g(self.L(z)))

    def dual_objective(self, y):
        r"""Return a dual value :math:`D(y) \le \min P`; see :attr:`dual_value`."""
        if self.dual_value is not None:
            return float(self.dual_value(y))
        lty = self.L.adjoint(y)
        lty *= -1.0
        return -float(self.f.convex_conj(lty)) - float(self.g.convex_conj(y))


def primal_dual_gap(form, z, y):
    r"""Primal-dual gap :math:`G(z, y) = P(z) - D(y) \ge P(z) - \min P \ge 0`.

    With :math:`P(z) = f(z) + g(Lz)` and the dual objective
    :math:`D(y) = -f^*(-L^Ty) - g^*(y)` (weak duality :math:`D \le \min P`),
    :math:`G` bounds the suboptimality of :math:`z` and vanishes exactly at a
    saddle point. For the TV/TGV forms :math:`D` is evaluated at a feasible
    point :math:`\hat y` obtained from :math:`y` (see :func:`tv_pdhg_form`,
    :func:`tgv_pdhg_form`), so :math:`G` is finite at every PDHG iterate.

    Parameters
    ----------
    form : PDHGForm
        The problem.
    z : element of ``form.domain``
        Primal point.
    y : element of ``form.dual_space``
        Dual point.

    Returns
    -------
    float
        :math:`G(z, y)` (may be :math:`+\infty` for generic forms whose dual
        iterate is infeasible; non-negative up to rounding).

    Examples
    --------
    >>> from odl_bilevel.operators import unit_cell_space
    >>> X = unit_cell_space(8)
    >>> y = X.element([0, 0, 0, 0, 1, 1, 1, 1])
    >>> form = tv_pdhg_form(0.5 * odl.functionals.L2NormSquared(X).translated(y), 0.1)
    >>> z, p = X.zero(), form.dual_space.zero()
    >>> tau, sigma = form.step_sizes()
    >>> odl.solvers.pdhg(z, form.f, form.g, form.L, 300, tau=tau, sigma=sigma, y=p)
    >>> round(primal_dual_gap(form, z, p), 8)
    0.0
    >>> [round(float(t), 4) for t in z]   # plateaus move by alpha / 4
    [0.025, 0.025, 0.025, 0.025, 0.975, 0.975, 0.975, 0.975]
    """
    if not isinstance(form, PDHGForm):
        raise TypeError(f"`form` must be a PDHGForm, got {type(form).__name__}")
    if z not in form.domain:
        raise ValueError(f"`z` must be an element of {form.domain}")
    if y not in form.dual_space:
        raise ValueError(f"`y` must be an element of {form.dual_space}")
    return form.primal_objective(z) - form.dual_objective(y)


def _check_data_fit(data_fit):
    if not isinstance(data_fit, odl.functionals.Functional):
        raise TypeError(
            f"`data_fit` must be an odl.functionals.Functional, got {type(data_fit).__name__}"
        )
    try:
        data_fit.proximal  # noqa: B018 - ODL raises if there is no proximal
    except NotImplementedError as err:
        raise ValueError("`data_fit` must have a proximal") from err
    space = data_fit.domain
    if isinstance(space, odl.ProductSpace):
        raise ValueError(f"`data_fit` must act on an image space, got {space}")
    return space


def _project_groups(parts, radius):
    """Project a field (list of arrays) pointwise onto the Euclidean ball of ``radius``."""
    norm = np.sqrt(sum(p.astype(float) ** 2 for p in parts))
    factor = np.minimum(1.0, radius / np.maximum(norm, np.finfo(float).tiny))
    return [(p * factor).astype(p.dtype) for p in parts], float(norm.max())


def _field_blocks(space):
    """Whether ``space`` is a field (False) or a product of fields (True); validated."""
    if not isinstance(space, odl.ProductSpace) or len(space) == 0:
        raise TypeError(f"`space` must be a ProductSpace of images or of fields, got {space}")
    return isinstance(space[0], odl.ProductSpace)


class _GroupNormBase(odl.functionals.Functional):
    """Shared plumbing: blocks of raw component arrays and their pointwise norms."""

    def __init__(self, space, weights):
        self._nested = _field_blocks(space)
        n_blocks = len(space) if self._nested else 1
        weights = [float(w) for w in np.atleast_1d(weights)]
        if len(weights) != n_blocks:
            raise ValueError(f"`weights` must have {n_blocks} entries, got {len(weights)}")
        super().__init__(space, linear=False)
        self._weights = weights
        image = space[0][0] if self._nested else space[0]
        self._norm = np.empty(image.shape, dtype=image.dtype)
        self._tmp = np.empty(image.shape, dtype=image.dtype)

    def _blocks(self, z):
        if self._nested:
            return [[c.data for c in blk] for blk in z]
        return [[c.data for c in z]]

    def _pointwise_norm(self, comps):
        norm, tmp = self._norm, self._tmp
        np.multiply(comps[0], comps[0], out=norm)
        for c in comps[1:]:
            np.multiply(c, c, out=tmp)
            norm += tmp
        np.sqrt(norm, out=norm)
        return norm


class _GroupL1(_GroupNormBase):
    r""":math:`g(z) = \sum_b w_b \sum_i |z_{b,i}|_2` (isotropic/Frobenius group norms)."""

    def _call(self, z):
        return float(
            sum(
                w * float(np.sum(self._pointwise_norm(comps), dtype=float))
                for w, comps in zip(self._weights, self._blocks(z), strict=True)
            )
        )

    @property
    def proximal(self):
        return lambda sigma: _GroupProx(self, float(sigma), project=False)

    @property
    def convex_conj(self):
        return _GroupBallIndicator(self.domain, self._weights)


class _GroupBallIndicator(_GroupNormBase):
    r""":math:`g^*(y) = \iota\{|y_{b,i}|_2 \le w_b\ \forall b, i\}`, up to 100 ulp of slack."""

    def _call(self, y):
        slack = 1.0 + 100 * float(np.finfo(self._norm.dtype).eps)
        for w, comps in zip(self._weights, self._blocks(y), strict=True):
            if float(self._pointwise_norm(comps).max()) > w * slack:
                return np.inf
        return 0.0

    @property
    def proximal(self):
        return lambda sigma: _GroupProx(self, float(sigma), project=True)

    @property
    def convex_conj(self):
        return _GroupL1(self.domain, self._weights)


class _GroupProx(odl.Operator):
    r"""Projection onto the balls (``project``) or group soft-shrinkage by :math:`\sigma w_b`."""

    def __init__(self, func, sigma, project):
        super().__init__(func.domain, func.domain, linear=False)
        self._func = func
        self._sigma = sigma
        self._project = project

    def _call(self, z, out):
        func = self._func
        for w, comps, outs in zip(
            func._weights, func._blocks(z), func._blocks(out), strict=True
        ):
            factor = func._pointwise_norm(comps)
            if self._project:  # z / max(1, |z| / w)
                np.multiply(factor, 1.0 / w, out=factor)
                np.maximum(factor, 1.0, out=factor)
                np.reciprocal(factor, out=factor)
            else:  # z * max(0, 1 - sigma w / |z|)
                np.maximum(factor, np.finfo(factor.dtype).tiny, out=factor)
                np.divide(-self._sigma * w, factor, out=factor)
                factor += 1.0
                np.maximum(factor, 0.0, out=factor)
            for c, o in zip(comps, outs, strict=True):
                np.multiply(c, factor, out=o)


def tv_pdhg_form(data_fit, alpha):
    r"""TV problem :math:`\min_x D(x) + \alpha\|\nabla x\|_{1,2}` as a :class:`PDHGForm`.

    :math:`f = D` (``data_fit``), :math:`L = \nabla` (forward differences,
    Neumann boundary, :class:`~odl_bilevel.operators.NeumannGradient`) and
    :math:`g = \alpha\|\cdot\|_{1,2}`, the isotropic TV
    :math:`\alpha\sum_i |(\nabla x)_i|_2`. ``norm_bound`` is :math:`4d\ge\|\nabla\|^2`.

    Parameters
    ----------
    data_fit : odl.functionals.Functional
        Convex data term on a unit-cell image space with a ``proximal`` and a
        ``convex_conj`` (for the gap), e.g.
        ``0.5 * odl.functionals.L2NormSquared(X).translated(y)`` for denoising.
    alpha : float
        Regularisation weight :math:`\alpha > 0`.

    Returns
    -------
    PDHGForm
        The dual variable is a vector field :math:`p\in X^d`.

    Raises
    ------
    TypeError, ValueError
        If ``data_fit`` is not a functional with a proximal on a unit-cell
        space, or ``alpha`` is not positive.

    Notes
    -----
    The dual problem is :math:`\max_{|p_i|\le\alpha} -D^*(-\nabla^T p)`. The
    gap evaluates it at :math:`\hat p`, the pointwise projection of :math:`p`
    onto the :math:`\alpha`-ball (PDHG's dual iterates are already there up
    to rounding), so :math:`g^*(\hat p)=0` exactly.

    References
    ----------
    L. I. Rudin, S. Osher, E. Fatemi, "Nonlinear total variation based noise
    removal algorithms", Physica D 60 (1992).
    A. Chambolle, T. Pock, "A first-order primal-dual algorithm for convex
    problems with applications to imaging", JMIV 40 (2011).
    """
    space = _check_data_fit(data_fit)
    alpha = require_positive(alpha, "alpha")
    grad = NeumannGradient(space)
    g = _GroupL1(grad.range, [alpha])

    def dual_value(p):
        parts, _ = _project_groups([q.data for q in p], alpha)
        lty = grad.adjoint(grad.range.element(parts))
        lty *= -1.0
        return -float(data_fit.convex_conj(lty))

    return PDHGForm(data_fit, g, grad, float(grad.norm_bound), dual_value)


class _TGVOperator(odl.Operator):
    r"""TGV operator :math:`L(x, v) = (\nabla x - v, \mathcal{E}v)`.

    Adjoint :math:`L^T(p, q) = (\nabla^T p, \mathcal{E}^T q - p)`.
    """

    def __init__(self, grad, sym_grad):
        domain = odl.ProductSpace(grad.domain, grad.range)
        super().__init__(domain, odl.ProductSpace(grad.range, sym_grad.range), linear=True)
        self._grad = grad
        self._sym = sym_grad
        self._adjoint = _TGVAdjoint(self)

    @property
    def adjoint(self):
        return self._adjoint

    def _call(self, z, out):
        self._grad(z[0], out=out[0])
        for o, v in zip(out[0], z[1], strict=True):
            o.data[...] -= v.data
        self._sym(z[1], out=out[1])


class _TGVAdjoint(odl.Operator):
    def __init__(self, op):
        super().__init__(op.range, op.domain, linear=True)
        self._op = op

    @property
    def adjoint(self):
        return self._op

    def _call(self, y, out):
        self._op._grad.adjoint(y[0], out=out[0])
        self._op._sym.adjoint(y[1], out=out[1])
        for o, p in zip(out[1], y[0], strict=True):
            o.data[...] -= p.data


def _tgv_norm_bound(a2, e2):
    r"""Largest eigenvalue of :math:`[[a^2, a], [a, 1 + e^2]]`, a bound on :math:`\|L\|^2`."""
    tr = a2 + 1.0 + e2
    return float(0.5 * (tr + np.sqrt((a2 - 1.0 - e2) ** 2 + 4.0 * a2)))


def tgv_pdhg_form(data_fit, alpha, beta):
    r"""TGV² problem :math:`\min_{x,v} D(x)+\alpha\|\nabla x-v\|_{1,2}+\beta\|\mathcal Ev\|_{1,F}`.

    The joint primal variable is :math:`z = (x, v) \in X \times X^d`;
    :math:`f(x, v) = D(x)` (zero on :math:`v`),
    :math:`L(x, v) = (\nabla x - v, \mathcal{E}v)` with :math:`\nabla` the
    Neumann forward-difference gradient and :math:`\mathcal{E}` the
    backward-difference symmetrised gradient
    (:class:`~odl_bilevel.operators.SymmetrisedGradient`, whose range layout
    makes the pointwise Euclidean norm the Frobenius norm), and
    :math:`g = \alpha\|\cdot\|_{1,2} \oplus \beta\|\cdot\|_{1,F}`.
    ``form.image(z)`` returns :math:`x`.

    Parameters
    ----------
    data_fit : odl.functionals.Functional
        As in :func:`tv_pdhg_form`.
    alpha : float
        Weight :math:`\alpha > 0` of the first-order term.
    beta : float
        Weight :math:`\beta > 0` of the second-order term.

    Returns
    -------
    PDHGForm

    Raises
    ------
    TypeError, ValueError
        As in :func:`tv_pdhg_form`, or if ``beta`` is not positive.

    Notes
    -----
    Norm bound: with :math:`a=\|\nabla\|`, :math:`e=\|\mathcal{E}\|`,
    :math:`\|L(x,v)\|^2 \le (a\|x\|+\|v\|)^2 + e^2\|v\|^2`, a quadratic form in
    :math:`(\|x\|,\|v\|)` with matrix :math:`[[a^2, a],[a, 1+e^2]]`; its
    largest eigenvalue is ``norm_bound`` (:math:`(17+\sqrt{33})/2\approx 11.37`
    in 2-D with :math:`a^2=e^2=8`, as in Bredies et al. 2010).

    Dual: :math:`\max -D^*(-\nabla^Tp)` over :math:`|p_i|\le\alpha`,
    :math:`|q_i|_F\le\beta`, :math:`p=\mathcal{E}^Tq` (from :math:`f` being
    zero on :math:`v`). PDHG's iterates satisfy the last constraint only in
    the limit, so the gap is evaluated at the feasible point
    :math:`\hat q = s\,\Pi_\beta(q)`, :math:`\hat p = \mathcal{E}^T\hat q`, with
    :math:`\Pi_\beta` the pointwise projection and
    :math:`s=\min(1, \alpha/\max_i|(\mathcal{E}^T\Pi_\beta q)_i|)`; at a saddle
    point :math:`s=1` and the gap is 0.

    References
    ----------
    K. Bredies, K. Kunisch, T. Pock, "Total generalized variation", SIAM J.
    Imaging Sci. 3 (2010) 492-526.
    K. Bredies, "Recovering piecewise smooth multichannel images by
    minimization of convex functionals with total generalized variation
    penalty", LNCS 8293 (2014).

    Examples
    --------
    >>> from odl_bilevel.operators import unit_cell_space
    >>> X = unit_cell_space((8, 8))
    >>> form = tgv_pdhg_form(0.5 * odl.functionals.L2NormSquared(X), 0.1, 0.2)
    >>> round(form.norm_bound, 4), len(form.dual_space[1])
    (11.3723, 3)
    """
    space = _check_data_fit(data_fit)
    alpha = require_positive(alpha, "alpha")
    beta = require_positive(beta, "beta")
    grad = NeumannGradient(space)
    sym = SymmetrisedGradient(space)
    op = _TGVOperator(grad, sym)
    f = odl.functionals.SeparableSum(data_fit, odl.functionals.ZeroFunctional(grad.range))
    g = _GroupL1(op.range, [alpha, beta])

    def dual_value(y):
        q, _ = _project_groups([c.data for c in y[1]], beta)
        p = sym.adjoint(sym.range.element(q))
        _, pmax = _project_groups([c.data for c in p], alpha)
        scale = min(1.0, alpha / pmax) if pmax > 0 else 1.0
        lty = grad.adjoint(p)
        lty *= -scale
        return -float(data_fit.convex_conj(lty))

    bound = _tgv_norm_bound(float(grad.norm_bound), float(sym.norm_bound))
    return PDHGForm(f, g, op, bound, dual_value, _image_part)


def _image_part(z):
    return z[0]
